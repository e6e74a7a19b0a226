/**
 * Resend webhook ingestion (issue 6): events/s accepted and latency at fixed concurrency.
 *
 *   npm run bench:webhooks      (EVENTS=10000 CONCURRENCY=50 REPLAYS=2000 WARMUP_EVENTS=500 by default)
 *
 * Starts a throwaway embedded PostgreSQL (fsync on unless BENCH_PG_FSYNC=off) and Temporal dev server (SQLite) and the Tidings
 * API as its own `src/main.ts` process (TIDINGS_ROLE=api), like production. Seeds one site with a
 * Resend sending config that has a webhook secret, and contacts with one sent campaign email each
 * (a provider message id, as the campaign worker leaves them). Then autocannon posts Resend events to
 * `POST /webhooks/resend`, each signed at request time the way Svix signs (svix-id, svix-timestamp,
 * svix-signature over the raw body), a realistic mix per email: delivered (or a permanent bounce for 2%),
 * opened for 60%, clicked for 30%, a complaint for 0.5%. Every event is new: each request verifies
 * the signature, records the receipt, finds the send, and records the event with its effects
 * (send status, campaign counter; contact status and suppression for bounces and complaints).
 * A second round re-posts REPLAYS of those same messages (Svix retries): each must answer
 * `duplicate`. Afterwards the database is checked: one receipt and one event per message.
 *
 * Latency is autocannon's (HdrHistogram, 1 ms resolution). autocannon runs in this process, on the
 * same 2 cores as the API and PostgreSQL: figures are a floor. Writes bench/results/webhooks.json.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import autocannon from 'autocannon';
import { count, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { createSecretBox } from '../src/crypto/secret-box.js';
import { createDatabase, type Db } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { ensureApiKey } from '../src/db/repositories/api-keys.js';
import { insertCampaign } from '../src/db/repositories/campaigns.js';
import { createSendingConfig } from '../src/db/repositories/sending-configs.js';
import { ensureDefaultSite } from '../src/db/repositories/sites.js';
import { campaigns, contacts, emailEvents, providerWebhookReceipts, sends } from '../src/db/schema.js';
import { loadAverage, machineInfo } from './lib/machine.js';
import { writeResult, type Figure } from './lib/results.js';
import { benchAborted, onCleanup, runBench, tempDir } from './lib/run.js';
import { startManagedBenchServices, startManagedRole, waitForRole, benchPgFsync } from './lib/services.js';
import { round } from './lib/stats.js';

const EVENTS = Number(process.env.EVENTS ?? 10_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const REPLAYS = Number(process.env.REPLAYS ?? 2_000);
const WARMUP_EVENTS = Number(process.env.WARMUP_EVENTS ?? 500);
const SECRET = 'bench-webhooks-secret-0123456789abcdefghijklmn';
const WEBHOOK_SECRET = `whsec_${Buffer.from('bench-webhooks-signing-key-0123').toString('base64')}`;
const API_KEY = `tk_live_${'w'.repeat(32)}`;

interface PlannedEvent {
  msgId: string;
  body: string;
  type: string;
}

/** A small deterministic generator, so two runs post the same mix in the same order. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resendEvent(type: string, emailId: string, extra: Record<string, unknown> = {}): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    type,
    created_at: now,
    data: { created_at: now, email_id: emailId, from: 'News <news@bench.example>', to: ['reader@bench.example'], subject: 'News', ...extra },
  });
}

/** The events Resend would post for these emails, until `total` events, in a shuffled order. */
function planEvents(emailIds: readonly string[], total: number, seed: number): PlannedEvent[] {
  const random = prng(seed);
  const planned: PlannedEvent[] = [];
  const add = (type: string, body: string) => planned.push({ msgId: `msg_${randomUUID().replaceAll('-', '')}`, type, body });
  for (const emailId of emailIds) {
    if (planned.length >= total) break;
    if (random() < 0.02) {
      add('email.bounced', resendEvent('email.bounced', emailId, { bounce: { type: 'Permanent', subType: 'General', message: 'The recipient does not exist.' } }));
      continue;
    }
    add('email.delivered', resendEvent('email.delivered', emailId));
    if (random() < 0.6) add('email.opened', resendEvent('email.opened', emailId));
    if (random() < 0.3) {
      add('email.clicked', resendEvent('email.clicked', emailId, { click: { link: 'https://bench.example/pricing', ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0', timestamp: new Date().toISOString() } }));
    }
    if (random() < 0.005) add('email.complained', resendEvent('email.complained', emailId));
  }
  const events = planned.slice(0, total);
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events;
}

/** Contacts with one campaign email each that Resend accepted; returns the Resend email ids. */
async function seedEmails(db: Db, siteId: number, sendingConfigId: number, campaignId: number, n: number, prefix: string): Promise<string[]> {
  const emailIds: string[] = [];
  for (let start = 0; start < n; start += 1000) {
    const size = Math.min(1000, n - start);
    const rows = await db
      .insert(contacts)
      .values(Array.from({ length: size }, (_, j) => ({ siteId, email: `${prefix}-${start + j}@bench.example`, firstName: 'Reader' })))
      .returning({ id: contacts.id, email: contacts.email });
    const ids = rows.map(() => randomUUID());
    await db.insert(sends).values(
      rows.map((c, j) => ({
        siteId,
        kind: 'campaign' as const,
        contactId: c.id,
        toEmail: c.email,
        subject: 'News',
        html: '<p>News</p>',
        text: 'News',
        sendingConfigId,
        campaignId,
        providerMessageId: ids[j]!,
        status: 'sent' as const,
        sentAt: new Date(),
        idempotencyKey: `campaign:${campaignId}:${c.id}`,
      })),
    );
    emailIds.push(...ids);
  }
  return emailIds;
}

/** Runs autocannon and resolves with its result; aborting the bench stops it. */
function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
    const stop = () => instance.stop();
    benchAborted.addEventListener('abort', stop, { once: true });
    instance.on('done', () => benchAborted.removeEventListener('abort', stop));
  });
}

interface RoundResult {
  label: string;
  events: number;
  connections: number;
  durationS: number;
  eventsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; p99_9: number; max: number; mean: number };
  statusCodes: Record<string, number>;
  /** Answers that were not 200 with the expected `duplicate` flag. */
  unexpected: number;
  errors: number;
  loadAverageAtStart: number[];
}

/**
 * Posts `events` once each from `connections` keep-alive clients; each request is signed as it is
 * built (a fresh svix-timestamp, as Svix does per attempt). `duplicate` is what every answer must say.
 */
async function postRound(base: string, label: string, events: PlannedEvent[], duplicate: boolean): Promise<RoundResult> {
  const signer = new Webhook(WEBHOOK_SECRET);
  let next = 0;
  let unexpected = 0;
  const loadAverageAtStart = loadAverage();
  process.stderr.write(`${label}: ${events.length} events, ${CONCURRENCY} connections (load ${loadAverageAtStart.join(' ')})…\n`);
  const r = await cannon({
    url: base,
    connections: Math.min(CONCURRENCY, events.length),
    amount: events.length,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/webhooks/resend',
        setupRequest: (req) => {
          const event = events[next++ % events.length]!;
          const at = new Date();
          return {
            ...req,
            body: event.body,
            headers: {
              'content-type': 'application/json',
              'svix-id': event.msgId,
              'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
              'svix-signature': signer.sign(event.msgId, at, event.body),
            },
          };
        },
        onResponse: (status, body) => {
          if (status !== 200 || (JSON.parse(body) as { data?: { duplicate?: boolean } }).data?.duplicate !== duplicate) unexpected += 1;
        },
      },
    ],
  });
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  const result: RoundResult = {
    label,
    events: r.requests.total,
    connections: r.connections,
    durationS: r.duration,
    eventsPerSecond: r['2xx'] / r.duration,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p99_9: r.latency.p99_9, max: r.latency.max, mean: round(r.latency.mean, 2) },
    statusCodes,
    unexpected,
    errors: r.errors,
    loadAverageAtStart,
  };
  process.stderr.write(
    `  ${result.eventsPerSecond.toFixed(1)} events/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms; status ${JSON.stringify(statusCodes)}; unexpected ${unexpected}; errors ${r.errors}\n`,
  );
  return result;
}

async function main() {
  const machine = machineInfo();
  const tmp = await tempDir('webhooks');
  process.stderr.write('starting PostgreSQL and the Temporal dev server…\n');
  const { pg, temporal, apiPort } = await startManagedBenchServices(tmp);

  const database = createDatabase(pg.databaseUrl, { max: 4 });
  onCleanup('close pool', () => database.close());
  const { db } = database;
  await runMigrations(db);
  const { site } = await ensureDefaultSite(db);
  await ensureApiKey(db, site.id, API_KEY);
  const config = await createSendingConfig(db, createSecretBox(SECRET), site.id, {
    name: 'Resend',
    provider: 'resend',
    fromEmail: 'news@bench.example',
    credentials: { apiKey: 're_bench' },
    webhookSecret: WEBHOOK_SECRET,
  });
  const campaign = await insertCampaign(db, { siteId: site.id, name: 'Bench news', sendingConfigId: config.id, audience: {}, status: 'sent' });

  // About 1.9 events per email with this mix; seed enough emails for EVENTS, and apart for the warm-up.
  process.stderr.write('seeding contacts and sent emails…\n');
  const emails = Math.ceil(EVENTS / 1.5);
  const warmIds = await seedEmails(db, site.id, config.id, campaign.id, Math.ceil(WARMUP_EVENTS / 1.5), 'warm');
  const emailIds = await seedEmails(db, site.id, config.id, campaign.id, emails, 'reader');
  const warmEvents = planEvents(warmIds, WARMUP_EVENTS, 1);
  const measured = planEvents(emailIds, EVENTS, 2);
  if (measured.length < EVENTS) throw new Error(`planned only ${measured.length} events for ${EVENTS}`);

  const base = `http://127.0.0.1:${apiPort}`;
  const apiProc = startManagedRole('api', {
    DATABASE_URL: pg.databaseUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TIDINGS_SECRET: SECRET,
    TIDINGS_API_KEY: API_KEY,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    TIDINGS_DATA_DIR: path.join(tmp, 'api'),
  });
  await waitForRole('API', apiProc, async () => (await fetch(`${base}/readyz`)).ok);

  const warm = await postRound(base, 'warm-up (not reported)', warmEvents, false);
  if (warm.unexpected) throw new Error(`warm-up: ${warm.unexpected} unexpected answers ${JSON.stringify(warm.statusCodes)}`);
  const fresh = await postRound(base, 'new events', measured, false);
  const replayed = await postRound(base, 'replays (Svix retries of the same messages)', measured.slice(0, REPLAYS), true);

  // One receipt and one event per message, whatever the concurrency and the replays.
  const [receipts] = await db.select({ n: count() }).from(providerWebhookReceipts);
  const [events] = await db.select({ n: count() }).from(emailEvents);
  const [counters] = await db.select().from(campaigns).where(eq(campaigns.id, campaign.id));
  const expected = warmEvents.length + measured.length;
  if (receipts!.n !== expected || events!.n !== expected) {
    throw new Error(`expected ${expected} receipts and events, found ${receipts!.n} receipts and ${events!.n} events`);
  }
  const byType = (type: string) => warmEvents.filter((e) => e.type === type).length + measured.filter((e) => e.type === type).length;
  const check = { delivered: counters!.deliveredCount === byType('email.delivered'), opened: counters!.openedCount === byType('email.opened'), bounced: counters!.bouncedCount === byType('email.bounced') };
  if (!Object.values(check).every(Boolean)) throw new Error(`campaign counters do not match the events posted: ${JSON.stringify({ check, counters })}`);

  const figures: Figure[] = [];
  for (const [key, r, what] of [
    ['new', fresh, 'new events'],
    ['replay', replayed, 'replayed message ids'],
  ] as const) {
    const at = `POST /webhooks/resend, ${what}, ${r.connections} clients`;
    const loadAverage = r.loadAverageAtStart;
    figures.push(
      { key: `${key}.events_per_s`, label: `${at}: accepted`, value: round(r.eventsPerSecond), unit: 'events/s', loadAverage },
      { key: `${key}.p50_ms`, label: `${at}: latency p50`, value: r.latencyMs.p50, unit: 'ms', loadAverage },
      { key: `${key}.p99_ms`, label: `${at}: latency p99`, value: r.latencyMs.p99, unit: 'ms', loadAverage },
      { key: `${key}.failed`, label: `${at}: answers other than 200 ${key === 'new' ? 'new' : 'duplicate'} (of ${r.events.toLocaleString('en-US')}), plus connection errors`, value: r.unexpected + r.errors, unit: 'requests', loadAverage },
    );
  }

  const version = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  await writeResult({
    bench: 'webhooks',
    command: 'npm run bench:webhooks',
    machine,
    parameters: {
      events: EVENTS,
      replays: REPLAYS,
      warmUpEvents: WARMUP_EVENTS,
      concurrency: CONCURRENCY,
      emails,
      mix: 'per email: delivered (or a permanent bounce, 2%), opened 60%, clicked 30%, complained 0.5%; shuffled',
      generator: `autocannon ${version} in the bench process (same cores as the API), keep-alive, no pipelining; each request Svix-signed as it is built`,
      setup:
        `embedded PostgreSQL (${benchPgFsync}) + Temporal dev server (SQLite) on localhost; the API as a \`src/main.ts\` process (TIDINGS_ROLE=api); ` +
        'one Resend sending config with a webhook secret; no outgoing webhook endpoints and no enrollments (no Temporal calls per event)',
    },
    figures,
    details: { rounds: [warm, fresh, replayed], counters: { delivered: counters!.deliveredCount, opened: counters!.openedCount, clicked: counters!.clickedCount, bounced: counters!.bouncedCount, complained: counters!.complainedCount } },
  });
}

await runBench('bench:webhooks', main, { timeoutMs: 15 * 60_000 });
