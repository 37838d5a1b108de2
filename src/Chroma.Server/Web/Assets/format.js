// Numbers, ages and scoring states as the page words them.

export const number = new Intl.NumberFormat();
export const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
export const significant = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 2 });

export function ago(ms) {
  if (!ms) return "never";
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleString();
}

// A record as toasts name it. A 36-character id wrapped a phone's toast onto five lines; the default ids are UUIDv7,
// whose first characters are the time (shared by records logged together), so the end is what tells two apart.
export const shortId = (id) => (id.length > 16 ? "…" + id.slice(-8) : id);

// A drift value as the cards say it: an estimate at or below 0 is "≈ 0 (below noise)", not a negative square.
export const mmd2Text = (v) => v <= 0 ? "≈ 0 (below noise)" : significant.format(v);

// How fresh a ranking is: a stale empty one (read back after a restart, or rescored after new training data) is on
// its way, not "never" computed.
export function computedText(scoring) {
  const failed = failureText(scoring.failure);
  if (scoring.stale && scoring.scored === 0) return "ranking loading (stale)" + failed;
  return `computed ${ago(scoring.computedUnixMs)}${scoring.stale ? " (stale, being rescored)" : ""}${failed}`;
}

// Why the set's last scoring pass failed (the ranking shown is the last one that succeeded), or nothing.
export function failureText(failure) {
  if (!failure) return "";
  const times = failure.consecutiveFailures > 1 ? `, ${number.format(failure.consecutiveFailures)} passes in a row` : "";
  return ` · last scoring pass failed ${ago(failure.failedUnixMs)}${times}: ${failure.message}`;
}
