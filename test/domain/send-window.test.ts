import { describe, expect, it } from 'vitest';
import { frequencyCapAllowsAt } from '../../src/domain/frequency-cap.js';
import { isUsableWindow, nextSendTime, windowTimeZone, zonedTimeToInstant, type SendWindow } from '../../src/domain/send-window.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const weekdays9to17: SendWindow = { days: [1, 2, 3, 4, 5], startHour: 9, endHour: 17 };

describe('send window', () => {
  it('sends at once when the contact\'s local time is already inside the window', () => {
    // Wednesday 2026-03-04 10:15 in New York (UTC-5).
    const now = at('2026-03-04T15:15:00Z');
    expect(nextSendTime(now, weekdays9to17, 'America/New_York')).toBe(now);
  });

  it('moves a send before opening time to 09:00 the same day in the contact\'s timezone', () => {
    // 06:00 in Berlin (UTC+1) on a Wednesday.
    expect(iso(nextSendTime(at('2026-03-04T05:00:00Z'), weekdays9to17, 'Europe/Berlin'))).toBe('2026-03-04T08:00:00.000Z');
  });

  it('moves a send after closing time to 09:00 on the next allowed day', () => {
    // Friday 18:00 in Tokyo (UTC+9) → Monday 09:00 Tokyo.
    expect(iso(nextSendTime(at('2026-03-06T09:00:00Z'), weekdays9to17, 'Asia/Tokyo'))).toBe('2026-03-09T00:00:00.000Z');
  });

  it('treats the end hour as exclusive', () => {
    // 17:00 sharp in UTC on a Tuesday is closed: next is Wednesday 09:00.
    expect(iso(nextSendTime(at('2026-03-03T17:00:00Z'), weekdays9to17, 'UTC'))).toBe('2026-03-04T09:00:00.000Z');
    expect(iso(nextSendTime(at('2026-03-03T16:59:59Z'), weekdays9to17, 'UTC'))).toBe('2026-03-03T16:59:59.000Z');
  });

  it('reads the weekday in the contact\'s timezone, not in UTC', () => {
    // Saturday 02:00 UTC is still Friday 21:00 in New York, but outside 9–17: next is Monday 09:00 New York.
    expect(iso(nextSendTime(at('2026-03-07T02:00:00Z'), weekdays9to17, 'America/New_York'))).toBe('2026-03-09T13:00:00.000Z');
    // Sunday 23:30 UTC is already Monday 08:30 in Tokyo: opens 30 minutes later.
    expect(iso(nextSendTime(at('2026-03-08T23:30:00Z'), weekdays9to17, 'Asia/Tokyo'))).toBe('2026-03-09T00:00:00.000Z');
  });

  it('follows the DST change: 09:00 New York is 14:00 UTC before the switch and 13:00 UTC after', () => {
    const window: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], startHour: 9, endHour: 10 };
    // Saturday 2026-03-07 (EST) and Monday 2026-03-09 (EDT, after the switch on Sunday the 8th).
    expect(iso(nextSendTime(at('2026-03-07T12:00:00Z'), window, 'America/New_York'))).toBe('2026-03-07T14:00:00.000Z');
    expect(iso(nextSendTime(at('2026-03-09T12:00:00Z'), window, 'America/New_York'))).toBe('2026-03-09T13:00:00.000Z');
    // Across the switch itself: from Saturday 11:00 EST, next 09:00 is Sunday, already EDT.
    expect(iso(nextSendTime(at('2026-03-07T16:00:00Z'), window, 'America/New_York'))).toBe('2026-03-08T13:00:00.000Z');
  });

  it('opens at the first instant after a spring-forward gap when the start hour does not exist', () => {
    // 02:00 on 2026-03-29 does not exist in Berlin (01:59 CET → 03:00 CEST = 01:00 UTC).
    const window: SendWindow = { days: [7], startHour: 2, endHour: 4 };
    expect(iso(nextSendTime(at('2026-03-28T23:00:00Z'), window, 'Europe/Berlin'))).toBe('2026-03-29T01:00:00.000Z');
  });

  it('uses the first of the two readings of an hour repeated when clocks go back', () => {
    // 01:00–02:00 happens twice in New York on 2026-11-01; the first 01:00 is 05:00 UTC (EDT).
    expect(iso(zonedTimeToInstant({ year: 2026, month: 11, day: 1, hour: 1 }, 'America/New_York'))).toBe('2026-11-01T05:00:00.000Z');
  });

  it('falls back to the window\'s timezone, then UTC, when the contact has none or an unknown one', () => {
    const window: SendWindow = { ...weekdays9to17, timezone: 'Europe/Paris' };
    expect(windowTimeZone(window, null)).toBe('Europe/Paris');
    expect(windowTimeZone(window, 'Mars/Olympus_Mons')).toBe('Europe/Paris');
    expect(windowTimeZone({}, undefined)).toBe('UTC');
    // 07:00 UTC is 08:00 in Paris (closed) → 09:00 Paris = 08:00 UTC.
    expect(iso(nextSendTime(at('2026-03-04T07:00:00Z'), window, null))).toBe('2026-03-04T08:00:00.000Z');
  });

  it('never holds a send back for a window that can never open', () => {
    const now = at('2026-03-04T03:00:00Z');
    for (const bad of [null, { days: [], startHour: 9, endHour: 17 }, { days: [1], startHour: 17, endHour: 9 }, { days: [9], startHour: 1, endHour: 2 }]) {
      expect(isUsableWindow(bad)).toBe(false);
      expect(nextSendTime(now, bad, 'UTC')).toBe(now);
    }
  });
});

describe('frequency cap', () => {
  it('allows the next sequence email N days after the last one, and at once without a cap or history', () => {
    const last = at('2026-03-01T10:00:00Z');
    expect(iso(frequencyCapAllowsAt(last, 3)!)).toBe('2026-03-04T10:00:00.000Z');
    expect(frequencyCapAllowsAt(last, 0)).toBeNull();
    expect(frequencyCapAllowsAt(null, 3)).toBeNull();
  });
});
