// The queue's current item: the cursor that frames it, moving it, and marking items done without rebuilding the list.
import { $ } from "./dom.js";
import { state } from "./state.js";
import { loadQueue } from "./queue-view.js";

// Moving through the queue touches two list items, not the whole list: a key press stays cheap. The current item is
// framed by the cursor (placeCursor). Moved by a key (`steady`), the current item keeps its place on screen: second,
// under the item just acted on (or at the top where the two do not fit), so every key press scrolls the list by one
// item: the same small work for the browser each time (the queue scrolls in the compositor and only the item coming
// into view is drawn), where a jump of a whole screen every few presses would draw a screen at once. A click moves
// nothing but what is needed to show the item whole.
export function markCurrent(previous, steady) {
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
export function placeCursor(li) {
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

export function advance(step) {
  const previous = state.queueIndex;
  // Near the end of what is shown, the next page comes in (the ranking goes on).
  if (step > 0 && state.queueIndex + step >= state.queue.length - 5 && state.queuePage?.hasMore) loadQueue(true);
  state.queueIndex = Math.max(0, Math.min(state.queue.length - 1, state.queueIndex + step));
  markCurrent(previous, true);
}

// Marks one item done (or not) by touching its class and one text: no list item is rebuilt on a key press.
export function markDone(item) {
  const li = $("queue-list").children[state.queue.indexOf(item)];
  if (!li) return;
  li.classList.toggle("done", !!item.done);
  const text = li.querySelector(".state");
  if (text) text.textContent = item.done || "";
}
