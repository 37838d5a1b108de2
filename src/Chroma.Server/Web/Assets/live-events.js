// Live updates: the server-sent events that keep the views current, and what the page does when the stream drops.
import { $ } from "./dom.js";
import { state, note } from "./state.js";
import { sessionEnded, SESSION_ENDED } from "./session.js";
import { loadSets, refreshSetCards } from "./sets-view.js";
import { loadMap } from "./map-view.js";
import { loadQueue, scheduleQueueRefresh } from "./queue-view.js";

export function connectEvents() {
  if (state.events) state.events.close();
  clearTimeout(connectEvents.timer);
  const source = new EventSource("/api/events");
  state.events = source;
  source.addEventListener("open", () => {
    $("live").textContent = "live";
    $("live").classList.add("on");
    // Back after an outage: what the page showed may have failed to load (a map on "Failed to fetch") or be out of
    // date, so the current view loads again.
    if (state.disconnected) {
      state.disconnected = false;
      loadSets().catch(() => {});
      if (state.view === "map") loadMap(true).catch(() => {});
      if (state.view === "queue") loadQueue();
    }
  });
  source.addEventListener("error", () => {
    state.disconnected = true; $("live").textContent = "reconnecting"; $("live").classList.remove("on");
    // The browser retries a dropped stream by itself, but gives up on an answer that is not a stream: a 401 once the
    // session ended (the key changed at a restart) said "reconnecting" for ever (probe Z, Z10). Closed, the page asks
    // whether it is still signed in: the sign-in page if not, else another try in a while.
    if (source.readyState === EventSource.CLOSED) checkSession(source);
  });
  // The server is stopping and has ended the stream: listen again in a while (a restart) rather than at once (the
  // browser's own retry would hit a closed port).
  source.addEventListener("stopping", () => {
    state.disconnected = true;
    source.close();
    state.events = null;
    $("live").textContent = "server stopped";
    $("live").classList.remove("on");
    connectEvents.timer = setTimeout(connectEvents, 5000);
  });
  // "sets": every set's state (the first event of a stream); "changed": only the sets that changed, came or went.
  source.addEventListener("sets", (e) => {
    note("sets event");
    // (After a reconnect the "open" handler reads the current view again.)
    state.lastEvent = new Map(JSON.parse(e.data).map((c) => [c.setId, c]));
  });
  source.addEventListener("changed", async (e) => {
    const { changed, removed } = JSON.parse(e.data);
    note("sets event");
    const known = state.lastEvent;
    if (!known) return;
    const before = known.get(state.setId);
    for (const c of changed) known.set(c.setId, c);
    for (const id of removed) known.delete(id);
    const now = known.get(state.setId);
    const mine = changed.some((c) => c.setId === state.setId);
    // New points first (a small delta), the set cards after: the map is what people watch.
    if (mine && state.view === "map" && state.data) {
      const full = !before || now.total < before.total || now.scoresRevision !== before.scoresRevision;
      await loadMap(full);
    }
    if (mine && state.view === "queue" && (!before || now.scoresRevision !== before.scoresRevision)) scheduleQueueRefresh();
    // A set that came or went changes the header's list: every card is read again. Otherwise only the changed cards,
    // while they show, or when the cards are next shown (no request and no work per label while someone works the queue).
    const came = changed.some((c) => !state.sets.some((s) => s.setId === c.setId));
    if (came || removed.length) await loadSets();
    else if (state.view === "sets") await refreshSetCards(changed.map((c) => c.setId));
    else state.setsStale = true;
  });
}

async function checkSession(source) {
  let session = null;
  try { session = await (await fetch("/api/session", { credentials: "same-origin" })).json(); } catch { /* unreachable: try again */ }
  if (state.events !== source) return; // signed out, or listening again, meanwhile
  if (session && session.keyRequired && !session.signedIn) { sessionEnded(SESSION_ENDED); return; }
  source.close();
  state.events = null;
  connectEvents.timer = setTimeout(connectEvents, 5000);
}
