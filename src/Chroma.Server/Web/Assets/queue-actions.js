// The queue's keys and buttons: label, review, dismiss, tag, delete, promote and undo the current item, optimistically.
import { $ } from "./dom.js";
import { number, shortId } from "./format.js";
import { state } from "./state.js";
import { postJson } from "./api.js";
import { toast } from "./toast.js";
import { parseTag, leftAlone, newClassConfirmed } from "./record-actions.js";
import { showRecord } from "./record-detail.js";
import { advance, markCurrent, markDone } from "./queue-cursor.js";

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


export const queueKeys = {
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

// The same actions for mouse and touch: each button runs its key's action on the current item.
document.querySelectorAll(".queue-actions [data-key]").forEach((b) => b.addEventListener("click", () => queueKeys[b.dataset.key]()));

document.addEventListener("keydown", (e) => {
  if (state.view !== "queue" || e.target.tagName === "INPUT" || e.target.tagName === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
  const handler = /^[0-9]$/.test(e.key) ? () => labelCurrent(e.key) : queueKeys[e.key];
  if (handler) { e.preventDefault(); handler(e); }
});
