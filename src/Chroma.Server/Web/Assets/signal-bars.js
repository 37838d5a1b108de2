// Rows of bars: a record's class probabilities, and its signals' percentiles against training.
import { el } from "./dom.js";

export function bars(items) {
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

export function signalBars(signals, limit) {
  // In the queue only the strongest few (by percentile); the record's detail shows them all.
  const shown = limit ? [...signals].sort((a, b) => b.percentile - a.percentile).slice(0, limit) : signals;
  return bars(shown.map((s) => ({ name: signalName(s.signal), title: s.signal, share: s.percentile, text: `${Math.round(100 * s.percentile)}%` })));
}
