/**
 * Send windows: "only on these weekdays, between these hours, in the contact's timezone". Pure and
 * built on Intl alone, so the enrollment workflow can compute its next timer deterministically.
 */

/** ISO weekdays (1 = Monday … 7 = Sunday); hours are [startHour, endHour) of local wall time. */
export interface SendWindow {
  days: number[];
  startHour: number;
  endHour: number;
  /** Used when the contact has no (valid) timezone; UTC when this is absent too. */
  timezone?: string;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** ISO weekday, 1 = Monday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when Intl knows this IANA zone name. */
export function isValidTimeZone(timeZone: string | null | undefined): timeZone is string {
  if (!timeZone) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

function localParts(instantMs: number, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instantMs))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday!] ?? 1,
  };
}

/** Offset of local wall time from UTC at this instant, in ms (positive east of Greenwich). */
function offsetMs(instantMs: number, timeZone: string): number {
  const p = localParts(instantMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/**
 * The instant at which the wall clock of `timeZone` shows this local time, disambiguated like
 * Temporal's "compatible" mode: a time that occurs twice (autumn overlap) is its first occurrence; a
 * time skipped by a spring-forward jump is read with the offset before the jump, i.e. it lands the
 * length of the jump later (02:30 → 03:30 on the wall clock; 02:00 → 03:00, the first instant after).
 */
export function zonedTimeToInstant(
  local: { year: number; month: number; day: number; hour: number; minute?: number },
  timeZone: string,
): number {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute ?? 0);
  const DAY = 86_400_000;
  // Offsets a day either side bracket any transition near this date (zones change at most once a day).
  const before = offsetMs(wall - DAY, timeZone);
  const after = offsetMs(wall + DAY, timeZone);
  const valid = [...new Set([before, after])]
    .map((offset) => wall - offset)
    .filter((instant) => wall - instant === offsetMs(instant, timeZone))
    .sort((a, b) => a - b);
  return valid[0] ?? wall - before;
}

/** The timezone a window is evaluated in: the contact's when valid, else the window's, else UTC. */
export function windowTimeZone(window: Pick<SendWindow, 'timezone'>, contactTimeZone?: string | null): string {
  if (isValidTimeZone(contactTimeZone)) return contactTimeZone;
  if (isValidTimeZone(window.timezone)) return window.timezone;
  return 'UTC';
}

/** A window that can ever open: some valid day and 0 ≤ startHour < endHour ≤ 24. */
export function isUsableWindow(window: SendWindow | null | undefined): window is SendWindow {
  if (!window || !Array.isArray(window.days)) return false;
  const days = window.days.filter((d) => Number.isInteger(d) && d >= 1 && d <= 7);
  return (
    days.length > 0 &&
    Number.isInteger(window.startHour) &&
    Number.isInteger(window.endHour) &&
    window.startHour >= 0 &&
    window.endHour <= 24 &&
    window.startHour < window.endHour
  );
}

/**
 * The first instant at or after `nowMs` that lies inside the send window, read on the wall clock of
 * the contact's timezone (falling back to the window's own, then UTC). `nowMs` itself when it is
 * already inside, or when there is no usable window (null, no days, startHour ≥ endHour).
 */
export function nextSendTime(nowMs: number, window: SendWindow | null | undefined, contactTimeZone?: string | null): number {
  if (!isUsableWindow(window)) return nowMs;
  const timeZone = windowTimeZone(window, contactTimeZone);
  const days = new Set(window.days);
  const now = localParts(nowMs, timeZone);
  if (days.has(now.weekday) && now.hour >= window.startHour && now.hour < window.endHour) return nowMs;

  // Walk forward over local calendar days (Date.UTC normalises month ends); a week always finds one.
  for (let offset = 0; offset <= 7; offset++) {
    const date = new Date(Date.UTC(now.year, now.month - 1, now.day + offset));
    const weekday = ((date.getUTCDay() + 6) % 7) + 1;
    if (!days.has(weekday)) continue;
    const opens = zonedTimeToInstant(
      { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour: window.startHour },
      timeZone,
    );
    if (opens > nowMs) return opens;
  }
  // Unreachable for a usable window; never block a journey on it.
  return nowMs;
}
