// Studio's JSON API as the page calls it: errors in words, a session that ended said so, large selections in parts.
import { sessionEnded, SESSION_ENDED } from "./session.js";

export async function api(path, options) {
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
export async function postSelection(path, body, sequences) {
  const total = { changed: 0, skipped: 0, missing: 0, already: 0, undo: [], undoSeconds: 0 };
  for (let i = 0; i < sequences.length; i += 5000) {
    const r = await postJson(path, Object.assign({}, body, { sequences: sequences.slice(i, i + 5000) }));
    total.changed += r.changed; total.skipped += r.skipped || 0; total.missing += r.missing || 0; total.already += r.already || 0;
    if (r.undo) { total.undo.push(r.undo); total.undoSeconds = r.undoSeconds; }
  }
  return total;
}

export const postJson = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
