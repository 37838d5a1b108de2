// Signing in and out, and starting the app once signed in (or where the server needs no key).
import { $ } from "./dom.js";
import { state } from "./state.js";
import { connectEvents } from "./live-events.js";
import { loadSets } from "./sets-view.js";
import { applyRoute } from "./navigation.js";

export const SESSION_ENDED = "Your session ended (the server's API key changed, or the session expired). Sign in again to go on.";

// The sign-in page with why it shows, where the app was open (a page opened signed out just asks for the key).
export function sessionEnded(message) {
  const signedIn = !$("app").hidden;
  showSignIn();
  if (signedIn) $("signin-error").textContent = message;
}

export function showSignIn() {
  $("app").hidden = true;
  $("signin").hidden = false;
  if (state.events) { state.events.close(); state.events = null; }
  clearTimeout(connectEvents.timer);
  $("signin-key").focus();
}

$("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("signin-error").textContent = "";
  const response = await fetch("/api/session", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ key: $("signin-key").value }) });
  $("signin-key").value = "";
  if (response.status === 429) {
    let message = "Too many wrong keys: wait a minute and try again.";
    try { message = `${(await response.json()).error}.`; } catch { /* not JSON */ }
    $("signin-error").textContent = message.charAt(0).toUpperCase() + message.slice(1);
    return;
  }
  if (!response.ok) { $("signin-error").textContent = "That key was not accepted."; return; }
  start(true);
});

$("signout").addEventListener("click", async () => {
  const response = await fetch("/api/session", { method: "DELETE", credentials: "same-origin" });
  showSignIn();
  if (!response.ok) {
    // Signed out in this browser and on this server, but the sign-out was not stored: say what that leaves open.
    let message = "signed out here, but the sign-out could not be stored";
    try { message = (await response.json()).error || message; } catch { /* not JSON */ }
    $("signin-error").textContent = `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
  }
});

export async function boot() {
  const session = await (await fetch("/api/session", { credentials: "same-origin" })).json();
  if (session.keyRequired && !session.signedIn) { showSignIn(); return; }
  start(session.keyRequired);
}

async function start(keyRequired) {
  $("signin").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = !keyRequired;
  await loadSets();
  connectEvents();
  applyRoute("replace");
}
