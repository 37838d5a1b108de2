// What the map's selection bar and the queue's keys share about an action on records: the tag as typed, what the
// action left alone, and the confirmation a new training class needs.
import { number } from "./format.js";

export function parseTag(text) {
  const at = text.indexOf("=");
  return at > 0 ? { [text.slice(0, at).trim()]: text.slice(at + 1).trim() } : null;
}

// What an action left alone, in words: training records (labels and reviews are for production records), records
// deleted meanwhile, labels already in training.
export function leftAlone(result, path) {
  const notes = [];
  if (result.skipped) notes.push(`${number.format(result.skipped)} training records skipped: ${path === "/api/promote" ? "promotion applies" : "labels and reviews apply"} to production records`);
  if (result.missing) notes.push(`${number.format(result.missing)} deleted meanwhile`);
  if (result.already) notes.push(`${number.format(result.already)} already in training`);
  return notes.length ? ` (${notes.join("; ")})` : "";
}

// A promotion the server refused because a label would start a new training class (409): asks whether that is meant.
export const newClassConfirmed = (e) => e.status === 409 && confirm(`The ${e.message}. Promotion cannot be undone: promote anyway?`);
