/**
 * Step delays and wait timeouts: a whole number of minutes, hours, days or weeks. Pure, so the
 * enrollment workflow (timers) and the API (validation, "next step at") compute the same instant.
 */
export const DELAY_UNITS = ['minutes', 'hours', 'days', 'weeks'] as const;
export type DelayUnit = (typeof DELAY_UNITS)[number];

const MINUTE = 60_000;

/**
 * Milliseconds per unit. A day is 24 hours of elapsed time, not a calendar day: a "1 day" delay that
 * spans a DST change fires 24 h later; wall-clock rules belong to the send window.
 */
export const DELAY_UNIT_MS: Readonly<Record<DelayUnit, number>> = {
  minutes: MINUTE,
  hours: 60 * MINUTE,
  days: 24 * 60 * MINUTE,
  weeks: 7 * 24 * 60 * MINUTE,
};

/** Longest accepted delay (a year): longer waits are almost always a unit mistake. */
export const MAX_DELAY_MS = 366 * DELAY_UNIT_MS.days;

export function isDelayUnit(unit: string): unit is DelayUnit {
  return (DELAY_UNITS as readonly string[]).includes(unit);
}

/** `delayValue` of `delayUnit` in milliseconds; throws on a negative or non-integer value. */
export function delayMs(value: number, unit: DelayUnit): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`delay must be a non-negative integer, got ${value}`);
  return value * DELAY_UNIT_MS[unit];
}

/** The largest `value` accepted for `unit` (so the total stays within {@link MAX_DELAY_MS}). */
export function maxDelayValue(unit: DelayUnit): number {
  return Math.floor(MAX_DELAY_MS / DELAY_UNIT_MS[unit]);
}
