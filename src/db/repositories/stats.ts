import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { sendStatus } from '../schema.js';
import { EMAIL_EVENT_TYPES, type EmailEventType } from '../../domain/email-events.js';

export type SendStatusName = (typeof sendStatus.enumValues)[number];
export type StatsInterval = 'day' | 'week';

/** One bucket of the time series: sends created in it (by their current status) and email events that happened in it. */
export interface StatsBucket {
  /** First day of the bucket, `YYYY-MM-DD` (UTC); weeks start on Monday. */
  date: string;
  sends: number;
  sendsByStatus: Record<SendStatusName, number>;
  events: Record<EmailEventType, number>;
}

const DAY_MS = 86_400_000;

const zeros = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** The start (UTC midnight) of the bucket holding `day`: the day itself, or the Monday of its week. */
function bucketStart(day: Date, interval: StatsInterval): Date {
  const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
  if (interval === 'week') start.setUTCDate(start.getUTCDate() - ((start.getUTCDay() + 6) % 7));
  return start;
}

/**
 * Per-bucket counts for a site between two UTC days (both included): two grouped queries (sends by
 * creation day and status, email events by occurrence day and type), and every bucket of the range
 * present, empty ones as zeros.
 */
export async function statsTimeSeries(
  db: DbOrTx,
  siteId: number,
  range: { from: Date; to: Date; interval: StatsInterval },
): Promise<StatsBucket[]> {
  const first = bucketStart(range.from, range.interval);
  const lower = new Date(Date.UTC(range.from.getUTCFullYear(), range.from.getUTCMonth(), range.from.getUTCDate()));
  const upper = new Date(Date.UTC(range.to.getUTCFullYear(), range.to.getUTCMonth(), range.to.getUTCDate()) + DAY_MS);
  const unit = range.interval === 'week' ? sql.raw(`'week'`) : sql.raw(`'day'`);

  const [sendRows, eventRows] = await Promise.all([
    db.execute<{ bucket: string; status: SendStatusName; n: number }>(sql`
      select to_char(date_trunc(${unit}, created_at at time zone 'UTC'), 'YYYY-MM-DD') as bucket, status, count(*)::int as n
      from sends
      where site_id = ${siteId} and created_at >= ${lower.toISOString()}::timestamptz and created_at < ${upper.toISOString()}::timestamptz
      group by 1, 2`),
    db.execute<{ bucket: string; type: string; n: number }>(sql`
      select to_char(date_trunc(${unit}, occurred_at at time zone 'UTC'), 'YYYY-MM-DD') as bucket, type, count(*)::int as n
      from email_events
      where site_id = ${siteId} and occurred_at >= ${lower.toISOString()}::timestamptz and occurred_at < ${upper.toISOString()}::timestamptz
      group by 1, 2`),
  ]);

  const buckets = new Map<string, StatsBucket>();
  for (let d = first; d < upper; d = new Date(d.getTime() + (range.interval === 'week' ? 7 : 1) * DAY_MS)) {
    const date = d.toISOString().slice(0, 10);
    buckets.set(date, { date, sends: 0, sendsByStatus: zeros(sendStatus.enumValues), events: zeros(EMAIL_EVENT_TYPES) });
  }
  for (const row of sendRows.rows) {
    const bucket = buckets.get(row.bucket);
    if (!bucket) continue;
    bucket.sends += Number(row.n);
    bucket.sendsByStatus[row.status] += Number(row.n);
  }
  for (const row of eventRows.rows) {
    const bucket = buckets.get(row.bucket);
    if (!bucket || !(EMAIL_EVENT_TYPES as readonly string[]).includes(row.type)) continue;
    bucket.events[row.type as EmailEventType] += Number(row.n);
  }
  return [...buckets.values()];
}
