// What the page holds and shows: one object every view reads and writes, and a short log of what happened.

export const state = {
  sets: [], setId: null, view: "sets", colorBy: "dataset", tool: "pan", projection: "pca",
  map: null, data: null, selected: new Uint8Array(0), selectedCount: 0,
  queue: [], queueIndex: 0, undoStack: [], lastEvent: null, events: null, eventLog: [],
};
export const note = (what) => { state.eventLog.push([Math.round(performance.now()), what]); if (state.eventLog.length > 50) state.eventLog.shift(); };
