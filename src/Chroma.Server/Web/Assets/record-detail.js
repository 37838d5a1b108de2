// A record's detail: its input, values, review, reasons, signals and nearest training neighbours.
import { $, el } from "./dom.js";
import { number, decimal } from "./format.js";
import { state } from "./state.js";
import { api } from "./api.js";
import { toast } from "./toast.js";
import { writeRoute } from "./navigation.js";
import { bars, signalBars } from "./signal-bars.js";

// Opens a record's detail; a failure (the server stopped, the record deleted) is said in a toast, never left uncaught.
// `how`: "push" makes it a history entry of its own (a neighbour drilled into: Back returns to the record it was opened
// from, probe Z, Z12); otherwise it replaces the current one.
export function showRecord(sequence, how) {
  openRecord(sequence, how).catch((e) => toast(`Could not open record ${sequence}: ${e.message}`));
}

export async function openRecord(sequence, how) {
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

export function closeDetail() {
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
