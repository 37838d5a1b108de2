// Chroma Studio: sets, the embedding map, the review queue and record details, kept live by server-sent events.
"use strict";

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat();
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
const significant = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 2 });
const collator = new Intl.Collator(undefined, { numeric: true });
// Twenty categorical colours (Tableau 10, then lighter partners; the light grey swapped for a dark blue so "none" stays
// unique, and that dark blue put eleventh, where a set with one class more than ten, an "outlier" say, finds it: the
// light blue it replaces there was hard to tell from "none"); categories past the twentieth share OTHER and one legend
// line, so no two categories ever look alike.
const PALETTE = [[31,119,180],[255,127,14],[44,160,44],[214,39,40],[148,103,189],[140,86,75],[227,119,194],[23,190,207],[188,189,34],[127,127,127],
  [57,59,121],[255,187,120],[152,223,138],[255,152,150],[197,176,213],[196,156,148],[247,182,210],[158,218,229],[219,219,141],[174,199,232]];
const OTHER = [60, 60, 60];
const NONE = [200, 204, 212];
// Colour of category j of a column (1-based; 0 = no value).
const categoryColor = (j) => j === 0 ? NONE : j <= PALETTE.length ? PALETTE[j - 1] : OTHER;

const state = {
  sets: [], setId: null, view: "sets", colorBy: "dataset", tool: "pan", projection: "pca",
  map: null, data: null, selected: new Uint8Array(0), selectedCount: 0,
  queue: [], queueIndex: 0, undoStack: [], lastEvent: null, events: null, eventLog: [],
};
const note = (what) => { state.eventLog.push([Math.round(performance.now()), what]); if (state.eventLog.length > 50) state.eventLog.shift(); };
window.studio = state; // read by the browser tests and by people poking at the console

function ago(ms) {
  if (!ms) return "never";
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleString();
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function api(path, options) {
  let response;
  try {
    response = await fetch(path, Object.assign({ credentials: "same-origin" }, options));
  } catch {
    // The browser's own text ("Failed to fetch", "NetworkError when attempting to fetch resource") says nothing useful.
    const write = options && options.method && options.method !== "GET";
    throw new Error("the server cannot be reached (stopped or restarting?)" + (write ? ", so nothing was saved" : ""));
  }
  if (response.status === 401) {
    // The session ended (it expired, or the server's key changed) while the page was open: say so, and that the
    // action that met it was not done.
    const write = options && options.method && options.method !== "GET";
    sessionEnded(write ? "Your session ended, so the last action was not saved. Sign in again to go on." : SESSION_ENDED);
    throw new Error("signed out");
  }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error || message; } catch { /* not JSON */ }
    throw Object.assign(new Error(message), { status: response.status });
  }
  return response;
}

// A map selection can be larger than one action may carry (Chroma:Limits:MaxBatchRecords, 10,000 by default): send it in parts.
async function postSelection(path, body, sequences) {
  const total = { changed: 0, skipped: 0, missing: 0, already: 0, undo: [], undoSeconds: 0 };
  for (let i = 0; i < sequences.length; i += 5000) {
    const r = await postJson(path, Object.assign({}, body, { sequences: sequences.slice(i, i + 5000) }));
    total.changed += r.changed; total.skipped += r.skipped || 0; total.missing += r.missing || 0; total.already += r.already || 0;
    if (r.undo) { total.undo.push(r.undo); total.undoSeconds = r.undoSeconds; }
  }
  return total;
}

const postJson = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());

// A record as toasts name it. A 36-character id wrapped a phone's toast onto five lines; the default ids are UUIDv7,
// whose first characters are the time (shared by records logged together), so the end is what tells two apart.
const shortId = (id) => (id.length > 16 ? "…" + id.slice(-8) : id);

function toast(text, undo, seconds) {
  const t = $("toast");
  // No undo, no button (replaceChildren would write a null out as the text "null").
  t.replaceChildren(...[el("span", {}, text), undo ? el("button", { type: "button", id: "toast-undo", onclick: () => { t.hidden = true; undo(); } }, "Undo") : null].filter(Boolean));
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, Math.max(5, seconds || 0) * 1000);
}

// Undoes the server actions behind `tokens` (a tag or a delete, within the server's undo window).
async function undoTokens(tokens, what) {
  let records = 0;
  try {
    for (const token of tokens) records += (await postJson("/api/undo", { token })).records;
    toast(`Undone: ${what} of ${number.format(records)} records`);
  } catch (e) { toast(`Could not undo: ${e.message}`); }
  if (state.view === "map" && state.data) loadMap(true);
  if (state.view === "queue") loadQueue();
}

// ---- sign-in ----
const SESSION_ENDED = "Your session ended (the server's API key changed, or the session expired). Sign in again to go on.";

// The sign-in page with why it shows, where the app was open (a page opened signed out just asks for the key).
function sessionEnded(message) {
  const signedIn = !$("app").hidden;
  showSignIn();
  if (signedIn) $("signin-error").textContent = message;
}

function showSignIn() {
  $("app").hidden = true;
  $("signin").hidden = false;
  if (state.events) { state.events.close(); state.events = null; }
  clearTimeout(connectEvents.timer);
  $("signin-key").focus();
}

$("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("signin-error").textContent = "";
  const response = await fetch("/api/session", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ key: $("signin-key").value }) });
  $("signin-key").value = "";
  if (response.status === 429) {
    let message = "Too many wrong keys: wait a minute and try again.";
    try { message = `${(await response.json()).error}.`; } catch { /* not JSON */ }
    $("signin-error").textContent = message.charAt(0).toUpperCase() + message.slice(1);
    return;
  }
  if (!response.ok) { $("signin-error").textContent = "That key was not accepted."; return; }
  start(true);
});

$("signout").addEventListener("click", async () => {
  const response = await fetch("/api/session", { method: "DELETE", credentials: "same-origin" });
  showSignIn();
  if (!response.ok) {
    // Signed out in this browser and on this server, but the sign-out was not stored: say what that leaves open.
    let message = "signed out here, but the sign-out could not be stored";
    try { message = (await response.json()).error || message; } catch { /* not JSON */ }
    $("signin-error").textContent = `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
  }
});

async function boot() {
  const session = await (await fetch("/api/session", { credentials: "same-origin" })).json();
  if (session.keyRequired && !session.signedIn) { showSignIn(); return; }
  start(session.keyRequired);
}

async function start(keyRequired) {
  $("signin").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = !keyRequired;
  await loadSets();
  connectEvents();
  applyRoute("replace");
}

// ---- navigation ----
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
const openSequence = () => ($("detail").hidden ? 0 : Number($("detail").dataset.sequence) || 0);

// Writes the current view (and open record) into the URL: a new history entry ("push") or the current one ("replace").
function writeRoute(how, record) {
  const hash = routeHash(state.view, record);
  if (hash === location.hash) return;
  if (how === "push") history.pushState(null, "", hash); else history.replaceState(null, "", hash);
  state.routed = location.hash;
}

// Shows what the URL names (on start, Back/Forward, or a hash typed or linked).
function applyRoute(how) {
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

// Opens a record's detail; a failure (the server stopped, the record deleted) is said in a toast, never left uncaught.
// `how`: "push" makes it a history entry of its own (a neighbour drilled into: Back returns to the record it was opened
// from, probe Z, Z12); otherwise it replaces the current one.
function showRecord(sequence, how) {
  openRecord(sequence, how).catch((e) => toast(`Could not open record ${sequence}: ${e.message}`));
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

function show(view, how) {
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

// ---- sets ----
async function loadSets() {
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

// Drift (MMD²) over time: the line from zero to the largest value measured (labelled on the axis), the first and last
// times under it, a filled dot where the change was significant (p < 0.05) and an open one where it was not.
function driftChart(drift) {
  const w = 320, h = 78, left = 52, top = 6, bottom = 18, plotH = h - top - bottom;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", h); svg.setAttribute("role", "img"); svg.setAttribute("class", "drift");
  if (drift.length < 1) { svg.setAttribute("aria-label", "drift: not measured yet"); return svg; }
  const node = (tag, attrs, text) => {
    const n = document.createElementNS(svg.namespaceURI, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  // MMD² estimates are unbiased and so can fall slightly below 0 (no drift measurable): the chart counts them as 0,
  // as the CLI report does, and its top is at least 0.001 so its labels never read "0" at both ends.
  const max = Math.max(...drift.map((d) => d.mmd2), 0.001);
  const t0 = drift[0].computedUnixMs, t1 = Math.max(drift[drift.length - 1].computedUnixMs, t0 + 1);
  const x = (t) => drift.length === 1 ? left + (w - left - 4) / 2 : left + (w - left - 4) * (t - t0) / (t1 - t0);
  const pts = drift.map((d) => [x(d.computedUnixMs), top + plotH - plotH * Math.max(0, d.mmd2) / max]);
  node("line", { x1: left, y1: top, x2: left, y2: top + plotH, stroke: "#98a2b3" });
  node("line", { x1: left, y1: top + plotH, x2: w - 4, y2: top + plotH, stroke: "#98a2b3" });
  node("text", { x: left - 4, y: top + 8, "text-anchor": "end" }, significant.format(max));
  node("text", { x: left - 4, y: top + plotH, "text-anchor": "end" }, "0");
  // Local time, its zone named ("UTC", "GMT+1"): a reader comparing with server logs knows which clock it is.
  const when = (ms) => new Date(ms).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  node("text", { x: left, y: h - 4 }, when(t0));
  if (drift.length > 1) node("text", { x: w - 4, y: h - 4, "text-anchor": "end" }, when(t1));
  if (pts.length > 1) node("polyline", { points: pts.map((p) => p.join(",")).join(" "), fill: "none", stroke: "#d9534f", "stroke-width": "1.5" });
  for (const [i, d] of drift.entries()) {
    const significant = d.pValue < 0.05;
    node("circle", { cx: pts[i][0], cy: pts[i][1], r: 2.5, fill: significant ? "#d9534f" : "#fff", stroke: "#d9534f" });
  }
  const last = drift[drift.length - 1];
  svg.setAttribute("aria-label", `drift (MMD²) over ${drift.length} measurements from ${when(t0)} to ${when(t1)}: largest ${significant.format(max)}, last ${mmd2Text(last.mmd2)} (p ${last.pValue < 0.001 ? "< 0.001" : "= " + decimal.format(last.pValue)})`);
  return svg;
}

// A drift value as the cards say it: an estimate at or below 0 is "≈ 0 (below noise)", not a negative square.
const mmd2Text = (v) => v <= 0 ? "≈ 0 (below noise)" : significant.format(v);

// How fresh a ranking is: a stale empty one (read back after a restart, or rescored after new training data) is on
// its way, not "never" computed.
function computedText(scoring) {
  const failed = failureText(scoring.failure);
  if (scoring.stale && scoring.scored === 0) return "ranking loading (stale)" + failed;
  return `computed ${ago(scoring.computedUnixMs)}${scoring.stale ? " (stale, being rescored)" : ""}${failed}`;
}

// Why the set's last scoring pass failed (the ranking shown is the last one that succeeded), or nothing.
function failureText(failure) {
  if (!failure) return "";
  const times = failure.consecutiveFailures > 1 ? `, ${number.format(failure.consecutiveFailures)} passes in a row` : "";
  return ` · last scoring pass failed ${ago(failure.failedUnixMs)}${times}: ${failure.message}`;
}

// How many set cards show at first and per "show more": a page of 5,000 cards (115,000 elements, 5,000 charts) kept
// the browser busy for 20 s (probe X, X1). The filter finds the others.
const SETS_PER_PAGE = 60;

function renderSets() {
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
async function refreshSetCards(ids) {
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

// ---- live updates ----
function connectEvents() {
  if (state.events) state.events.close();
  clearTimeout(connectEvents.timer);
  const source = new EventSource("/api/events");
  state.events = source;
  source.addEventListener("open", () => {
    $("live").textContent = "live";
    $("live").classList.add("on");
    // Back after an outage: what the page showed may have failed to load (a map on "Failed to fetch") or be out of
    // date, so the current view loads again.
    if (state.disconnected) {
      state.disconnected = false;
      loadSets().catch(() => {});
      if (state.view === "map") loadMap(true).catch(() => {});
      if (state.view === "queue") loadQueue();
    }
  });
  source.addEventListener("error", () => {
    state.disconnected = true; $("live").textContent = "reconnecting"; $("live").classList.remove("on");
    // The browser retries a dropped stream by itself, but gives up on an answer that is not a stream: a 401 once the
    // session ended (the key changed at a restart) said "reconnecting" for ever (probe Z, Z10). Closed, the page asks
    // whether it is still signed in: the sign-in page if not, else another try in a while.
    if (source.readyState === EventSource.CLOSED) checkSession(source);
  });
  // The server is stopping and has ended the stream: listen again in a while (a restart) rather than at once (the
  // browser's own retry would hit a closed port).
  source.addEventListener("stopping", () => {
    state.disconnected = true;
    source.close();
    state.events = null;
    $("live").textContent = "server stopped";
    $("live").classList.remove("on");
    connectEvents.timer = setTimeout(connectEvents, 5000);
  });
  // "sets": every set's state (the first event of a stream); "changed": only the sets that changed, came or went.
  source.addEventListener("sets", (e) => {
    note("sets event");
    // (After a reconnect the "open" handler reads the current view again.)
    state.lastEvent = new Map(JSON.parse(e.data).map((c) => [c.setId, c]));
  });
  source.addEventListener("changed", async (e) => {
    const { changed, removed } = JSON.parse(e.data);
    note("sets event");
    const known = state.lastEvent;
    if (!known) return;
    const before = known.get(state.setId);
    for (const c of changed) known.set(c.setId, c);
    for (const id of removed) known.delete(id);
    const now = known.get(state.setId);
    const mine = changed.some((c) => c.setId === state.setId);
    // New points first (a small delta), the set cards after: the map is what people watch.
    if (mine && state.view === "map" && state.data) {
      const full = !before || now.total < before.total || now.scoresRevision !== before.scoresRevision;
      await loadMap(full);
    }
    if (mine && state.view === "queue" && (!before || now.scoresRevision !== before.scoresRevision)) scheduleQueueRefresh();
    // A set that came or went changes the header's list: every card is read again. Otherwise only the changed cards,
    // while they show, or when the cards are next shown (no request and no work per label while someone works the queue).
    const came = changed.some((c) => !state.sets.some((s) => s.setId === c.setId));
    if (came || removed.length) await loadSets();
    else if (state.view === "sets") await refreshSetCards(changed.map((c) => c.setId));
    else state.setsStale = true;
  });
}

async function checkSession(source) {
  let session = null;
  try { session = await (await fetch("/api/session", { credentials: "same-origin" })).json(); } catch { /* unreachable: try again */ }
  if (state.events !== source) return; // signed out, or listening again, meanwhile
  if (session && session.keyRequired && !session.signedIn) { sessionEnded(SESSION_ENDED); return; }
  source.close();
  state.events = null;
  connectEvents.timer = setTimeout(connectEvents, 5000);
}

// ---- map ----
function openMap() {
  if (!state.map) {
    state.map = new PointMap($("map-canvas"), $("map-overlay"));
    wireMap();
  }
  if (!state.data) loadMap(true); else state.map.dirty = true;
}

function parseMap(buffer) {
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  const n = header.count;
  let offset = Math.ceil((4 + headerLength) / 8) * 8;
  const take = (Type, size) => { const a = new Type(buffer, offset, n); offset += n * size; return a; };
  return Object.assign(header, {
    seq: take(Float64Array, 8), x: take(Float32Array, 4), y: take(Float32Array, 4), score: take(Float32Array, 4),
    label: take(Uint16Array, 2), predicted: take(Uint16Array, 2), dataset: take(Uint8Array, 1),
  });
}

function concat(Type, a, b) { const c = new Type(a.length + b.length); c.set(a); c.set(b, a.length); return c; }

// One load at a time, in order: a delta must apply to the points it was computed after.
let mapQueue = Promise.resolve();
function loadMap(full) {
  mapQueue = mapQueue.then(() => fetchMap(full)).catch((e) => { $("map-status").textContent = e.message; });
  return mapQueue;
}

async function fetchMap(full) {
  if (!state.setId) { $("map-status").textContent = "No embedding sets yet: log records with the Chroma client (see the Sets view)."; return; }
  const started = performance.now();
  const after = !full && state.data ? state.data.throughSequence : 0;
  const url = `/api/map?set=${encodeURIComponent(state.setId)}&projection=${state.projection}` + (after ? `&after=${after}` : "");
  const response = await api(url);
  const received = performance.now();
  const part = parseMap(await response.arrayBuffer());
  const parsed = performance.now();
  let data = part;
  if (!part.full) {
    const old = state.data;
    if (!old || old.version !== part.version || old.projection !== part.projection) return fetchMap(true);
    data = Object.assign({}, part, {
      count: old.count + part.count,
      seq: concat(Float64Array, old.seq, part.seq), x: concat(Float32Array, old.x, part.x), y: concat(Float32Array, old.y, part.y),
      score: concat(Float32Array, old.score, part.score), label: concat(Uint16Array, old.label, part.label),
      predicted: concat(Uint16Array, old.predicted, part.predicted), dataset: concat(Uint8Array, old.dataset, part.dataset),
    });
  }
  const firstLoad = !state.data || full && (state.data.version !== data.version || state.data.projection !== data.projection);
  const keep = state.data && state.selectedCount ? selectedSequences() : null;
  state.data = data;
  state.selected = new Uint8Array(data.count);
  state.selectedCount = 0;
  if (keep) { const set = new Set(keep); for (let i = 0; i < data.count; i++) if (set.has(data.seq[i])) { state.selected[i] = 1; state.selectedCount++; } }
  const pointColors = colors();
  const colored = performance.now();
  state.map.setPoints(data.x, data.y, pointColors, drawOrder());
  if (firstLoad) state.map.fit();
  const uploaded = performance.now();
  state.loadedMs = uploaded - started;
  // Where a load's time went (read by the performance measurement): ms since navigation at each step.
  state.loadTimes = { requested: started, response: received, parsed, colored, uploaded, bytes: part.count };
  note(`map ${part.full ? "full" : "delta"} ${part.count} points`);
  renderLegend();
  updateSelection();
  $("map-status").textContent = `${number.format(data.count)} points · ${data.projection}`;
}

// The order points are drawn in (later on top). The server sends them in sequence order, training usually first, so
// a large production set would bury it: datasets are interleaved by a fixed hash of each record's sequence (FNV-1a,
// as the CLI report orders by record id), the same on every load; selected points are drawn last.
function drawOrder() {
  const d = state.data, n = d.count, sel = state.selected, dim = state.selectedCount > 0;
  if (!d.hash || d.hash.length !== n) {
    d.hash = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let h = 2166136261, v = d.seq[i];
      for (let b = 0; b < 8; b++) { h = Math.imul(h ^ (v % 256), 16777619) >>> 0; v = Math.floor(v / 256); }
      d.hash[i] = h;
    }
  }
  const order = new Uint32Array(n);
  const key = (i) => (dim && sel[i] ? 4294967296 : 0) + d.hash[i];
  if (n <= 1048576) {
    // One numeric sort of keys that carry the index in their low 20 bits (exact: below 2^53).
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = key(i) * 1048576 + i;
    keys.sort();
    for (let k = 0; k < n; k++) order[k] = keys[k] % 1048576;
  } else {
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => key(a) - key(b) || a - b);
  }
  return order;
}

// The combined score is a mean surprise, -log10 p: 1 is one in ten, 3 one in a thousand. Its colour runs on that fixed
// scale, from blue at 0 (ordinary) to red at SCORE_TOP and above, whatever the largest score: a scale to the largest
// drew a set whose few records at 98 outscale the rest in one blue, its out-of-distribution thousands at 6 to 12
// among them (probe Z, Z14).
const SCORE_TOP = 6;

function scoreColor(v) {
  const t = Math.min(1, Math.max(0, v / SCORE_TOP));
  return [Math.round(60 + 180 * t), Math.round(110 + 20 * (1 - t) - 70 * t), Math.round(200 - 160 * t)];
}

function colorOf(i) {
  const d = state.data;
  switch (state.colorBy) {
    case "label": return categoryColor(d.label[i]);
    case "predicted": return categoryColor(d.predicted[i]);
    case "score": {
      const v = d.score[i];
      return Number.isNaN(v) ? NONE : scoreColor(v);
    }
    default: return categoryColor(d.dataset[i]);
  }
}

// RGBA per point, written straight into one typed array: categorical columns go through a small lookup table,
// so 200,000 points take a few milliseconds and allocate nothing per point.
function colors() {
  const d = state.data, n = d.count, out = new Uint8Array(n * 4);
  const dim = state.selectedCount > 0, sel = state.selected;
  const column = state.colorBy === "label" ? d.label : state.colorBy === "predicted" ? d.predicted : state.colorBy === "score" ? null : d.dataset;
  const lut = new Uint8Array(65536 * 3);
  if (column) {
    const names = state.colorBy === "label" ? d.labels : state.colorBy === "predicted" ? d.classes : d.datasets;
    for (let j = 0; j <= names.length; j++) lut.set(categoryColor(j), 3 * j);
  }
  for (let i = 0; i < n; i++) {
    let r, g, b;
    if (column) { const c = 3 * column[i]; r = lut[c]; g = lut[c + 1]; b = lut[c + 2]; }
    else [r, g, b] = colorOf(i);
    if (dim && !sel[i]) { r = 235 + (r >> 4); g = 235 + (g >> 4); b = 235 + (b >> 4); }
    out[4 * i] = r; out[4 * i + 1] = g; out[4 * i + 2] = b; out[4 * i + 3] = 255;
  }
  return out;
}

function renderLegend() {
  const d = state.data, root = $("map-legend");
  const counts = (column, names) => {
    const c = new Array(names.length + 1).fill(0);
    for (let i = 0; i < d.count; i++) c[column[i]]++;
    return c;
  };
  // One line per category up to the palette's size, then one line for the rest (they share OTHER), then "none".
  const rows = (column, names, title) => {
    const c = counts(column, names), shown = names.slice(0, PALETTE.length);
    const rest = c.slice(PALETTE.length + 1).reduce((a, b) => a + b, 0);
    const line = (j, ...text) => { const row = el("div", {}, el("span", { class: "swatch" }), ...text); row.dataset.category = j; return row; };
    // Listed in natural order of the names (0, 1, 2 … 10), whatever order the colours were given in.
    const order = shown.map((name, j) => j).sort((a, b) => collator.compare(shown[a], shown[b]));
    // A name in its own direction (<bdi>): a right-to-left label pulled its count to its left (probe Z, Z11).
    return [el("b", {}, title), ...order.map((j) => line(j + 1, el("bdi", {}, shown[j]), ` (${number.format(c[j + 1])})`)),
      names.length > shown.length ? line(PALETTE.length + 1, `${number.format(names.length - shown.length)} more (${number.format(rest)})`) : null,
      c[0] ? line(0, `none (${number.format(c[0])})`) : null];
  };
  let items;
  if (state.colorBy === "label") items = rows(d.label, d.labels, "Label");
  else if (state.colorBy === "predicted") items = rows(d.predicted, d.classes, "Predicted class");
  else if (state.colorBy === "score") items = [el("b", { title: "-log10 p: how rare a record this unusual is among training data" }, "Combined score"), ...SCORE_STEPS.map(([v, text]) => el("div", {}, el("span", { class: "swatch" }), text)), el("div", {}, el("span", { class: "swatch" }), "not scored")];
  else items = rows(d.dataset, d.datasets, "Dataset");
  root.replaceChildren(...items.filter(Boolean));
  // Swatch colours set through the CSSOM: the page's policy allows no inline style attributes.
  const swatches = root.querySelectorAll(".swatch");
  const scoreColors = [...SCORE_STEPS.map(([v]) => scoreColor(v)), NONE];
  swatches.forEach((s, j) => {
    const c = state.colorBy === "score" ? scoreColors[j] || NONE : categoryColor(Number(s.parentElement.dataset.category));
    s.style.background = `rgb(${c[0]},${c[1]},${c[2]})`;
  });
}

// The score legend's steps: the colour at each, and what the score means there.
const SCORE_STEPS = [[0, "0 ordinary"], [1, "1 one in ten"], [2, "2 one in a hundred"], [3, "3 one in a thousand"], [SCORE_TOP, `≥ ${SCORE_TOP} one in a million or rarer`]];

// Colours the map's points (and its legend) by `colorBy`: dataset, label, predicted or score.
function recolor(colorBy) {
  state.colorBy = colorBy;
  if (state.data) { state.map.setColors(colors()); renderLegend(); }
}

$("color-by").addEventListener("change", () => {
  recolor($("color-by").value);
  writeRoute("replace", openSequence());
});
$("fit").addEventListener("click", () => state.map && state.map.fit());
$("projection").addEventListener("change", () => {
  state.projection = $("projection").value;
  $("map-status").textContent = `computing ${$("projection").selectedOptions[0].textContent}…`;
  writeRoute("replace", openSequence());
  if (state.map) loadMap(true);
});
document.querySelectorAll("[data-tool]").forEach((b) => b.addEventListener("click", () => {
  state.tool = b.dataset.tool;
  document.querySelectorAll("[data-tool]").forEach((x) => { x.classList.toggle("active", x === b); x.setAttribute("aria-pressed", String(x === b)); });
}));

function wireMap() {
  const canvas = $("map-canvas"), map = state.map;
  let drag = null;
  const pos = (e) => { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    const p = pos(e);
    drag = { start: p, last: p, path: [p], moved: false };
  });
  canvas.addEventListener("pointermove", (e) => {
    const p = pos(e);
    if (!drag) { hover(p); return; }
    drag.moved = drag.moved || Math.hypot(p[0] - drag.start[0], p[1] - drag.start[1]) > 3;
    if (state.tool === "pan") { map.panBy(p[0] - drag.last[0], p[1] - drag.last[1]); }
    else if (state.tool === "box") { const [x0, y0] = drag.start; map.drawOutline([[x0, y0], [p[0], y0], p, [x0, p[1]]]); }
    else { drag.path.push(p); map.drawOutline(drag.path); }
    drag.last = p;
  });
  canvas.addEventListener("pointerup", (e) => {
    const p = pos(e), d = drag;
    drag = null;
    map.drawOutline(null);
    if (!d) return;
    if (!d.moved) { const i = map.pick(p[0], p[1], 6); if (i >= 0) showRecord(state.data.seq[i]); return; }
    if (state.tool === "box") select(map.selectBox(d.start[0], d.start[1], p[0], p[1]), e.shiftKey);
    else if (state.tool === "lasso") select(map.selectPolygon(d.path), e.shiftKey);
  });
  canvas.addEventListener("wheel", (e) => { e.preventDefault(); const p = pos(e); map.zoomAt(p[0], p[1], Math.exp(-e.deltaY * 0.0015)); }, { passive: false });
  canvas.addEventListener("pointerleave", () => { $("hover").hidden = true; });
  // From the keyboard: arrows pan, + and - zoom about the centre, 0 fits, Enter opens the point nearest the centre, s
  // selects the points in view (Shift+S adds them to the selection), so the selection's actions need no pointer (probe
  // Z, Z21).
  canvas.addEventListener("keydown", (e) => {
    const w = canvas.clientWidth, h = canvas.clientHeight, step = e.shiftKey ? 160 : 40;
    const keys = {
      ArrowLeft: () => map.panBy(step, 0), ArrowRight: () => map.panBy(-step, 0),
      ArrowUp: () => map.panBy(0, step), ArrowDown: () => map.panBy(0, -step),
      "+": () => map.zoomAt(w / 2, h / 2, 1.25), "=": () => map.zoomAt(w / 2, h / 2, 1.25), "-": () => map.zoomAt(w / 2, h / 2, 0.8),
      0: () => map.fit(),
      Enter: () => { const i = map.pick(w / 2, h / 2, Math.max(w, h)); if (i >= 0) showRecord(state.data.seq[i]); },
      s: () => select(map.selectBox(0, 0, w, h), false), S: () => select(map.selectBox(0, 0, w, h), true),
    };
    const action = keys[e.key];
    if (action && state.data) { e.preventDefault(); action(); }
  });
}

function hover([sx, sy]) {
  const i = state.map.pick(sx, sy, 6), card = $("hover");
  if (i < 0) { card.hidden = true; return; }
  const d = state.data;
  card.replaceChildren(...[
    el("div", {}, el("b", {}, d.datasets[d.dataset[i] - 1] || "?"), ` · sequence ${number.format(d.seq[i])}`),
    d.label[i] ? el("div", {}, `label ${d.labels[d.label[i] - 1]}`) : null,
    d.predicted[i] ? el("div", {}, `predicted ${d.classes[d.predicted[i] - 1]}`) : null,
    el("div", {}, Number.isNaN(d.score[i]) ? "not scored" : `score ${decimal.format(d.score[i])}`),
    el("div", { class: "muted" }, "click for details")].filter(Boolean));
  card.style.left = `${sx + 12}px`;
  card.style.top = `${sy + 12}px`;
  card.hidden = false;
}

function select(indexes, add) {
  if (!add) state.selected.fill(0);
  for (const i of indexes) state.selected[i] = 1;
  state.selectedCount = state.selected.reduce((a, b) => a + b, 0);
  state.map.setPoints(state.data.x, state.data.y, colors(), drawOrder());
  updateSelection();
}

function selectedSequences() {
  const out = [];
  for (let i = 0; i < state.data.count; i++) if (state.selected[i]) out.push(state.data.seq[i]);
  return out;
}

function updateSelection() {
  $("selection").hidden = state.selectedCount === 0;
  $("selection-count").textContent = number.format(state.selectedCount);
}

$("clear-selection").addEventListener("click", () => select([], false));

function parseTag(text) {
  const at = text.indexOf("=");
  return at > 0 ? { [text.slice(0, at).trim()]: text.slice(at + 1).trim() } : null;
}

$("tag-selection").addEventListener("click", async () => {
  const tags = parseTag($("tag-text").value);
  if (!tags) { toast("Write the tag as key=value"); return; }
  const sequences = selectedSequences();
  const what = $("tag-text").value;
  try {
    const result = await postSelection("/api/tag", { set: state.setId, tags }, sequences);
    toast(`Tagged ${number.format(result.changed)} records with ${what}`, () => undoTokens(result.undo, `tag ${what}`), result.undoSeconds);
  } catch (e) { toast(`Tag failed: ${e.message}`); }
});

// What an action left alone, in words: training records (labels and reviews are for production records), records
// deleted meanwhile, labels already in training.
function leftAlone(result, path) {
  const notes = [];
  if (result.skipped) notes.push(`${number.format(result.skipped)} training records skipped: ${path === "/api/promote" ? "promotion applies" : "labels and reviews apply"} to production records`);
  if (result.missing) notes.push(`${number.format(result.missing)} deleted meanwhile`);
  if (result.already) notes.push(`${number.format(result.already)} already in training`);
  return notes.length ? ` (${notes.join("; ")})` : "";
}

async function labelingAction(path, body, verb, nothing) {
  const sequences = selectedSequences();
  try {
    const result = await postSelection(path, Object.assign({ set: state.setId }, body), sequences);
    // Nothing changed (a selection of training records only, or of records deleted meanwhile): said so, no Undo (probe Z, Z13).
    if (!result.changed) { toast(`Nothing ${nothing}${leftAlone(result, path)}`); return; }
    // Undo puts each record's review back as it was (its earlier label and state), through the tokens the server
    // answered with; promoting has none (the training records it wrote stay: see the README).
    toast(`${verb} ${number.format(result.changed)} records${leftAlone(result, path)}`,
      result.undo.length ? () => undoTokens(result.undo, verb.replace(/:$/, "").toLowerCase()) : null, result.undoSeconds);
    if (path === "/api/label") loadMap(true);
  } catch (e) {
    if (path === "/api/promote" && !body.allowNewClasses && newClassConfirmed(e)) labelingAction(path, Object.assign({}, body, { allowNewClasses: true }), verb, nothing);
    else toast(path === "/api/promote" && e.status === 409 ? `Not promoted: ${e.message}` : e.message);
  }
}

$("label-selection").addEventListener("click", () => {
  const label = $("label-text").value.trim();
  if (!label) { toast("Type a label first"); $("label-text").focus(); return; }
  labelingAction("/api/label", { label }, `Labeled ${label}:`, "labeled");
});
$("review-selection").addEventListener("click", () => labelingAction("/api/review", { state: "reviewed" }, "Marked reviewed:", "marked reviewed"));
$("promote-selection").addEventListener("click", () => labelingAction("/api/promote", {}, "Promoted to training:", "promoted"));

$("delete-selection").addEventListener("click", async () => {
  const sequences = selectedSequences();
  if (!confirm(`Delete ${number.format(sequences.length)} records? You can undo it for a few seconds.`)) return;
  try {
    const result = await postSelection("/api/delete", { set: state.setId }, sequences);
    select([], false);
    toast(`Deleted ${number.format(result.changed)} records`, () => undoTokens(result.undo, "delete"), result.undoSeconds);
  } catch (e) { toast(`Delete failed: ${e.message}`); }
  loadMap(true);
});

// ---- record detail ----
async function openRecord(sequence, how) {
  const r = await (await api(`/api/record?set=${encodeURIComponent(state.setId)}&sequence=${sequence}`)).json();
  const panel = $("detail");
  // FindNearest's distance: squared L2 in an l2 set, 1 - cosine in a cosine one.
  const metric = state.sets?.find((s) => s.setId === state.setId)?.metric;
  const distanceName = metric === "cosine" ? "cosine distance" : "squared L2 distance";
  panel.replaceChildren(...[
    el("div", { class: "detail-head" }, el("h3", {}, r.id),
      el("button", { type: "button", class: "close", "aria-label": "Close the record detail (Escape)", onclick: closeDetail }, "×")),
    r.preview ? el("img", { class: "preview", id: "detail-preview", src: r.preview, alt: `input of ${r.id}` }) : null,
    el("dl", {},
      el("dt", {}, "dataset"), el("dd", {}, r.dataset),
      el("dt", {}, "sequence"), el("dd", {}, number.format(r.sequence)),
      r.label ? [el("dt", {}, "label"), el("dd", {}, r.label)] : null,
      r.predictedClass ? [el("dt", {}, "predicted"), el("dd", {}, r.predictedClass)] : null,
      r.inputUri ? [el("dt", {}, "input"), el("dd", {}, r.inputUri)] : null,
      r.timestampUnixMs ? [el("dt", {}, "logged"), el("dd", {}, new Date(r.timestampUnixMs).toLocaleString())] : null,
      r.score !== undefined && r.score !== null ? [el("dt", {}, "score"), el("dd", {}, decimal.format(r.score))] : null,
      r.deletedAtUnixMs ? [el("dt", {}, "deleted"), el("dd", { id: "detail-deleted", class: "danger-text" }, `deleted: gone at ${new Date(r.deletedAtUnixMs).toLocaleTimeString()} unless the delete is undone`)] : null,
      r.dataset !== "training" ? [el("dt", {}, "review"), el("dd", { id: "detail-review" }, r.reviewState + (r.reviewLabel ? ` · labeled ${r.reviewLabel}` : "") + (r.promotedRecordId ? ` · promoted as ${r.promotedRecordId}` : ""))] : null,
      // Who labeled it, when, and why (the note): what the next reviewer of the record needs (probe Z, Z16).
      r.labeledBy ? [el("dt", {}, "labeled by"), el("dd", { id: "detail-labeled-by" }, `${r.labeledBy}, ${new Date(r.labeledUnixMs).toLocaleString()}`)] : null,
      r.reviewedBy && r.reviewState !== "unreviewed" && (r.reviewedBy !== r.labeledBy || r.reviewedUnixMs !== r.labeledUnixMs)
        ? [el("dt", {}, `${r.reviewState} by`), el("dd", {}, `${r.reviewedBy}, ${new Date(r.reviewedUnixMs).toLocaleString()}`)] : null,
      r.reviewNote ? [el("dt", {}, "note"), el("dd", { id: "detail-note" }, r.reviewNote)] : null,
      Object.entries(r.metadata).map(([k, v]) => [el("dt", {}, k), el("dd", {}, v.startsWith("data:image/") || v === r.preview?.slice(r.preview.indexOf(",") + 1) ? `(image, ${number.format(v.length)} characters)` : v)])),
    r.probabilities.length ? el("div", {}, el("b", {}, "Class probabilities"), bars(r.probabilities.map((p) => ({ name: p.name, share: p.probability, text: decimal.format(p.probability) })))) : null,
    r.reasons.length ? el("div", {}, el("b", {}, "Why"), el("ul", { class: "reasons" }, r.reasons.map((x) => el("li", {}, x)))) : null,
    r.signals.length ? el("div", {}, el("b", {}, "Signals (percentile vs training)"), signalBars(r.signals)) : null,
    el("div", {}, el("b", {}, "Nearest training neighbours"),
      r.neighbors.length ? el("ol", { class: "neighbors" }, r.neighbors.map((n) => el("li", {
        title: "Open this training record", tabindex: "0", role: "button",
        onclick: () => showRecord(n.sequence, "push"), onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); e.stopPropagation(); showRecord(n.sequence, "push"); } } }, // not the queue's Enter too
        n.preview ? el("img", { class: "thumb", src: n.preview, alt: `input of ${n.id}` }) : null,
        el("span", {}, el("b", {}, n.label ?? "unlabelled"), ` · ${n.id} · ${distanceName} ${decimal.format(n.distance)}`))))
        : el("p", { class: "muted" }, "none (no training records)"))].filter(Boolean));
  // Another record starts at its top (its id and preview), not where the last one was scrolled to (probe Z, Z7).
  if (panel.dataset.sequence !== String(r.sequence)) panel.scrollTop = 0;
  panel.hidden = false;
  panel.dataset.sequence = r.sequence;
  writeRoute(how === "push" ? "push" : "replace", r.sequence);
}

function closeDetail() {
  const panel = $("detail");
  if (panel.hidden) return false;
  panel.hidden = true;
  writeRoute("replace");
  return true;
}

// Escape closes the record detail (wherever the focus is, except while typing in a field).
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && e.target.tagName !== "INPUT" && closeDetail()) e.preventDefault();
});

function bars(items) {
  return el("div", { class: "bars" }, items.map((b) => {
    const fill = el("i");
    fill.style.width = `${Math.round(100 * Math.min(1, Math.max(0, b.share)))}%`;
    return [el("span", b.title ? { title: b.title } : {}, b.name), el("span", { class: "bar" }, fill), el("span", {}, b.text)];
  }));
}

// What each signal measures, in words (the wire name stays in the tooltip).
const SIGNAL_NAMES = {
  mahalanobis: "far from all classes", relative_mahalanobis: "unlike its class", knn_distance: "far from training neighbours",
  boundary: "neighbours' labels differ", entropy: "uncertain (entropy)", margin: "uncertain (margin)",
  least_confidence: "uncertain (top class)", feature_norm: "weak activation", production_shift: "unlike training (shift)",
};
const signalName = (signal) => SIGNAL_NAMES[signal] || signal;

function signalBars(signals, limit) {
  // In the queue only the strongest few (by percentile); the record's detail shows them all.
  const shown = limit ? [...signals].sort((a, b) => b.percentile - a.percentile).slice(0, limit) : signals;
  return bars(shown.map((s) => ({ name: signalName(s.signal), title: s.signal, share: s.percentile, text: `${Math.round(100 * s.percentile)}%` })));
}

// ---- review queue ----
["strategy", "diversity", "queue-dataset", "queue-tag", "queue-reviewed"].forEach((id) => $(id).addEventListener("change", () => loadQueue()));
["strategy", "diversity"].forEach((id) => $(id).addEventListener("change", () => writeRoute("replace", openSequence())));

const QUEUE_PAGE = 50;

// An item the server now leaves out of the ranking (reviewed, dismissed, labeled or deleted here), unless reviewed
// records are shown: the next page's offset does not count it.
const leftOut = (item) => !$("queue-reviewed").checked && item.done && !item.done.startsWith("tagged");

// Loads the queue's first page, or (`more`) the page after what is shown, appended.
async function loadQueue(more) {
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
function queueStatus() {
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
function scheduleQueueRefresh() {
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

function queueItem(item, i) {
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

// The records an action on `item` applies to: the item, and with "with near-duplicates" ticked the near-copies
// collapsed into it (those the ranking named: up to 1,000), so a group of copies is cleared in one key press (probe Z,
// Z15: each dismissal brought the next copy up).
function actionIds(item) {
  return $("queue-dupes").checked && item.duplicateIds?.length ? [item.id, ...item.duplicateIds] : [item.id];
}

// What the toast adds about an entry's near-copies: acted on with it, or left (and how to include them).
function copiesText(item, ids) {
  if (!item.duplicateCount) return "";
  if (ids.length > 1) return ` with ${number.format(ids.length - 1)} near-duplicate${ids.length === 2 ? "" : "s"}`;
  return ` (only this one: tick \u201cwith near-duplicates\u201d to include its ${number.format(item.duplicateCount)})`;
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

// Moving through the queue touches two list items, not the whole list: a key press stays cheap. The current item is
// framed by the cursor (placeCursor). Moved by a key (`steady`), the current item keeps its place on screen: second,
// under the item just acted on (or at the top where the two do not fit), so every key press scrolls the list by one
// item: the same small work for the browser each time (the queue scrolls in the compositor and only the item coming
// into view is drawn), where a jump of a whole screen every few presses would draw a screen at once. A click moves
// nothing but what is needed to show the item whole.
function markCurrent(previous, steady) {
  const list = $("queue-list");
  if (list.children[previous]) list.children[previous].classList.remove("current");
  const current = list.children[state.queueIndex];
  placeCursor(current);
  if (!current) return;
  current.classList.add("current");
  const area = list.parentElement;
  if (!steady) {
    const box = area.getBoundingClientRect(), r = current.getBoundingClientRect();
    if (r.top < box.top || r.bottom > box.bottom) current.scrollIntoView({ block: r.top < box.top && r.height <= box.height ? "nearest" : "start" });
    return;
  }
  const first = list.firstElementChild.offsetTop; // the list's padding above its first item
  let top = (current.previousElementSibling || current).offsetTop - first;
  if (current.offsetTop + current.offsetHeight - top > area.clientHeight) top = current.offsetTop - first;
  if (Math.abs(area.scrollTop - top) >= 1) area.scrollTop = top;
}

// Frames `li` with the cursor's four bars, 2 px thick, by transforms only (see .queue-cursor in studio.css).
function placeCursor(li) {
  const cursor = $("queue-cursor");
  cursor.hidden = !li;
  if (!li) return;
  const x = li.offsetLeft, y = li.offsetTop, w = li.offsetWidth, h = li.offsetHeight, t = 2;
  const [top, bottom, left, right] = cursor.children;
  top.style.transform = `translate(${x}px, ${y}px) scale(${w}, ${t})`;
  bottom.style.transform = `translate(${x}px, ${y + h - t}px) scale(${w}, ${t})`;
  left.style.transform = `translate(${x}px, ${y}px) scale(${t}, ${h})`;
  right.style.transform = `translate(${x + w - t}px, ${y}px) scale(${t}, ${h})`;
}

// The list's width changes (window, detail panel): the cursor follows its item.
new ResizeObserver(() => placeCursor($("queue-list").children[state.queueIndex])).observe($("queue-list"));

function advance(step) {
  const previous = state.queueIndex;
  // Near the end of what is shown, the next page comes in (the ranking goes on).
  if (step > 0 && state.queueIndex + step >= state.queue.length - 5 && state.queuePage?.hasMore) loadQueue(true);
  state.queueIndex = Math.max(0, Math.min(state.queue.length - 1, state.queueIndex + step));
  markCurrent(previous, true);
}

// Marks one item done (or not) by touching its class and one text: no list item is rebuilt on a key press.
function markDone(item) {
  const li = $("queue-list").children[state.queue.indexOf(item)];
  if (!li) return;
  li.classList.toggle("done", !!item.done);
  const text = li.querySelector(".state");
  if (text) text.textContent = item.done || "";
}

// Runs `send` once the frame showing the key press's effect is out (or after 100 ms in a tab that paints nothing):
// the next item is on screen before the request, and the server's work for it, take any time.
function afterPaint(send) {
  let sent = false;
  const once = () => { if (!sent) { sent = true; send(); } };
  requestAnimationFrame(() => setTimeout(once, 0));
  setTimeout(once, 100);
}

// Marks the current item done and moves to the next at once (optimistic); the write goes out after that frame.
// If it fails the item is put back as it was, made current again, and the toast says why.
function actOnCurrent(done, write) {
  const item = state.queue[state.queueIndex];
  if (!item) return;
  item.done = done;
  markDone(item);
  advance(1);
  state.pendingWrites = (state.pendingWrites || 0) + 1;
  afterPaint(() => write(item)
    .catch((e) => {
      item.done = undefined;
      markDone(item);
      const previous = state.queueIndex, at = state.queue.indexOf(item);
      if (at >= 0) { state.queueIndex = at; markCurrent(previous); }
      toast(`Failed: ${e.message} (${shortId(item.id)} is back in the queue)`);
    })
    .finally(() => { state.pendingWrites--; }));
}

// Takes an item out of the list (its record was deleted meanwhile); the cursor stays on the item it was on, or on the
// next one where it was on this one.
function dropItem(item) {
  const at = state.queue.indexOf(item);
  if (at < 0) return;
  state.queue.splice(at, 1);
  $("queue-list").children[at].remove();
  if (at < state.queueIndex) state.queueIndex--;
  state.queueIndex = Math.max(0, Math.min(state.queueIndex, state.queue.length - 1));
  markCurrent(-1);
  $("queue-empty").hidden = state.queue.length > 0;
}

// Label (and so review) the current item and move on in the same key press; the toast (and `u`) undoes it within the
// server's window: the record's review goes back to what it was, the label included.
function labelCurrent(label) {
  if (!label) { toast("Type a label first"); $("queue-label").focus(); return; }
  // The note (why this label) goes with this one label, then the field is cleared for the next item.
  const note = $("queue-note").value.trim();
  $("queue-note").value = "";
  undoableOnCurrent(`labeled ${label}`, "/api/label", note ? { label, note } : { label });
}

// Enter in the label or note field applies the label to the current item (the key `l` had put the cursor there), and
// the keys go back to the list (probe Z, Z2).
for (const id of ["queue-label", "queue-note"]) {
  $(id).addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    $("queue-list").focus({ preventScroll: true });
    labelCurrent($("queue-label").value.trim());
  });
}

// Tag, delete, label or review the current item and move on; the toast (and `u`) undoes it within the server's window.
// Every such action goes on the undo stack: `u` undoes the newest first, then the one before, and so on.
function undoableOnCurrent(done, path, body) {
  const item = state.queue[state.queueIndex];
  if (!item) return;
  const ids = actionIds(item), copies = copiesText(item, ids);
  if (ids.length > 1) done += copies;
  const action = { item, done };
  state.undoStack.push(action);
  if (state.undoStack.length > 100) state.undoStack.shift();
  actOnCurrent(done, async (i) => {
    const r = await postJson(path, Object.assign({ set: state.setId, ids }, body));
    if (!r.changed) {
      // Nothing was saved (the record was deleted meanwhile, by another client): said so, nothing to undo, and a
      // deleted record leaves the list (probe Z, Z18).
      state.undoStack = state.undoStack.filter((a) => a !== action);
      if (r.missing) { dropItem(i); toast(`${shortId(i.id)} was deleted meanwhile: nothing saved`); return; }
      i.done = undefined; markDone(i);
      toast(`${shortId(i.id)}: nothing saved`);
      return;
    }
    action.token = i.undoToken = r.undo;
    action.expires = Date.now() + (r.undoSeconds || 0) * 1000;
    toast(`${shortId(i.id)} ${done}${ids.length > 1 ? "" : copies}`, () => undoAction(action), r.undoSeconds);
  });
}

function reviewCurrent(stateName) {
  undoableOnCurrent(stateName, "/api/review", { state: stateName });
}

// `u`: the newest action still on the stack.
function undoLast() {
  const now = Date.now();
  // Actions whose write failed (put back already) or whose undo window is over leave the stack.
  while (state.undoStack.length) {
    const top = state.undoStack[state.undoStack.length - 1];
    if (top.item.done !== top.done || top.token && top.expires <= now) state.undoStack.pop(); else break;
  }
  const action = state.undoStack[state.undoStack.length - 1];
  if (!action) { toast("Nothing to undo"); return; }
  undoAction(action);
}

async function undoAction(action) {
  const item = action.item;
  if (!action.token) {
    // Its write has not answered yet (no token): nothing the server could undo so far.
    toast(`${shortId(item.id)}: still being saved, undo it in a moment`);
    return;
  }
  // The server puts the previous values (tags, label, review state) back, or keeps the record.
  const token = action.token;
  state.undoStack = state.undoStack.filter((a) => a !== action);
  action.token = item.undoToken = undefined;
  item.done = undefined;
  markDone(item);
  const previous = state.queueIndex;
  state.queueIndex = Math.max(0, state.queue.indexOf(item));
  markCurrent(previous);
  try {
    await postJson("/api/undo", { token });
    // Counted: only what `u` can still undo (written, and within its window), not actions past it (probe Z, Z3).
    const now = Date.now(), left = state.undoStack.filter((a) => a.item.done === a.done && (!a.token || a.expires > now)).length;
    toast(`Undone: ${shortId(item.id)} is as it was` + (left ? ` (${left} more to undo with u)` : ""));
  } catch (e) { toast(`Could not undo: ${e.message}`); }
}

// `p`: the current item's label into the training data; a repeat says the label is in training already. A label that
// is none of the set's training classes is promoted only once confirmed (promotion cannot be undone).
function promoteCurrent(item = state.queue[state.queueIndex], allowNewClasses = false) {
  if (!item) return;
  postJson("/api/promote", { set: state.setId, ids: [item.id], allowNewClasses }).then((r) => toast(r.changed
    ? `Promoted ${r.changed} label(s) to training`
    : r.already ? `${shortId(item.id)}: its label is already in training` : `Nothing promoted${leftAlone(r, "/api/promote")}`), (e) => {
    if (newClassConfirmed(e)) promoteCurrent(item, true); else toast(e.status === 409 ? `Not promoted: ${e.message}` : e.message);
  });
}

// A promotion the server refused because a label would start a new training class (409): asks whether that is meant.
const newClassConfirmed = (e) => e.status === 409 && confirm(`The ${e.message}. Promotion cannot be undone: promote anyway?`);

const queueKeys = {
  l: () => labelCurrent($("queue-label").value.trim()),
  r: () => reviewCurrent("reviewed"),
  d: () => reviewCurrent("dismissed"),
  u: () => undoLast(),
  p: () => promoteCurrent(),
  ArrowDown: () => advance(1), j: () => advance(1),
  ArrowUp: () => advance(-1), k: () => advance(-1),
  Enter: () => state.queue[state.queueIndex] && showRecord(state.queue[state.queueIndex].sequence),
  t: () => {
    const tags = parseTag($("queue-tag-apply").value);
    if (!tags) { toast("Write the tag to apply as key=value"); $("queue-tag-apply").focus(); return; }
    undoableOnCurrent(`tagged ${$("queue-tag-apply").value.trim()}`, "/api/tag", { tags });
  },
  x: () => undoableOnCurrent("deleted", "/api/delete", {}),
};
window.studioQueueKeys = queueKeys;

// The same actions for mouse and touch: each button runs its key's action on the current item.
document.querySelectorAll(".queue-actions [data-key]").forEach((b) => b.addEventListener("click", () => queueKeys[b.dataset.key]()));

document.addEventListener("keydown", (e) => {
  if (state.view !== "queue" || e.target.tagName === "INPUT" || e.target.tagName === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
  const handler = /^[0-9]$/.test(e.key) ? () => labelCurrent(e.key) : queueKeys[e.key];
  if (handler) { e.preventDefault(); handler(e); }
});

boot();
