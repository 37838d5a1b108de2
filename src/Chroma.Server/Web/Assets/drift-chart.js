// A set card's chart of drift over time (SVG).
import { decimal, significant, mmd2Text } from "./format.js";

// Drift (MMD²) over time: the line from zero to the largest value measured (labelled on the axis), the first and last
// times under it, a filled dot where the change was significant (p < 0.05) and an open one where it was not.
export function driftChart(drift) {
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
