// The map's colours: a categorical palette, a fixed scale for the combined score, each point's RGBA, and the legend.
import { $, el } from "./dom.js";
import { number } from "./format.js";
import { state } from "./state.js";

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
export function colors() {
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

export function renderLegend() {
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
