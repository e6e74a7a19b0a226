/**
 * The production shape: Tidings against a real Temporal server persisted in PostgreSQL, with the API
 * and the workers as separate processes, measured with one worker process and then two (engine-cost
 * issue, item 5: how throughput grows with workers).
 *
 *   npm run bench:production-shape   (WORKERS=1,2 C1_REQUESTS=200 REQUESTS=500 CONCURRENCY=50
 *                                     ENROLL=1000 HISTORY_SHARDS=4 by default)
 *
 * Builds (once, cached in .tools/temporal-server/<version>/) and starts `temporal-server` from the Go
 * module go.temporal.io/server (bench/lib/temporal-server.ts) on a throwaway embedded PostgreSQL that
 * also holds Tidings' database, as docker-compose.yml runs them: one PostgreSQL, three databases. The
 * fake Resend server runs in this process. Then Tidings as the compose file runs it: one
 * `src/main.ts` process with TIDINGS_ROLE=api, and TIDINGS_ROLE=worker processes that all poll the
 * same task queues: first one, then a second one added next to it. For each number of workers, after
 * a short unmeasured warm-up:
 *  - transactional, 1 client: C1_REQUESTS × `POST /send` one after another: 202 latency (p50) and the
 *    latency to the provider;
 *  - transactional, CONCURRENCY clients: REQUESTS × `POST /send`: requests/s accepted, 202 p99, and
 *    emails/s delivered (first POST → last arrival at the fake provider);
 *  - sequence enrollment: ENROLL contacts (a list) enrolled in one request into a one-step sequence
 *    (email at once), a bulk enrollment job: journeys started/s (the POST → the job reports all
 *    started) and first emails/s delivered (the POST → the last email);
 * every email checked to arrive exactly once. Also records each process's CPU over each phase, so a
 * reader sees what was saturated. Writes bench/results/production-shape.json.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { ensureApiKey } from '../src/db/repositories/api-keys.js';
import { ensureDefaultSite } from '../src/db/repositories/sites.js';
import { findFreePort } from '../src/embedded/ports.js';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { startFakeResend } from '../test/helpers/fake-resend.js';
import { apiCall, exactlyOnce } from './lib/api.js';
import { loadAverage, machineInfo } from './lib/machine.js';
import { memoryOf, sleep, treeCpuMs } from './lib/proc.js';
import { writeResult, type Figure } from './lib/results.js';
import { benchAborted, onCleanup, runBench, since, tempDir } from './lib/run.js';
import {
  benchPgDurable,
  benchPostgresFlags,
  benchTidingsEnv,
  fakeResendConfig,
  type RoleProcess,
  seedBenchList,
  startManagedRole,
  waitForRole,
} from './lib/services.js';
import { round } from './lib/stats.js';
import { ensureTemporalServer, startTemporalServer, TEMPORAL_SERVER_VERSION } from './lib/temporal-server.js';
import { arrivalClock, type RoundResult, sendRound } from './lib/transactional-load.js';

const WORKERS = (process.env.WORKERS ?? '1,2').split(',').map(Number).sort((a, b) => a - b);
const C1_REQUESTS = Number(process.env.C1_REQUESTS ?? 200);
const REQUESTS = Number(process.env.REQUESTS ?? 500);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const ENROLL = Number(process.env.ENROLL ?? 1000);
const HISTORY_SHARDS = Number(process.env.HISTORY_SHARDS ?? 4);
const WARM_REQUESTS = 100;
/** Quiet time before each measured phase, so the previous one's stragglers stay out of it. */
const SETTLE_MS = 3000;
const SECRET = 'bench-production-shape-secret-0123456789abcd';
const API_KEY = `tk_live_${'p'.repeat(32)}`;

type Proc = 'api' | 'workers' | 'temporal' | 'postgres';

interface PhaseResult {
  workers: number;
  loadAverage: number[];
  c1: RoundResult;
  cN: RoundResult;
  enrollment: { contacts: number; enrollSeconds: number; allEmailsSeconds: number; enrollPerSecond: number; emailsPerSecond: number };
  /** CPU seconds each process (tree) used over the measured rounds, and the wall time they took. */
  cpuSeconds: Record<Proc, number>;
  wallSeconds: number;
}

async function main() {
  const machine = machineInfo();
  const log = (line: string) => process.stderr.write(`${line}\n`);

  // Built before anything starts, so a first run's build time is not mixed into the figures.
  const buildStarted = performance.now();
  const build = await ensureTemporalServer({ log });
  const buildSeconds = since(buildStarted) / 1000;

  const tmp = await tempDir('production-shape');
  log('starting PostgreSQL and the fake Resend…');
  const [pgPort, apiPort] = [await findFreePort(), await findFreePort()];
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(tmp, 'pg'),
    port: pgPort,
    database: 'bench',
    // The compose file's setting: Temporal's four services each keep a pool, and every Tidings process its own.
    postgresFlags: benchPostgresFlags(['-c', 'max_connections=300']),
  });
  onCleanup('stop PostgreSQL', () => pg.stop());
  const fake = await startFakeResend();
  onCleanup('stop fake Resend', () => fake.close());
  const temporal = await startTemporalServer({ dataDir: path.join(tmp, 'temporal'), postgresUrl: pg.adminUrl, numHistoryShards: HISTORY_SHARDS, log });
  onCleanup('stop Temporal server', () => temporal.stop());
  const arrivals = arrivalClock(fake);

  const database = createDatabase(pg.databaseUrl, { max: 2 });
  onCleanup('close pool', () => database.close());
  const { db } = database;
  await runMigrations(db);
  const { site } = await ensureDefaultSite(db);
  await ensureApiKey(db, site.id, API_KEY);
  const config = await fakeResendConfig(db, fake, { siteId: site.id, secret: SECRET, fromEmail: 'hello@example.com', fromName: 'Bench' });
  const lists = new Map<number, number>();
  for (const n of WORKERS) lists.set(n, await seedBenchList(db, site.id, { name: `Signups ${n}`, count: ENROLL, prefix: `w${n}signup`, firstName: 'Person' }));

  const common = benchTidingsEnv({ databaseUrl: pg.databaseUrl, temporalAddress: temporal.address, fake, secret: SECRET, apiKey: API_KEY });
  const apiProc = startManagedRole('api', { ...common, PORT: String(apiPort), HOST: '127.0.0.1', TIDINGS_DATA_DIR: path.join(tmp, 'api') });
  const base = `http://127.0.0.1:${apiPort}`;
  await waitForRole('API', apiProc, async () => (await fetch(`${base}/readyz`)).ok);
  const postgresPid = Number((await readFile(path.join(tmp, 'pg', 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const workers: RoleProcess[] = [];
  const cpu = async (): Promise<Record<Proc, number>> => {
    const workerMs = await Promise.all(workers.map((w) => treeCpuMs(w.child.pid!)));
    return {
      api: await treeCpuMs(apiProc.child.pid!),
      workers: workerMs.reduce((a, b) => a + b, 0),
      temporal: await treeCpuMs(temporal.pid),
      postgres: await treeCpuMs(postgresPid),
    };
  };
  const alive = () => {
    for (const [name, proc] of [['API', apiProc], ...workers.map((w, i) => [`worker ${i + 1}`, w] as const)] as const) {
      if (proc.child.exitCode !== null) throw new Error(`${name} exited:\n${proc.output().slice(-4000)}`);
    }
  };
  const round_ = (concurrency: number, label: string, count: number) => {
    alive();
    return sendRound({ base, apiKey: API_KEY, fake, arrivals, configId: config.id, concurrency, label, count });
  };

  const phases: PhaseResult[] = [];
  for (const n of WORKERS) {
    while (workers.length < n) {
      log(`starting worker ${workers.length + 1}…`);
      const worker = startManagedRole('worker', { ...common, TIDINGS_DATA_DIR: path.join(tmp, `worker${workers.length + 1}`) });
      await waitForRole(`worker ${workers.length + 1}`, worker, async () => worker.output().includes('Tidings is running'));
      workers.push(worker);
    }
    log(`${n} worker process(es): warming up…`);
    await round_(10, `w${n}-warmup`, WARM_REQUESTS);
    await sleep(SETTLE_MS);
    benchAborted.throwIfAborted();
    const load = loadAverage();
    const cpuBefore = await cpu();
    const started = performance.now();

    log(`${C1_REQUESTS} × POST /send, 1 client…`);
    const c1 = await round_(1, `w${n}-c1`, C1_REQUESTS);
    log(`${REQUESTS} × POST /send, ${CONCURRENCY} clients…`);
    const cN = await round_(CONCURRENCY, `w${n}-c${CONCURRENCY}`, REQUESTS);

    log(`enrolling ${ENROLL} contacts into a one-step sequence…`);
    const subject = `Welcome (${n} workers)`;
    const sequence = await apiCall<{ id: number }>(base, API_KEY, 'POST', '/sequences', { name: `Welcome ${n}`, sendingConfigId: config.id });
    await apiCall(base, API_KEY, 'POST', `/sequences/${sequence.id}/steps`, { subject, html: '<p>Hi {{ firstName }}</p>', delayValue: 0, delayUnit: 'minutes' });
    const t0 = performance.now();
    // A bulk enrollment job (202): followed until it reports every journey started.
    const job = await apiCall<{ id: number; total: number }>(base, API_KEY, 'POST', `/sequences/${sequence.id}/enroll`, { listId: lists.get(n) });
    if (job.total !== ENROLL) throw new Error(`staged ${job.total} of ${ENROLL}`);
    const deadline = Date.now() + 15 * 60_000;
    while ((await apiCall<{ status: string }>(base, API_KEY, 'GET', `/enrollment-jobs/${job.id}`)).status !== 'completed') {
      alive();
      benchAborted.throwIfAborted();
      if (Date.now() > deadline) throw new Error(`the enrollment job (${n} workers) did not complete within 15 minutes`);
      await sleep(50);
    }
    const enrollSeconds = since(t0) / 1000;
    while (fake.emails.filter((e) => e.payload.subject === subject).length < ENROLL) {
      alive();
      benchAborted.throwIfAborted();
      if (Date.now() > deadline) throw new Error(`not every welcome email (${n} workers) reached the provider within 15 minutes`);
      await sleep(20);
    }
    const allEmailsSeconds = since(t0) / 1000;
    if (!exactlyOnce(fake, subject, ENROLL)) throw new Error(`${n} workers: some contact did not get exactly one welcome email`);

    const wallSeconds = since(started) / 1000;
    const cpuAfter = await cpu();
    const cpuSeconds = Object.fromEntries((Object.keys(cpuAfter) as Proc[]).map((p) => [p, round((cpuAfter[p] - cpuBefore[p]) / 1000, 2)])) as Record<Proc, number>;
    phases.push({
      workers: n,
      loadAverage: load,
      c1,
      cN,
      enrollment: { contacts: ENROLL, enrollSeconds, allEmailsSeconds, enrollPerSecond: ENROLL / enrollSeconds, emailsPerSecond: ENROLL / allEmailsSeconds },
      cpuSeconds,
      wallSeconds,
    });
    log(`${n} worker(s): c1 p50 ${round(c1.acceptMs.p50)} ms; c${CONCURRENCY} ${round(cN.acceptedPerSecond)} req/s, p99 ${round(cN.acceptMs.p99)} ms, ` +
      `${round(cN.requests / cN.allDeliveredSeconds)} emails/s; enrollment ${round(ENROLL / allEmailsSeconds)} emails/s`);
  }

  const figures: Figure[] = [];
  for (const p of phases) {
    const w = `${p.workers} worker${p.workers === 1 ? '' : 's'}`;
    const loadAt = { loadAverage: p.loadAverage };
    figures.push(
      { key: `w${p.workers}.c1.accept_p50_ms`, label: `${w}: POST /send → 202 p50, 1 client`, value: round(p.c1.acceptMs.p50), unit: 'ms', ...loadAt },
      { key: `w${p.workers}.c1.provider_p50_ms`, label: `${w}: POST /send → provider receives it p50, 1 client`, value: round(p.c1.toProviderMs.p50), unit: 'ms', ...loadAt },
      { key: `w${p.workers}.c${CONCURRENCY}.accepted_per_second`, label: `${w}: POST /send accepted, ${CONCURRENCY} clients`, value: round(p.cN.acceptedPerSecond), unit: 'requests/s', ...loadAt },
      { key: `w${p.workers}.c${CONCURRENCY}.accept_p99_ms`, label: `${w}: POST /send → 202 p99, ${CONCURRENCY} clients`, value: round(p.cN.acceptMs.p99), unit: 'ms', ...loadAt },
      {
        key: `w${p.workers}.c${CONCURRENCY}.delivered_per_second`,
        label: `${w}: emails at the provider, ${CONCURRENCY} clients (first POST → last arrival)`,
        value: round(p.cN.requests / p.cN.allDeliveredSeconds),
        unit: 'emails/s',
        ...loadAt,
      },
      { key: `w${p.workers}.enroll.enrolled_per_second`, label: `${w}: journeys started/s (POST enroll {listId}, ${ENROLL} contacts, until the job reports all started)`, value: round(p.enrollment.enrollPerSecond), unit: '/s', ...loadAt },
      { key: `w${p.workers}.enroll.delivered_per_second`, label: `${w}: sequence first emails at the provider (POST enroll → last email)`, value: round(p.enrollment.emailsPerSecond), unit: 'emails/s', ...loadAt },
    );
  }

  await writeResult({
    bench: 'production-shape',
    command: 'npm run bench:production-shape',
    machine,
    parameters: {
      temporalServer: `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`,
      numHistoryShards: HISTORY_SHARDS,
      postgresFsync: benchPgDurable,
      workers: WORKERS,
      c1Requests: C1_REQUESTS,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      enroll: ENROLL,
      warmUpRequests: WARM_REQUESTS,
      setup:
        `temporal-server ${TEMPORAL_SERVER_VERSION} built from its Go module (all four services in one process, ${HISTORY_SHARDS} history shards, ` +
        'persistence and visibility on PostgreSQL: postgres12 plugin, eager activities on as in deploy/temporal-dynamicconfig.yaml), ' +
        `one embedded PostgreSQL (fsync ${benchPgDurable ? 'on' : 'off'}) holding the tidings, temporal and temporal_visibility databases, fake Resend in the bench process, on localhost; ` +
        'API (TIDINGS_ROLE=api) and worker processes (TIDINGS_ROLE=worker) apart; the second worker is added next to the first; every email checked to arrive exactly once',
    },
    figures,
    details: {
      temporalBuild: { dir: build.dir, secondsThisRun: round(buildSeconds, 1) },
      phases,
      memoryMb: {
        api: await memoryOf(apiProc.child.pid!),
        workers: await Promise.all(workers.map((w) => memoryOf(w.child.pid!))),
        temporal: await memoryOf(temporal.pid),
      },
    },
  });
}

await runBench('bench:production-shape', main, { timeoutMs: 60 * 60_000 });
