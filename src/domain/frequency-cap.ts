/**
 * The site's sequence frequency cap: at most one sequence email per contact every N days. Pure, so
 * the activity that reads the last send and the workflow that waits agree on the arithmetic.
 */

const DAY_MS = 86_400_000;

/**
 * The earliest instant the next sequence email may go to a contact who last got one at
 * `lastSentAtMs`, or null when nothing holds it back (no cap, or no earlier sequence email).
 * A capped email is deferred to this instant, never skipped.
 */
export function frequencyCapAllowsAt(lastSentAtMs: number | null, capDays: number): number | null {
  if (lastSentAtMs === null || !(capDays > 0)) return null;
  return lastSentAtMs + capDays * DAY_MS;
}
