import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';

/**
 * Burst tolerance of the limiter, in seconds of traffic: after an idle spell this many seconds' worth
 * of slots (rounded down, so none at under 10/s) may go at once. Small on purpose: providers count
 * per second, and a burst beyond a tenth of the budget is what gets a 429.
 */
export const BURST_SECONDS = 0.1;

/**
 * Reserves `n` consecutive send slots of a sending config's rate limit and returns how many
 * milliseconds the caller must wait before using the first one (0 = now).
 *
 * A GCRA ("theoretical arrival time") held in `send_rate_limits`, advanced by `n / maxPerSecond`
 * seconds in one INSERT … ON CONFLICT DO UPDATE: the row lock serializes concurrent reservations from
 * every worker process, so the limit holds across the whole deployment without a coordinator, and
 * every kind of send (transactional, campaign, sequence) shares it. A reservation is a commitment:
 * the caller sleeps the returned time and then sends; it never hands slots back.
 */
export async function reserveSendSlots(db: DbOrTx, sendingConfigId: number, maxPerSecond: number, n = 1): Promise<number> {
  if (!(maxPerSecond > 0)) throw new RangeError(`maxPerSecond must be positive, got ${maxPerSecond}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const seconds = n / maxPerSecond;
  const toleranceMs = (Math.floor(maxPerSecond * BURST_SECONDS) / maxPerSecond) * 1000;
  // clock_timestamp(), not now(): now() is frozen at transaction start, so a caller that waited for the
  // row lock would compute from a stale instant. In the UPDATE it is read after the lock is taken.
  const result = await db.execute<{ wait_ms: number }>(sql`
    insert into send_rate_limits as l (sending_config_id, tat)
    values (${sendingConfigId}, clock_timestamp() + make_interval(secs => ${seconds}::float8))
    on conflict (sending_config_id) do update
      set tat = greatest(l.tat, clock_timestamp()) + make_interval(secs => ${seconds}::float8)
    returning greatest(
      0,
      extract(epoch from (l.tat - make_interval(secs => ${seconds}::float8) - clock_timestamp()))::float8 * 1000 - ${toleranceMs}::float8
    )::float8 as wait_ms
  `);
  const wait = Number(result.rows[0]?.wait_ms ?? 0);
  return Math.ceil(wait);
}
