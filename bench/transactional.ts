/**
 * Transactional email end to end.
 *
 *   npm run bench:transactional      (REQUESTS=500 CONCURRENCY=1,50 BATCH_EMAILS=10000 ROLES=all by default)
 *
 * Starts a throwaway embedded PostgreSQL (fsync on, as the product runs it; BENCH_PG_FSYNC=off for the
 * old setting) and Temporal dev server (SQLite), the fake Resend server (test/helpers/fake-resend.ts) in
 * this process, and Tidings as `npm start` runs it: one `src/main.ts` process with the API and the
 * workers (TIDINGS_ROLE=all), or with ROLES=split two processes as the compose file runs them
 * (TIDINGS_ROLE=api and worker), pointed at the fake with RESEND_BASE_URL. Then, for each concurrency:
 *  - REQUESTS × `POST /api/v1/send` from that many concurrent clients: requests/s the API accepts
 *    (202s over the wall time of the POST phase) and the 202 latency;
 *  - the latency from starting each POST to the fake Resend receiving that email (p50/p99), waiting
 *    until every email arrived exactly once.
 * Then, unless CAMPAIGN_RECIPIENTS=0, the last concurrency's round again while a campaign to
 * CAMPAIGN_RECIPIENTS (100,000 by default, seeded set-based) sends through the same fake provider on
 * the main task queue: its p99 against the idle round's shows whether bulk traffic delays transactional
 * mail (the campaign must still be sending when the round ends, or the bench fails).
 * Finally the Resend batch path on its own: BATCH_EMAILS messages through the Resend adapter's
 * sendBatch (chunks of 100 per request) against the same fake, once sequentially and once as four
 * concurrent callers. Prints a table and writes bench/results/transactional.json with the machine.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { ensureApiKey } from '../src/db/repositories/api-keys.js';
import { ensureDefaultSite } from '../src/db/repositories/sites.js';
import type { OutgoingEmail } from '../src/mail/mailer.js';
import { createResendMailer } from '../src/mail/resend.js';
import type { FakeResend } from '../test/helpers/fake-resend.js';
import { machineInfo } from './lib/machine.js';
import { memoryOf } from './lib/proc.js';
import { writeResult, type Figure } from './lib/results.js';
import { onCleanup, runBench, since, tempDir } from './lib/run.js';
import { benchPgDurable, benchTidingsEnv, fakeResendConfig, type RoleProcess, seedBenchList, spawnTidingsRole, startManagedBenchServices } from './lib/services.js';
import { round } from './lib/stats.js';
import { arrivalClock, type RoundResult, sendRound } from './lib/transactional-load.js';

const REQUESTS = Number(process.env.REQUESTS ?? 500);
/** `all`: API and workers in one process, as `npm start` runs them (the default); `split`: two processes, as the compose file does. */
const ROLES = process.env.ROLES === 'split' ? 'split' : 'all';
const CONCURRENCIES = (process.env.CONCURRENCY ?? '1,50').split(',').map(Number);
const BATCH_EMAILS = Number(process.env.BATCH_EMAILS ?? 10_000);
const CAMPAIGN_RECIPIENTS = Number(process.env.CAMPAIGN_RECIPIENTS ?? 100_000);
const SECRET = 'bench-transactional-secret-0123456789abcdefgh';
const API_KEY = `tk_live_${'t'.repeat(32)}`;

function startTidings(role: 'api' | 'worker' | 'all', env: Record<string, string>): RoleProcess {
  const proc = spawnTidingsRole(role, env);
  const { child } = proc;
  onCleanup(`stop ${role}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
  });
  return proc;
}

async function waitFor(what: string, proc: RoleProcess, ready: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready().catch(() => false))) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${what} did not become ready:\n${proc.output()}`);
    await sleep(200);
  }
}

function batchMessages(count: number, prefix: string): OutgoingEmail[] {
  return Array.from({ length: count }, (_, i) => ({
    from: { email: 'news@example.com', name: 'Bench' },
    to: `reader${i}@example.com`,
    subject: `batch ${prefix} #${i}`,
    html: `<p>Hello reader ${i}</p>`,
    text: `Hello reader ${i}`,
    idempotencyKey: `bench:${prefix}:${i}`,
  }));
}

/** emails/s through the adapter's batch endpoint: `callers` concurrent sendBatch calls sharing `total` messages. */
async function batchRound(fake: FakeResend, total: number, callers: number, prefix: string) {
  const mailer = createResendMailer({ apiKey: fake.apiKey, baseUrl: fake.url });
  // Counted by subject: the campaign of the round before may still be sending through the same fake.
  const ours = () => fake.emails.filter((e) => e.payload.subject.startsWith(`batch ${prefix}-`)).length;
  const before = ours();
  const share = Math.ceil(total / callers);
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: callers }, (_, c) => mailer.sendBatch(batchMessages(Math.min(share, total - c * share), `${prefix}-${c}`))),
  );
  const seconds = since(started) / 1000;
  const sent = outcomes.flat().filter((o) => o.kind === 'sent').length;
  const arrived = ours() - before;
  if (sent !== total || arrived !== total) throw new Error(`batch ${prefix}: ${sent} sent of ${total}, ${arrived} at the provider`);
  return { emails: total, callers, requests: Math.ceil(share / 100) * callers, seconds, emailsPerSecond: total / seconds };
}

async function main() {
  const machine = machineInfo();
  const tmp = await tempDir('transactional');
  process.stderr.write('starting PostgreSQL, the Temporal dev server and the fake Resend…\n');
  const { pg, temporal, fake, apiPort } = await startManagedBenchServices(tmp);
  const arrivals = arrivalClock(fake);

  const database = createDatabase(pg.databaseUrl, { max: 2 });
  onCleanup('close pool', () => database.close());
  await runMigrations(database.db);
  const { site } = await ensureDefaultSite(database.db);
  await ensureApiKey(database.db, site.id, API_KEY);
  const config = await fakeResendConfig(database.db, fake, { siteId: site.id, secret: SECRET, fromEmail: 'receipts@example.com', fromName: 'Bench' });
  const campaignList = CAMPAIGN_RECIPIENTS > 0 ? await seedBenchList(database.db, site.id, { name: 'Newsletter', count: CAMPAIGN_RECIPIENTS, prefix: 'reader', firstName: 'Reader' }) : null;

  const common = benchTidingsEnv({ databaseUrl: pg.databaseUrl, temporalAddress: temporal.address, fake, secret: SECRET, apiKey: API_KEY });
  const apiProc = startTidings(ROLES === 'all' ? 'all' : 'api', { ...common, PORT: String(apiPort), HOST: '127.0.0.1', TIDINGS_DATA_DIR: path.join(tmp, 'api') });
  const workerProc = ROLES === 'all' ? apiProc : startTidings('worker', { ...common, TIDINGS_DATA_DIR: path.join(tmp, 'worker') });
  const base = `http://127.0.0.1:${apiPort}`;
  await waitFor('API', apiProc, async () => (await fetch(`${base}/readyz`)).ok);
  await waitFor('worker', workerProc, async () => workerProc.output().includes('Tidings is running'));

  // A short warm-up (JIT, connection pools, the workflow cache) that is not measured.
  process.stderr.write('warming up…\n');
  const warmRequests = 100;
  await sendRound({ base, apiKey: API_KEY, fake, arrivals, configId: config.id, concurrency: 10, label: 'warmup', count: warmRequests }).catch((err: Error) => {
    throw new Error(`warm-up failed: ${err.message}`);
  });

  const rounds: RoundResult[] = [];
  for (const concurrency of CONCURRENCIES) {
    process.stderr.write(`${REQUESTS} × POST /send with ${concurrency} concurrent client(s)…\n`);
    rounds.push(await sendRound({ base, apiKey: API_KEY, fake, arrivals, configId: config.id, concurrency, label: `c${concurrency}`, count: REQUESTS }));
  }

  let duringCampaign: (RoundResult & { campaignEmailsBefore: number; campaignEmailsAfter: number }) | null = null;
  if (campaignList !== null) {
    const concurrency = CONCURRENCIES.at(-1)!;
    const campaignEmails = () => fake.emails.filter((e) => e.payload.subject.startsWith('Newsletter for ')).length;
    const res = await fetch(`${base}/api/v1/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Newsletter',
        listId: campaignList,
        subject: 'Newsletter for {{ firstName }}',
        html: '<h1>Hello {{ firstName }}</h1><p>What is new this month.</p>',
        sendingConfigId: config.id,
        scheduledAt: new Date().toISOString(),
      }),
    });
    if (res.status !== 201) throw new Error(`creating the campaign: ${res.status} ${await res.text()}`);
    process.stderr.write(`a campaign to ${CAMPAIGN_RECIPIENTS} starts; waiting for its first batches…\n`);
    const deadline = Date.now() + 5 * 60_000;
    while (campaignEmails() < 1_000) {
      if (Date.now() > deadline) throw new Error('the campaign sent no batch within 5 minutes');
      await sleep(20);
    }
    const before = campaignEmails();
    process.stderr.write(`${REQUESTS} × POST /send with ${concurrency} concurrent client(s) while it sends (${before} campaign emails so far)…\n`);
    const busy = await sendRound({ base, apiKey: API_KEY, fake, arrivals, configId: config.id, concurrency, label: `campaign-c${concurrency}`, count: REQUESTS });
    const after = campaignEmails();
    if (after >= CAMPAIGN_RECIPIENTS) throw new Error(`the campaign finished (${after} emails) before the transactional round did: raise CAMPAIGN_RECIPIENTS`);
    duringCampaign = { ...busy, campaignEmailsBefore: before, campaignEmailsAfter: after };
  }

  process.stderr.write(`${BATCH_EMAILS} emails through the Resend batch endpoint…\n`);
  const batchSequential = await batchRound(fake, BATCH_EMAILS, 1, 'seq');
  const batchParallel = await batchRound(fake, BATCH_EMAILS, 4, 'par');

  const memory = ROLES === 'all' ? { all: await memoryOf(apiProc.child.pid!) } : { api: await memoryOf(apiProc.child.pid!), worker: await memoryOf(workerProc.child.pid!) };
  const figures: Figure[] = [];
  for (const r of rounds) {
    const c = r.concurrency;
    figures.push(
      { key: `c${c}.accepted_per_second`, label: `POST /send accepted, ${c} client(s)`, value: round(r.acceptedPerSecond), unit: 'requests/s' },
      { key: `c${c}.accept_p50_ms`, label: `POST /send → 202 p50, ${c} client(s)`, value: round(r.acceptMs.p50), unit: 'ms' },
      { key: `c${c}.accept_p99_ms`, label: `POST /send → 202 p99, ${c} client(s)`, value: round(r.acceptMs.p99), unit: 'ms' },
      { key: `c${c}.provider_p50_ms`, label: `POST /send → provider receives it p50, ${c} client(s)`, value: round(r.toProviderMs.p50), unit: 'ms' },
      { key: `c${c}.provider_p99_ms`, label: `POST /send → provider receives it p99, ${c} client(s)`, value: round(r.toProviderMs.p99), unit: 'ms' },
      { key: `c${c}.delivered_per_second`, label: `emails at the provider, ${c} client(s) (first POST → last arrival)`, value: round(r.requests / r.allDeliveredSeconds), unit: 'emails/s' },
    );
  }
  if (duringCampaign) {
    const c = duringCampaign.concurrency;
    const idle = rounds.find((r) => r.concurrency === c)!;
    figures.push(
      { key: `campaign.c${c}.provider_p50_ms`, label: `POST /send → provider p50, ${c} clients, while a ${CAMPAIGN_RECIPIENTS}-recipient campaign sends`, value: round(duringCampaign.toProviderMs.p50), unit: 'ms' },
      { key: `campaign.c${c}.provider_p99_ms`, label: `POST /send → provider p99, ${c} clients, while the campaign sends`, value: round(duringCampaign.toProviderMs.p99), unit: 'ms' },
      { key: `campaign.c${c}.p99_vs_idle`, label: `that p99 ÷ the idle round's p99 (target ≤ 2)`, value: round(duringCampaign.toProviderMs.p99 / idle.toProviderMs.p99, 2), unit: '×' },
      { key: `campaign.c${c}.accepted_per_second`, label: `POST /send accepted, ${c} clients, while the campaign sends`, value: round(duringCampaign.acceptedPerSecond), unit: 'requests/s' },
      {
        key: 'campaign.emails_during_round',
        label: 'campaign emails accepted by the provider during that round',
        value: duringCampaign.campaignEmailsAfter - duringCampaign.campaignEmailsBefore,
        unit: 'emails',
      },
    );
  }
  figures.push(
    { key: 'batch.sequential_emails_per_second', label: `Resend batch path, ${BATCH_EMAILS} emails, 1 caller`, value: round(batchSequential.emailsPerSecond, 0), unit: 'emails/s' },
    { key: 'batch.parallel_emails_per_second', label: `Resend batch path, ${BATCH_EMAILS} emails, 4 callers`, value: round(batchParallel.emailsPerSecond, 0), unit: 'emails/s' },
  );

  await writeResult({
    bench: 'transactional',
    command: 'npm run bench:transactional',
    machine,
    parameters: {
      roles: ROLES,
      postgresFsync: benchPgDurable,
      requestsPerRound: REQUESTS,
      concurrencies: CONCURRENCIES,
      warmUpRequests: warmRequests,
      batchEmails: BATCH_EMAILS,
      campaignRecipients: CAMPAIGN_RECIPIENTS,
      setup:
        `embedded PostgreSQL (fsync ${benchPgDurable ? 'on, the product default' : 'off'}) + Temporal dev server (SQLite, WAL) + fake Resend in the bench process, ` +
        `on localhost; ${ROLES === 'all' ? 'API and workers in one `src/main.ts` process (TIDINGS_ROLE=all, as npm start)' : 'API and worker as separate `src/main.ts` processes (TIDINGS_ROLE=api / worker)'}; ` +
        'sending config without maxPerSecond; every email checked to arrive exactly once',
    },
    figures,
    details: {
      rounds,
      duringCampaign,
      batch: [batchSequential, batchParallel],
      memoryMb: memory,
    },
  });
}

await runBench('bench:transactional', main, { timeoutMs: 20 * 60_000 });
