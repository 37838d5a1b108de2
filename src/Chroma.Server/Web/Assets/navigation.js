// Which view shows, and the URL that names it.
import { $, el } from "./dom.js";
import { number } from "./format.js";
import { state } from "./state.js";
import { renderSets, loadSets } from "./sets-view.js";
import { openMap, loadMap, recolor } from "./map-view.js";
import { showRecord, closeDetail } from "./record-detail.js";
import { loadQueue } from "./queue-view.js";

// The URL says what the page shows: #view?set=…&record=… (view: sets, map or queue), and the view's choices where they
// are not the defaults: the map's projection and colour, the queue's strategy and diversity. Each view or set chosen is
// a history entry, so Back and Forward move between them, and a link or a reload opens the same view of the same set
// with the same choices (and the same record's detail). A choice changed in place replaces the current entry.
const VIEW_CHOICES = {
  map: [["projection", "projection", "pca"], ["color", "color-by", "dataset"]],
  queue: [["strategy", "strategy", "balanced"], ["diversity", "diversity", "default"]],
};

function route() {
  const [view, query] = location.hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const shown = ["sets", "map", "queue"].includes(view) ? view : "sets";
  const choices = {};
  for (const [name, , fallback] of VIEW_CHOICES[shown] || []) choices[name] = params.get(name) || fallback;
  return { view: shown, set: params.get("set"), record: Number(params.get("record")) || 0, choices };
}

function routeHash(view, record) {
  const params = new URLSearchParams();
  if (state.setId) params.set("set", state.setId);
  for (const [name, id, fallback] of VIEW_CHOICES[view] || []) if ($(id).value !== fallback) params.set(name, $(id).value);
  if (record) params.set("record", record);
  const query = params.toString();
  return "#" + view + (query ? "?" + query : "");
}

// Sets the view's controls to the URL's choices (an unknown value is left out: the control keeps the default). Returns
// whether the map must be computed again (another projection).
function applyChoices(view, choices) {
  let reproject = false;
  for (const [name, id, fallback] of VIEW_CHOICES[view] || []) {
    const select = $(id);
    const value = [...select.options].some((o) => o.value === choices[name]) ? choices[name] : fallback;
    if (select.value === value) continue;
    select.value = value;
    if (id === "projection") { state.projection = value; reproject = true; }
    if (id === "color-by") recolor(value);
  }
  return reproject;
}

// The open record's sequence (0 when no detail is open), for a choice that rewrites the URL in place.
export const openSequence = () => ($("detail").hidden ? 0 : Number($("detail").dataset.sequence) || 0);

// Writes the current view (and open record) into the URL: a new history entry ("push") or the current one ("replace").
export function writeRoute(how, record) {
  const hash = routeHash(state.view, record);
  if (hash === location.hash) return;
  if (how === "push") history.pushState(null, "", hash); else history.replaceState(null, "", hash);
  state.routed = location.hash;
}

// Shows what the URL names (on start, Back/Forward, or a hash typed or linked).
export function applyRoute(how) {
  if (state.routed === location.hash && how !== "replace") return;
  const r = route();
  if (r.set && !state.sets.some((s) => s.setId === r.set)) { showMissingSet(r.set, r.view); return; }
  if (r.set && r.set !== state.setId) {
    state.setId = r.set;
    state.data = null;
  }
  if (state.setId) $("set-select").value = state.setId; // also after a missing set's page cleared it
  if (applyChoices(r.view, r.choices) && state.data) state.data = null; // openMap computes the other projection
  show(r.view, how === "replace" ? "replace" : "none");
  if (r.record) showRecord(r.record);
}

window.addEventListener("popstate", () => applyRoute("none"));
window.addEventListener("hashchange", () => applyRoute("none"));

document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.view, "push")));

// A link (or a reload) naming a set this server does not hold: say so where the view would be, with the way back. The
// URL is left as it is (the set may still be created: the page looks again when the list of sets changes).
function showMissingSet(setId, view) {
  state.missingSet = setId;
  state.view = view;
  $("set-select").value = ""; // no set of this server is shown
  state.routed = location.hash;
  for (const v of ["sets", "map", "queue"]) $("view-" + v).hidden = true;
  $("detail").hidden = true;
  const box = $("missing-set");
  box.replaceChildren(el("h2", {}, `No embedding set ‘${setId}’ on this server`),
    el("p", {}, "The link names a set this server does not hold: it may be mistyped, or come from another server. ",
      state.sets.length ? `This server holds ${number.format(state.sets.length)} set${state.sets.length === 1 ? "" : "s"}.` : "This server holds no sets yet."),
    el("p", {}, el("a", { href: "#sets" }, "Back to Sets")));
  box.hidden = false;
}

export function show(view, how) {
  state.missingSet = null;
  $("missing-set").hidden = true;
  state.view = view;
  if (how !== "none") writeRoute(how || "push");
  state.routed = location.hash;
  for (const v of ["sets", "map", "queue"]) $("view-" + v).hidden = v !== view;
  document.querySelectorAll("nav button").forEach((b) => {
    b.classList.toggle("active", b.dataset.view === view);
    if (b.dataset.view === view) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  });
  $("detail").hidden = true;
  if (view === "sets") { renderSets(); if (state.setsStale) loadSets(); }
  if (view === "map") openMap();
  if (view === "queue") loadQueue();
}

$("set-select").addEventListener("change", () => {
  // The open record's detail closes first, in the old set's history entry: closed after the set changed, its "replace"
  // wrote the new set over that entry, and Back skipped the old set.
  closeDetail();
  $("toast").hidden = true; // an action on the other set, and its Undo, are not this set's (probe N, N6)
  state.setId = $("set-select").value;
  $("set-select").title = state.setId;
  state.data = null;
  writeRoute("push");
  if (state.missingSet) { show(state.view, "none"); return; }
  if (state.view === "map") loadMap(true);
  if (state.view === "queue") loadQueue();
});
