// The map's selected points (chosen with the box, the lasso or the keys) and the selection bar's actions on them: tag,
// label, review, promote, delete.
import { $ } from "./dom.js";
import { number } from "./format.js";
import { state } from "./state.js";
import { postSelection } from "./api.js";
import { toast, undoTokens } from "./toast.js";
import { parseTag, leftAlone, newClassConfirmed } from "./record-actions.js";
import { loadMap, drawOrder } from "./map-view.js";
import { colors } from "./map-colors.js";

export function select(indexes, add) {
  if (!add) state.selected.fill(0);
  for (const i of indexes) state.selected[i] = 1;
  state.selectedCount = state.selected.reduce((a, b) => a + b, 0);
  state.map.setPoints(state.data.x, state.data.y, colors(), drawOrder());
  updateSelection();
}

export function selectedSequences() {
  const out = [];
  for (let i = 0; i < state.data.count; i++) if (state.selected[i]) out.push(state.data.seq[i]);
  return out;
}

export function updateSelection() {
  $("selection").hidden = state.selectedCount === 0;
  $("selection-count").textContent = number.format(state.selectedCount);
}

$("clear-selection").addEventListener("click", () => select([], false));


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
