/**
 * Segment count queries on 100,000 contacts.
 *
 *   npm run bench:segments            (CONTACTS=100000 RUNS=20 by default)
 *
 * Starts a throwaway embedded PostgreSQL in a temp dir, migrates it, bulk-inserts contacts with
 * tags, lists, custom fields, sends and email events (set-based SQL, seconds), then times
 * `countSegment` for a few realistic segments: p50/p99 over RUNS runs after two warm-ups.
 * Prints a table and writes bench/results/segments.json with machine info.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { createDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { countSegment } from '../src/db/segments.js';
import { segmentRulesSchema, type SegmentRules } from '../src/domain/segment-rules.js';
import { findFreePort } from '../src/embedded/ports.js';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { machineInfo } from './lib/machine.js';
import { writeResult } from './lib/results.js';
import { percentile } from './lib/stats.js';

const CONTACTS = Number(process.env.CONTACTS ?? 100_000);
const RUNS = Number(process.env.RUNS ?? 20);
const CAMPAIGN_ID = 1;


const round = (ms: number) => Math.round(ms * 100) / 100;

async function main() {
  // The machine and its load average before this bench adds its own load (the report's column).
  const machine = machineInfo();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'tidings-bench-segments-'));
  const pg = await startEmbeddedPostgres({
    dataDir: tmp,
    port: await findFreePort(),
    database: 'bench',
    // Throwaway cluster: durability would only slow the seeding; queries are read-only.
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
  });
  const database = createDatabase(pg.databaseUrl, { max: 2 });
  const { db } = database;
  try {
    await runMigrations(db);
    const seedStart = performance.now();
    // Everything set-based: one statement per table. md5/hashtext give a deterministic spread.
    const [site] = (await db.execute<{ id: number }>(sql`insert into sites (name) values ('Bench') returning id`)).rows;
    const [other] = (await db.execute<{ id: number }>(sql`insert into sites (name) values ('Other') returning id`)).rows;
    const siteId = site!.id;
    await db.execute(sql`
      insert into contacts (site_id, email, first_name, last_name, city, country, company, source, status, custom_fields, subscribed_at, created_at)
      select ${siteId}, 'user' || g || '@example.com', 'First' || (g % 5000), 'Last' || (g % 7919),
        (array['Paris','London','Berlin','Lyon','Madrid','Rome','Lisbon','Dublin'])[1 + g % 8],
        (array['FR','GB','DE','FR','ES','IT','PT','IE'])[1 + g % 8],
        'Company ' || (g % 3000), (array['import','api','form'])[1 + g % 3],
        (case when g % 20 = 0 then 'unsubscribed' when g % 50 = 1 then 'bounced' else 'subscribed' end)::contact_status,
        jsonb_build_object('plan', (array['free','pro','team','enterprise'])[1 + (g / 7) % 4], 'score', g % 100,
          'seats', (g % 40)::text, 'signup', to_char(now() - (g % 700) * interval '1 day', 'YYYY-MM-DD')),
        now() - (g % 700) * interval '1 day', now() - (g % 730) * interval '1 day'
      from generate_series(1, ${CONTACTS}) g`);
    // A second site of 10% the size, so every query also has to skip someone else's rows.
    await db.execute(sql`
      insert into contacts (site_id, email, city, country, custom_fields)
      select ${other!.id}, 'other' || g || '@example.com', 'Paris', 'FR', '{"plan":"pro","score":99}'::jsonb
      from generate_series(1, ${Math.ceil(CONTACTS / 10)}) g`);
    await db.execute(sql`insert into tags (site_id, name) select ${siteId}, 'tag' || g from generate_series(1, 20) g`);
    await db.execute(sql`insert into tags (site_id, name) values (${siteId}, 'vip')`);
    // Every contact gets two of the 20 tags; 5% are VIPs.
    await db.execute(sql`
      insert into contact_tags (contact_id, tag_id)
      select c.id, t.id from contacts c join tags t on t.site_id = c.site_id
      where c.site_id = ${siteId} and (t.name = 'tag' || (1 + c.id % 20) or t.name = 'tag' || (1 + (c.id / 20) % 20) or (t.name = 'vip' and c.id % 20 = 3))
      on conflict do nothing`);
    await db.execute(sql`insert into lists (site_id, name) select ${siteId}, 'List ' || g from generate_series(1, 5) g`);
    const listIds = (await db.execute<{ id: number }>(sql`select id from lists where site_id = ${siteId} order by id`)).rows.map((r) => r.id);
    // ~60% of contacts are in list 1, ~20% in each of the others.
    await db.execute(sql`
      insert into list_members (list_id, contact_id)
      select l.id, c.id from contacts c join lists l on l.site_id = c.site_id
      where c.site_id = ${siteId} and ((l.id = ${listIds[0]!} and c.id % 5 < 3) or (l.id <> ${listIds[0]!} and c.id % 5 = l.id % 5))
      on conflict do nothing`);
    const [config] = (
      await db.execute<{ id: number }>(
        sql`insert into sending_configs (site_id, name, provider, from_email, credentials_encrypted) values (${siteId}, 'log', 'log', 'bench@example.com', 'none') returning id`,
      )
    ).rows;
    // Campaign 1 went to half the contacts; 30% of those opened it, 10% clicked.
    await db.execute(sql`
      insert into sends (site_id, kind, contact_id, to_email, subject, html, text, sending_config_id, campaign_id, status, idempotency_key, sent_at)
      select ${siteId}, 'campaign', c.id, c.email, 'Hello', '<p>Hi</p>', 'Hi', ${config!.id}, ${CAMPAIGN_ID}, 'delivered', 'bench:' || c.id, now() - interval '20 days'
      from contacts c where c.site_id = ${siteId} and c.id % 2 = 0`);
    await db.execute(sql`
      insert into email_events (site_id, type, send_id, contact_id, campaign_id, occurred_at)
      select s.site_id, 'opened', s.id, s.contact_id, s.campaign_id, now() - (s.id % 60) * interval '1 day'
      from sends s where s.site_id = ${siteId} and s.id % 10 < 3`);
    await db.execute(sql`
      insert into email_events (site_id, type, send_id, contact_id, campaign_id, occurred_at)
      select s.site_id, 'clicked', s.id, s.contact_id, s.campaign_id, now() - (s.id % 90) * interval '1 day'
      from sends s where s.site_id = ${siteId} and s.id % 10 = 0`);
    await db.execute(sql`analyze`);
    const seedMs = performance.now() - seedStart;
    const counts = (
      await db.execute<{ contacts: number; tags: number; members: number; sends: number; events: number }>(sql`select
        (select count(*)::int from contacts) as contacts, (select count(*)::int from contact_tags) as tags,
        (select count(*)::int from list_members) as members, (select count(*)::int from sends) as sends,
        (select count(*)::int from email_events) as events`)
    ).rows[0]!;
    console.log(`seeded in ${(seedMs / 1000).toFixed(1)} s:`, counts);

    const segments: { name: string; rules: unknown }[] = [
      {
        name: 'French subscribers on the pro plan (attributes + custom field)',
        rules: {
          operator: 'AND',
          conditions: [
            { type: 'attribute', field: 'country', op: 'eq', value: 'FR' },
            { type: 'attribute', field: 'status', op: 'eq', value: 'subscribed' },
            { type: 'attribute', field: 'customFields.plan', op: 'eq', value: 'pro' },
          ],
        },
      },
      {
        name: 'Tag vip OR in list 2 (tag + list membership)',
        rules: { operator: 'OR', conditions: [{ type: 'tag', op: 'has', tag: 'vip' }, { type: 'list', op: 'in', listId: listIds[1] }] },
      },
      {
        name: 'Numeric custom field ≥ 50, signed up in the last 90 days',
        rules: {
          operator: 'AND',
          conditions: [
            { type: 'attribute', field: 'customFields.score', op: 'gte', value: 50 },
            { type: 'attribute', field: 'createdAt', op: 'gt', value: new Date(Date.now() - 90 * 86_400_000).toISOString() },
          ],
        },
      },
      {
        name: 'Opened in the last 30 days (engagement)',
        rules: { operator: 'AND', conditions: [{ type: 'engagement', metric: 'opened', op: 'within_days', days: 30 }] },
      },
      {
        name: 'Received campaign but did not open it (send history)',
        rules: {
          operator: 'AND',
          conditions: [
            { type: 'send_history', op: 'received', campaignId: CAMPAIGN_ID },
            { type: 'send_history', op: 'not_opened', campaignId: CAMPAIGN_ID },
          ],
        },
      },
      {
        name: 'Nested: list 1 AND (tag3 OR clicked 30d) AND NOT unsubscribed AND city contains "par"',
        rules: {
          operator: 'AND',
          conditions: [
            { type: 'list', op: 'in', listId: listIds[0] },
            {
              type: 'group',
              operator: 'OR',
              conditions: [
                { type: 'tag', op: 'has', tag: 'tag3' },
                { type: 'engagement', metric: 'clicked', op: 'within_days', days: 30 },
              ],
            },
            { type: 'attribute', field: 'status', op: 'neq', value: 'unsubscribed' },
            { type: 'attribute', field: 'city', op: 'contains', value: 'par' },
          ],
        },
      },
    ];

    const results = [];
    for (const s of segments) {
      const rules: SegmentRules = segmentRulesSchema.parse(s.rules);
      let count = 0;
      for (let i = 0; i < 2; i++) count = await countSegment(db, siteId, rules);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await countSegment(db, siteId, rules);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const row = { segment: s.name, count, p50Ms: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)), minMs: round(times[0]!), runs: RUNS };
      results.push(row);
      console.log(`${row.p50Ms.toFixed(1).padStart(8)} ms p50 ${row.p99Ms.toFixed(1).padStart(8)} ms p99  ${String(count).padStart(7)} contacts  ${s.name}`);
    }

    const version = (await db.execute<{ v: string }>(sql`select current_setting('server_version') as v`)).rows[0]!.v;
    await writeResult({
      bench: 'segments',
      machine,
      command: 'npm run bench:segments',
      parameters: {
        postgres: `${version} (embedded, fsync off)`,
        dataset: { siteContacts: CONTACTS, otherSiteContacts: Math.ceil(CONTACTS / 10), rows: counts, seedSeconds: round(seedMs / 1000) },
        runsPerSegment: RUNS,
      },
      figures: results.flatMap((r) => [
        { key: `segment_count_p50_ms:${r.segment}`, label: `segment count on ${CONTACTS.toLocaleString('en-US')} contacts, ${r.segment}: p50`, value: r.p50Ms, unit: 'ms' },
        { key: `segment_count_p99_ms:${r.segment}`, label: `segment count on ${CONTACTS.toLocaleString('en-US')} contacts, ${r.segment}: p99`, value: r.p99Ms, unit: 'ms' },
      ]),
      details: { results },
    });
  } finally {
    await database.close();
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
