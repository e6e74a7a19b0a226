/**
 * Campaign throughput end to end.
 *
 *   npm run bench:campaign      (RECIPIENTS=100000 THROTTLED_RECIPIENTS=10000 MAX_PER_SECOND=500 by default)
 *
 * Starts a throwaway embedded PostgreSQL and Temporal dev server, the fake Resend server
 * (test/helpers/fake-resend.ts), and Tidings as two processes like production (`src/main.ts` with
 * TIDINGS_ROLE=api and TIDINGS_ROLE=worker). Seeds the contacts with set-based SQL, then:
 *  1. a campaign to RECIPIENTS contacts with no throttle, created through the API with scheduledAt =
 *     now: time to first email, and emails/s from the POST to the last email (audience freeze included);
 *  2. a campaign to THROTTLED_RECIPIENTS contacts with maxPerSecond = MAX_PER_SECOND: the measured
 *     rate between the first and the last email against the limit.
 * Checks that every recipient got exactly one email, records the peak RSS (VmHWM) of the worker and
 * API processes, prints a table and writes bench/results/campaign.json with machine info.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { createDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { ensureApiKey } from '../src/db/repositories/api-keys.js';
import { ensureDefaultSite } from '../src/db/repositories/sites.js';
import type { FakeResend } from '../test/helpers/fake-resend.js';
import { benchTidingsEnv, fakeResendConfig, seedBenchList, type RoleProcess, spawnTidingsRole, startBenchServices, benchPgFsync } from './lib/services.js';
import { machineInfo } from './lib/machine.js';
import { writeResult } from './lib/results.js';

const RECIPIENTS = Number(process.env.RECIPIENTS ?? 100_000);
const THROTTLED_RECIPIENTS = Number(process.env.THROTTLED_RECIPIENTS ?? 10_000);
const MAX_PER_SECOND = Number(process.env.MAX_PER_SECOND ?? 500);
const SECRET = 'bench-campaign-secret-0123456789abcdefghijkl';
const API_KEY = `tk_live_${'b'.repeat(32)}`;

async function waitFor(what: string, proc: RoleProcess, ready: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready().catch(() => false))) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${what} did not become ready:\n${proc.output()}`);
    await sleep(200);
  }
}

/** Peak resident set size (VmHWM) of a live process, in MB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function api<T>(base: string, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as { data: T; error?: unknown };
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json.error)}`);
  return json.data;
}

interface CampaignView {
  id: number;
  status: string;
  sentCount: number;
  failedCount: number;
  totalRecipients: number;
}

/** How many emails the last batch call carried. */
function lastBatchSize(fake: FakeResend): number {
  const batches = fake.requests.filter((r) => r.path === '/emails/batch' && r.status === 200 && !r.replayed);
  const body = batches[batches.length - 1]?.body;
  return Array.isArray(body) ? body.length : 1;
}

/** Runs one campaign from the POST to status sent; times the first and last accepted email. */
async function runCampaign(base: string, fake: FakeResend, body: Record<string, unknown>, expected: number) {
  fake.reset();
  const t0 = performance.now();
  const created = await api<CampaignView>(base, 'POST', '/campaigns', { ...body, scheduledAt: new Date().toISOString() });
  let firstAt: number | null = null;
  let lastCount = 0;
  let lastAt = t0;
  let view = created;
  let polls = 0;
  while (view.status !== 'sent' && view.status !== 'failed') {
    await sleep(5);
    const n = fake.emails.length;
    if (n > 0 && firstAt === null) firstAt = performance.now();
    if (n !== lastCount) {
      lastCount = n;
      lastAt = performance.now();
    }
    if (++polls % 50 === 0) view = await api<CampaignView>(base, 'GET', `/campaigns/${created.id}`);
    if (performance.now() - t0 > 30 * 60_000) throw new Error('campaign did not finish within 30 minutes');
  }
  const doneAt = performance.now();
  if (fake.emails.length !== lastCount) lastAt = doneAt;
  const perAddress = new Map<string, number>();
  for (const e of fake.emails) {
    const to = Array.isArray(e.payload.to) ? e.payload.to[0]! : e.payload.to;
    perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
  }
  const exactlyOnce = perAddress.size === expected && [...perAddress.values()].every((n) => n === 1);
  return {
    campaignId: created.id,
    status: view.status,
    recipients: expected,
    emailsAccepted: fake.emails.length,
    exactlyOnce,
    timeToFirstEmailMs: Math.round((firstAt ?? doneAt) - t0),
    totalSeconds: Math.round((doneAt - t0) / 10) / 100,
    emailsPerSecondEndToEnd: Math.round(expected / ((doneAt - t0) / 1000)),
    // Emails go out a batch at a time, so between the first and the last email lie (batches - 1)
    // intervals carrying every batch but the last: count (emails - last batch) over that span.
    emailsPerSecondFirstToLast:
      firstAt && lastAt > firstAt ? Math.round((expected - lastBatchSize(fake)) / ((lastAt - firstAt) / 1000)) : null,
    batchRequests: fake.requests.filter((r) => r.path === '/emails/batch').length,
  };
}

async function main() {
  // The machine and its load average before this bench adds its own load (the report's column).
  const machine = machineInfo();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'tidings-bench-campaign-'));
  const procs: RoleProcess[] = [];
  const { pg, temporal, fake, apiPort } = await startBenchServices(tmp);
  const database = createDatabase(pg.databaseUrl, { max: 2 });
  const { db } = database;
  try {
    await runMigrations(db);
    const { site } = await ensureDefaultSite(db);
    await ensureApiKey(db, site.id, API_KEY);
    const seedStart = performance.now();
    const list = (name: string, count: number, prefix: string) => seedBenchList(db, site.id, { name, count, prefix, firstName: 'Reader' });
    const bigList = await list('Everyone', RECIPIENTS, 'reader');
    const smallList = await list('Throttled', THROTTLED_RECIPIENTS, 'paced');
    await db.execute(sql`analyze`);
    const seedMs = Math.round(performance.now() - seedStart);
    const config = await fakeResendConfig(db, fake, { siteId: site.id, secret: SECRET, fromEmail: 'news@example.com' });

    const common = benchTidingsEnv({ databaseUrl: pg.databaseUrl, temporalAddress: temporal.address, fake, secret: SECRET, apiKey: API_KEY });
    const apiProc = spawnTidingsRole('api', { ...common, PORT: String(apiPort), HOST: '127.0.0.1', TIDINGS_DATA_DIR: path.join(tmp, 'api') });
    const workerProc = spawnTidingsRole('worker', { ...common, TIDINGS_DATA_DIR: path.join(tmp, 'worker') });
    procs.push(apiProc, workerProc);
    const base = `http://127.0.0.1:${apiPort}`;
    await waitFor('API', apiProc, async () => (await fetch(`${base}/readyz`)).ok);
    await waitFor('worker', workerProc, async () => workerProc.output().includes('Tidings is running'));

    const content = { subject: 'News for {{ firstName }}', html: '<h1>Hello {{ firstName }}</h1><p>What is new this month.</p>', sendingConfigId: config.id };
    process.stderr.write(`seeded ${RECIPIENTS + THROTTLED_RECIPIENTS} contacts in ${seedMs} ms; sending to ${RECIPIENTS}…\n`);
    const unthrottled = await runCampaign(base, fake, { name: 'Unthrottled', listId: bigList, ...content }, RECIPIENTS);
    process.stderr.write(`unthrottled: ${JSON.stringify(unthrottled)}\nsending to ${THROTTLED_RECIPIENTS} at ${MAX_PER_SECOND}/s…\n`);
    const throttled = await runCampaign(base, fake, { name: 'Throttled', listId: smallList, maxPerSecond: MAX_PER_SECOND, ...content }, THROTTLED_RECIPIENTS);

    const peakRss = { worker: await peakRssMb(workerProc.child.pid!), api: await peakRssMb(apiProc.child.pid!) };
    const measuredVsLimit = throttled.emailsPerSecondFirstToLast ? Math.round((throttled.emailsPerSecondFirstToLast / MAX_PER_SECOND) * 100) / 100 : 0;
    const n = (v: number) => v.toLocaleString('en-US');
    await writeResult({
      bench: 'campaign',
      machine,
      command: 'npm run bench:campaign',
      parameters: {
        setup: `embedded PostgreSQL (${benchPgFsync}) + Temporal dev server (SQLite) + fake Resend on localhost; API and worker as separate processes`,
        recipients: RECIPIENTS,
        throttledRecipients: THROTTLED_RECIPIENTS,
        maxPerSecond: MAX_PER_SECOND,
        seedMs,
      },
      figures: [
        { key: 'campaign_emails_per_s', label: `campaign to ${n(RECIPIENTS)}, no throttle: emails/s end to end (freeze included)`, value: unthrottled.emailsPerSecondEndToEnd ?? 0, unit: 'emails/s' },
        { key: 'campaign_first_email_ms', label: `campaign to ${n(RECIPIENTS)}, no throttle: time to first email`, value: unthrottled.timeToFirstEmailMs ?? 0, unit: 'ms' },
        { key: 'campaign_throttled_rate', label: `campaign to ${n(THROTTLED_RECIPIENTS)} at maxPerSecond ${MAX_PER_SECOND}: measured rate (first→last email)`, value: throttled.emailsPerSecondFirstToLast ?? 0, unit: 'emails/s' },
        { key: 'campaign_throttled_vs_limit', label: `campaign at maxPerSecond ${MAX_PER_SECOND}: measured / limit`, value: measuredVsLimit, unit: 'ratio' },
        { key: 'campaign_worker_peak_rss_mb', label: 'campaign: worker peak RSS', value: peakRss.worker ?? 0, unit: 'MB' },
        { key: 'campaign_api_peak_rss_mb', label: 'campaign: API peak RSS', value: peakRss.api ?? 0, unit: 'MB' },
      ],
      details: { unthrottled, throttled },
    });
    if (!unthrottled.exactlyOnce || !throttled.exactlyOnce) throw new Error('a recipient did not get exactly one email: see details above');
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.child.exitCode === null ? new Promise((r) => p.child.once('exit', r)) : null)));
    await database.close();
    await fake.close();
    await temporal.stop();
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
