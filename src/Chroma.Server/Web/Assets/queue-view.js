// The Review queue view: the ranking's pages loaded with the chosen filters, their status line, and a new ranking
// offered (or loaded) when the server publishes one.
import { $, el } from "./dom.js";
import { number, decimal, computedText } from "./format.js";
import { state, note } from "./state.js";
import { api } from "./api.js";
import { writeRoute, openSequence } from "./navigation.js";
import { showRecord } from "./record-detail.js";
import { signalBars } from "./signal-bars.js";
import { markCurrent, placeCursor } from "./queue-cursor.js";

["strategy", "diversity", "queue-dataset", "queue-tag", "queue-reviewed"].forEach((id) => $(id).addEventListener("change", () => loadQueue()));
["strategy", "diversity"].forEach((id) => $(id).addEventListener("change", () => writeRoute("replace", openSequence())));

const QUEUE_PAGE = 50;

// An item the server now leaves out of the ranking (reviewed, dismissed, labeled or deleted here), unless reviewed
// records are shown: the next page's offset does not count it.
const leftOut = (item) => !$("queue-reviewed").checked && item.done && !item.done.startsWith("tagged");

// Loads the queue's first page, or (`more`) the page after what is shown, appended.
export async function loadQueue(more) {
  if (!state.setId) {
    // No sets at all (a first run): the same hint as the other views, where the list would be (probe Z, Z1).
    state.queue = []; state.queuePage = null; $("queue-status").textContent = ""; renderQueue();
    $("queue-empty").textContent = "No embedding sets yet: log records with the Chroma client and their review queue appears here (see the Sets view).";
    $("queue-empty").hidden = false;
    return;
  }
  if (more && state.queueLoading) return;
  const offset = more ? state.queue.filter((i) => !leftOut(i)).length : 0;
  const params = new URLSearchParams({ set: state.setId, strategy: $("strategy").value, diversity: $("diversity").value, dataset: $("queue-dataset").value || "production", offset: String(offset), take: String(QUEUE_PAGE) });
  if ($("queue-reviewed").checked) params.append("reviewed", "include");
  if ($("queue-tag").value.includes("=")) params.append("tag", $("queue-tag").value);
  let page;
  if (!more) $("queue-newer").hidden = true; // a new first page is the newest ranking
  state.queueLoading = true;
  try {
    page = await (await api(`/api/queue?${params}`)).json();
  } catch (e) {
    // A filter the server refuses (a dataset it does not have), or the server gone: say why where the queue would be.
    if (!more) { state.queue = []; state.queueIndex = 0; state.queuePage = null; renderQueue(); }
    $("queue-status").textContent = `Could not load the queue: ${e.message}`;
    state.queueFailed = true; // said until a page loads: the status line's tick leaves it
    return;
  } finally { state.queueLoading = false; }
  state.queueFailed = false;
  state.queuePage = page;
  if (more) {
    // The ranking may have moved since the first page (a new scoring pass): an item already shown is not shown twice.
    const shown = new Set(state.queue.map((i) => i.id));
    const added = page.items.filter((i) => !shown.has(i.id));
    const list = $("queue-list"), at = state.queue.length;
    state.queue.push(...added);
    list.append(...added.map((item, j) => queueItem(item, at + j)));
  } else {
    state.queue = page.items;
    state.queueIndex = 0;
    renderQueue();
  }
  queueStatus();
}

// The queue's dataset where the set holds no record of it (a set of training records only), else null: the reason its
// queue is empty (probe Z, Z5).
function missingDataset() {
  const set = state.sets.find((s) => s.setId === state.setId), dataset = $("queue-dataset").value || "production";
  return set && !set.datasets.some((d) => d.name === dataset && d.count > 0) ? dataset : null;
}

// The status line is written again every 5 s, so its "computed … ago" ages as the Sets cards do (probe Z, Z8).
setInterval(() => { if (state.view === "queue" && !$("app").hidden && !state.missingSet && !state.queueFailed) queueStatus(); }, 5000);

// What the list holds against what the ranking has, and what is hidden.
export function queueStatus() {
  const page = state.queuePage;
  if (!page) return;
  if (page.problem) { $("queue-status").textContent = page.problem; return; }
  const hidden = !$("queue-reviewed").checked && page.reviewed ? ` · ${number.format(page.reviewed)} reviewed or dismissed hidden` : "";
  $("queue-status").textContent = `showing ${number.format(state.queue.length)}${page.hasMore ? ", more below" : ""} · ${number.format(page.scored)} scored${hidden} · ${computedText(page)}`;
  const more = $("queue-more");
  more.hidden = !page.hasMore;
  $("queue-empty").hidden = state.queue.length > 0;
  $("queue-empty").textContent = page.failure && page.scored === 0
    ? `Nothing scored yet: the scoring pass failed (${page.failure.message}). The server tries again when the set changes; its log has the details.`
    : page.stale && page.scored === 0
    ? "The ranking is not ready yet (stale): after a restart the server reads its stored scores back, and after new training data it scores again. This list fills in by itself when it is back."
    : page.scored === 0 && missingDataset()
    ? `No ${missingDataset()} records in this set yet: its queue ranks the records logged with dataset \u201c${missingDataset()}\u201d against its training records.`
    : page.scored === 0
    ? "Nothing scored yet: records of this dataset are ranked once the set has training records and a scoring pass has run."
    : "Nothing left to review here: every ranked record is reviewed or dismissed, or the filters match none. Tick \u201cinclude reviewed\u201d to see them.";
}

$("queue-more").addEventListener("click", () => loadQueue(true));
$("queue-newer").addEventListener("click", () => loadQueue());

// A new ranking of the shown set (a scoring pass, or the stored ranking read back after a restart) reloads the queue
// once events have been quiet for a second: one request however many events come. An empty, stale or refused list is
// replaced; a list someone is working keeps its items and place, and a button offers the new ranking.
const QUEUE_REFRESH_MS = 1000;
export function scheduleQueueRefresh() {
  clearTimeout(state.queueRefreshTimer);
  state.queueRefreshSet = state.setId; // a new ranking of this set: not of the one shown when the timer fires
  state.queueRefreshTimer = setTimeout(refreshQueue, QUEUE_REFRESH_MS);
}

function refreshQueue() {
  state.queueRefreshTimer = null;
  // The set changed meanwhile: its queue loads by itself, and the button is not its (probe Z, Z9).
  if (state.view !== "queue" || state.missingSet || state.queueRefreshSet !== state.setId) return;
  if (state.queueLoading) { scheduleQueueRefresh(); return; }
  const page = state.queuePage;
  if (!page || page.stale || page.problem || state.queue.length === 0) { note("queue refresh"); loadQueue(); }
  else $("queue-newer").hidden = false;
}

export function queueItem(item, i) {
  const reviewed = item.reviewState && item.reviewState !== "unreviewed" ? item.reviewState : null;
  const moved = item.scoreRank && item.scoreRank !== i + 1;
  return el("li", { "data-sequence": item.sequence, class: (i === state.queueIndex ? "current " : "") + (item.done ? "done" : ""), onclick: () => { const at = state.queue.indexOf(item), previous = state.queueIndex; state.queueIndex = at; markCurrent(previous); showRecord(item.sequence); } },
    item.preview ? el("img", { class: "thumb large", src: item.preview, alt: "" }) : null,
    el("div", { class: "body" },
      el("div", { class: "head" },
        el("span", { class: "score", title: "combined score" }, decimal.format(item.score)), el("b", { class: "id" }, item.id),
        moved ? el("span", { class: "muted rank", title: "Its place in plain score order: diversity moved it so that different problems come first" }, `score rank ${number.format(item.scoreRank)}`) : null,
        item.predictedClass ? el("span", {}, "predicted ", el("bdi", {}, item.predictedClass)) : null,
        item.label ? el("span", {}, "label ", el("bdi", {}, item.label)) : null,
        reviewed ? el("span", { class: "chip" }, reviewed) : null,
        item.duplicateCount ? el("button", { type: "button", class: "dupes", "aria-expanded": "false", title: "Near-copies collapsed into this entry: list them. Tick \u201cwith near-duplicates\u201d to act on them with it", onclick: (e) => { e.stopPropagation(); toggleCopies(e.currentTarget, item); } }, `+${number.format(item.duplicateCount)} near-duplicates`) : null,
        el("span", { class: "muted state" }, item.done || "")),
      item.inputUri ? el("div", { class: "muted uri" }, item.inputUri) : null,
      el("ul", { class: "reasons" }, item.reasons.map((x) => el("li", {}, x))),
      signalBars(item.signals, 3)));
}

// Lists (or hides again) the ids of the near-copies collapsed into a queue entry, under its head.
function toggleCopies(button, item) {
  const body = button.closest(".body"), open = body.querySelector(".copies");
  button.setAttribute("aria-expanded", String(!open));
  if (open) { open.remove(); return; }
  const ids = item.duplicateIds || [], shown = ids.slice(0, 50), rest = item.duplicateCount - shown.length;
  body.querySelector(".head").after(el("div", { class: "copies muted" },
    el("ul", {}, shown.map((id) => el("li", {}, id))),
    rest > 0 ? el("div", {}, `and ${number.format(rest)} more`) : null));
  placeCursor($("queue-list").children[state.queueIndex]);
}


function renderQueue() {
  const list = $("queue-list");
  list.replaceChildren(...state.queue.map(queueItem));
  $("queue-more").hidden = !state.queuePage?.hasMore;
  $("queue-empty").hidden = state.queue.length > 0 || !state.queuePage;
  const current = list.children[state.queueIndex];
  placeCursor(current);
  if (current) current.scrollIntoView({ block: "nearest" });
  list.focus({ preventScroll: true });
}
