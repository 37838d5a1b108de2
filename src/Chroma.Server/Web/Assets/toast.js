// The message at the foot of the page, with an Undo button where the action can be undone.
import { $, el } from "./dom.js";
import { number } from "./format.js";
import { state } from "./state.js";
import { postJson } from "./api.js";
import { loadMap } from "./map-view.js";
import { loadQueue } from "./queue-view.js";

export function toast(text, undo, seconds) {
  const t = $("toast");
  // No undo, no button (replaceChildren would write a null out as the text "null").
  t.replaceChildren(...[el("span", {}, text), undo ? el("button", { type: "button", id: "toast-undo", onclick: () => { t.hidden = true; undo(); } }, "Undo") : null].filter(Boolean));
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, Math.max(5, seconds || 0) * 1000);
}

// Undoes the server actions behind `tokens` (a tag or a delete, within the server's undo window).
export async function undoTokens(tokens, what) {
  let records = 0;
  try {
    for (const token of tokens) records += (await postJson("/api/undo", { token })).records;
    toast(`Undone: ${what} of ${number.format(records)} records`);
  } catch (e) { toast(`Could not undo: ${e.message}`); }
  if (state.view === "map" && state.data) loadMap(true);
  if (state.view === "queue") loadQueue();
}
