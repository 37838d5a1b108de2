// Chroma Studio: sets, the embedding map, the review queue and record details, kept live by server-sent events.
// This module starts the page; each view and concern is a module of its own (see docs/ARCHITECTURE.md, Studio), and
// the modules that handle the page's events add their listeners as they load. The modules import one another in
// cycles (navigation shows every view, the views write the URL): safe while a module's top level uses only dom.js and
// state.js and calls into the others from functions and listeners alone, which run once every module has loaded.
import { state } from "./state.js";
import { postJson } from "./api.js";
import { boot } from "./session.js";
import { connectEvents } from "./live-events.js";
import { recolor } from "./map-view.js";
import { select } from "./map-selection.js";
import { openRecord, showRecord } from "./record-detail.js";
import { queueStatus, scheduleQueueRefresh } from "./queue-view.js";
import { queueKeys } from "./queue-actions.js";
import "./navigation.js";
import "./sets-view.js";

// Read by the browser tests and by people poking at the console: the page's state, and the functions the tests call
// (a module's names are its own, so those the tests need are put on the window here).
Object.assign(window, { studio: state, studioQueueKeys: queueKeys });
Object.assign(window, { postJson, connectEvents, recolor, select, openRecord, showRecord, queueStatus, scheduleQueueRefresh });

boot();
