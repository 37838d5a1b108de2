// The Map view: the projection loaded (and kept up to date by deltas) into the point renderer, its toolbar, and
// pointer and keyboard on the canvas. The renderer, PointMap, is map.js: a classic script (the offline report inlines
// the same file), loaded before this module, that leaves PointMap on the window.
import { $, el } from "./dom.js";
import { number, decimal } from "./format.js";
import { state, note } from "./state.js";
import { api } from "./api.js";
import { colors, renderLegend } from "./map-colors.js";
import { select, selectedSequences, updateSelection } from "./map-selection.js";
import { writeRoute, openSequence } from "./navigation.js";
import { showRecord } from "./record-detail.js";

export function openMap() {
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
export function loadMap(full) {
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
export function drawOrder() {
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


// Colours the map's points (and its legend) by `colorBy`: dataset, label, predicted or score.
export function recolor(colorBy) {
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
