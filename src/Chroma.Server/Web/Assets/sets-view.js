// The Sets view: one card per embedding set, filtered and paged, kept live.
import { $, el } from "./dom.js";
import { number, decimal, ago, mmd2Text, computedText } from "./format.js";
import { state } from "./state.js";
import { api } from "./api.js";
import { driftChart } from "./drift-chart.js";
import { applyRoute, show } from "./navigation.js";

export async function loadSets() {
  state.setsStale = false;
  state.sets = await (await api("/api/sets")).json();
  const select = $("set-select");
  const first = !state.setId && state.sets.length > 0;
  if (first) state.setId = state.sets[0].setId;
  // The header's set list is rebuilt only when the sets themselves change (a live update every second while someone
  // labels would otherwise repaint the header in the middle of their key presses); the cards only when they show.
  const ids = state.sets.map((s) => s.setId).join("\n");
  if (select.dataset.ids !== ids) {
    select.replaceChildren(...state.sets.map((s) => el("option", { value: s.setId }, s.setId)));
    select.dataset.ids = ids;
  }
  if (state.setId && select.value !== state.setId) select.value = state.setId;
  select.title = state.setId || "";
  if (state.missingSet && state.sets.some((s) => s.setId === state.missingSet)) applyRoute("replace");
  else if (state.view === "sets" && !state.missingSet) renderSets();
  else if (first && state.view !== "sets" && !state.missingSet) show(state.view, "replace"); // the first set came: its map or queue
}


// How many set cards show at first and per "show more": a page of 5,000 cards (115,000 elements, 5,000 charts) kept
// the browser busy for 20 s (probe X, X1). The filter finds the others.
const SETS_PER_PAGE = 60;

export function renderSets() {
  const root = $("view-sets");
  if (!state.sets.length) {
    root.replaceChildren(el("div", { class: "card" }, el("h2", {}, "No embedding sets yet"),
      el("p", {}, "Log records with the Chroma client and they appear here, live: each model, version and layer is a set."),
      el("p", {}, "Point the client at this server's gRPC port (", el("code", {}, "Chroma__Port"), ", 50051 unless configured; this page is on the Studio port). The README's QuickStart shows it end to end: ", el("code", {}, "dotnet run --project samples/Chroma.Samples.QuickStart"), ".")));
    return;
  }
  // The filter box stays in place while the cards under it change, so typing in it keeps its focus.
  if (!$("set-cards")) {
    const filter = el("input", { id: "sets-filter", type: "search", placeholder: "Filter sets by id", "aria-label": "Filter sets by id" });
    filter.value = state.setsFilter || "";
    filter.addEventListener("input", () => { state.setsFilter = filter.value; state.setsLimit = SETS_PER_PAGE; renderSets(); });
    root.replaceChildren(
      el("div", { class: "sets-bar", id: "sets-bar" }, filter, " ", el("span", { class: "muted", id: "sets-count" })),
      el("div", { class: "set-cards", id: "set-cards" }),
      el("div", { class: "sets-more", id: "sets-more" }));
  }
  const needle = (state.setsFilter || "").trim().toLowerCase();
  const matching = needle ? state.sets.filter((s) => s.setId.toLowerCase().includes(needle)) : state.sets;
  const limit = state.setsLimit || SETS_PER_PAGE;
  const shown = matching.slice(0, limit);
  $("sets-bar").hidden = state.sets.length <= SETS_PER_PAGE && !needle;
  $("sets-count").textContent = matching.length === state.sets.length && shown.length === matching.length
    ? `${number.format(state.sets.length)} sets`
    : `showing ${number.format(shown.length)} of ${number.format(matching.length)}${needle ? ` matching (${number.format(state.sets.length)} sets)` : " sets"}`;
  $("set-cards").replaceChildren(...shown.map(setCard));
  const rest = matching.length - shown.length;
  $("sets-more").replaceChildren(...(rest > 0
    ? [el("button", { type: "button", onclick: () => { state.setsLimit = limit + SETS_PER_PAGE; renderSets(); } }, `Show ${number.format(Math.min(rest, SETS_PER_PAGE))} more (${number.format(rest)} not shown)`)]
    : []));
}

// Fetches the named sets' cards again and puts them in place (a live update of a few sets among thousands); the whole
// list when a set came or went, or many changed.
export async function refreshSetCards(ids) {
  if (!ids.length) return;
  if (ids.length > 20 || !$("set-cards")) { await loadSets(); return; }
  const query = ids.map((id) => "set=" + encodeURIComponent(id)).join("&");
  const fresh = await (await api("/api/sets?" + query)).json();
  for (const set of fresh) {
    const i = state.sets.findIndex((s) => s.setId === set.setId);
    if (i < 0) { await loadSets(); return; }
    state.sets[i] = set;
    if (state.view !== "sets") continue;
    const card = [...$("set-cards").children].find((c) => c.dataset.set === set.setId);
    if (card) card.replaceWith(setCard(set));
  }
}

function setCard(s) {
  const last = s.drift[s.drift.length - 1];
  return el("div", { class: "card", "data-set": s.setId },
    el("h2", {}, s.setId),
    el("div", { class: "muted" }, `dimension ${number.format(s.dimension)} · ${s.metric} · ${number.format(s.total)} records · updated ${ago(s.updatedUnixMs)}`),
    el("table", {}, s.datasets.map((d) => el("tr", {}, el("td", {}, d.name), el("td", { class: "n", "data-count": d.name }, number.format(d.count))))),
    el("div", last && last.mmd2 <= 0 ? { class: "drift-text", title: `The estimate was ${decimal.format(last.mmd2)}: MMD² is estimated without bias, so with no measurable drift it can fall below 0` } : { class: "drift-text" }, last ? `Drift MMD² ${mmd2Text(last.mmd2)} (p ${last.pValue < 0.001 ? "< 0.001" : "= " + decimal.format(last.pValue)}), ${s.drift.length} measurement${s.drift.length === 1 ? "" : "s"}` : "Drift: not measured yet"),
    driftChart(s.drift),
    el("div", { class: s.scoring.problem || s.scoring.failure ? "error" : "muted" }, s.scoring.problem
      ? `Scoring: ${s.scoring.problem}`
      : !s.datasets.some((d) => d.name !== "training" && d.count > 0)
      ? "Scores: no production records yet (training records are the reference; production records are scored against them)"
      : `Scores: ${number.format(s.scoring.scored)} scored, ${number.format(s.scoring.pending)} waiting · ${computedText(s.scoring)}`),
    // Labels leave through the CLI (probe Z, Z17): the command, ready to copy.
    el("div", { class: "muted export" }, "Export labels: ", el("code", {}, `chroma-server export-labels --set ${s.setId} --format csv`)),
    el("div", {}, el("button", { type: "button", onclick: () => { state.setId = s.setId; $("set-select").value = s.setId; state.data = null; show("map", "push"); } }, "Open map"), " ",
      el("button", { type: "button", onclick: () => { state.setId = s.setId; $("set-select").value = s.setId; show("queue", "push"); } }, "Review queue")));
}
