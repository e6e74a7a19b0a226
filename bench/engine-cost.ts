/**
 * Engine cost per email: where the time and the Temporal work go, for each path (issue 12, "measure
 * first"). A breakdown, not a throughput figure.
 *
 *   npm run bench:engine-cost      (TRANSACTIONAL=200 ENROLL=400 TIMED=200 RECIPIENTS=2000 by default;
 *                                   PROFILE_DIR=<dir> keeps the .cpuprofile files)
 *
 * Starts a throwaway embedded PostgreSQL (fsync on unless BENCH_PG_FSYNC=off) and Temporal dev server (SQLite, WAL), the fake
 * Resend server in this process, and Tidings as two processes like production (`src/main.ts` with
 * TIDINGS_ROLE=api and TIDINGS_ROLE=worker), both under `node --cpu-prof`. After a warm-up it measures,
 * one after another:
 *  - idle: IDLE_SECONDS with nothing to do (pollers, the outbox relays): the background rate;
 *  - transactional: TRANSACTIONAL × `POST /send`, one client;
 *  - sequence: ENROLL contacts enrolled (one request, by list) into a one-step sequence (email at once);
 *  - sequence with a timer: TIMED contacts enrolled into a two-step sequence, the second email one
 *    minute after the first (the shortest delay a step takes), so the journey sleeps on a timer;
 *  - campaign: one campaign to RECIPIENTS contacts.
 * Each phase ends when every email reached the provider (exactly once) and every workflow of the path
 * has closed. For each it records, per email:
 *  - Temporal work from the histories of the path's workflows (fetched after the phase): executions,
 *    events by type, workflow tasks, activity tasks, local activities (markers), timers; and the dev
 *    server's own counters (its Prometheus endpoint): frontend requests and persistence operations;
 *  - PostgreSQL statements by query (pg_stat_statements, preloaded in the bench's cluster) and rows
 *    written by table (pg_stat_user_tables);
 *  - CPU of each process (/proc utime + stime): API, worker (also by thread), Temporal, PostgreSQL;
 *    the --cpu-prof sampler threads are left out;
 *  - the API's and the worker's CPU by bucket of code: the share of each bucket in the samples of
 *    their JavaScript threads (the profiles cut at the phase's start and end on the shared monotonic
 *    clock) applied to those threads' CPU, plus the Temporal core's Rust threads in the worker.
 * CPU, server counters and database figures are given net of the idle background (the idle phase's
 * rate × the time they cover), which also removes the sampler's steady cost. Writes bench/results/engine-cost.json; `npm run bench:report` turns
 * it into the issue 12 section of bench/README.md.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { createDatabase, type Db } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { ensureApiKey } from '../src/db/repositories/api-keys.js';
import { ensureDefaultSite } from '../src/db/repositories/sites.js';
import { workflowIds } from '../src/domain/ids.js';
import { connectTemporal } from '../src/temporal/client.js';
import type { FakeResend } from '../test/helpers/fake-resend.js';
import { BUCKET_LABELS, CPU_BUCKETS, loadProfiles, summarizeWindow, type CpuBucket, type ThreadProfile } from './lib/cpu-profile.js';
import { loadAverage, machineInfo } from './lib/machine.js';
import { MAIN_THREAD, sleep, threadCpuMs, treeCpuMs } from './lib/proc.js';
import { writeResult, type Figure } from './lib/results.js';
import { benchAborted, onCleanup, runBench, since, tempDir } from './lib/run.js';
import { benchTidingsEnv, fakeResendConfig, seedBenchList, startManagedBenchServices, startManagedRole, waitForRole, benchPgFsync } from './lib/services.js';
import { round, summarize } from './lib/stats.js';
import {
  countWorkflowHistory,
  diffCounts,
  emptyHistoryCount,
  findMetricsUrl,
  forEachLimit,
  scrapeServerCounters,
  type HistoryCount,
  type ServerCounters,
} from './lib/temporal-cost.js';

const TRANSACTIONAL = Number(process.env.TRANSACTIONAL ?? 200);
const ENROLL = Number(process.env.ENROLL ?? 400);
const TIMED = Number(process.env.TIMED ?? 200);
const RECIPIENTS = Number(process.env.RECIPIENTS ?? 2000);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 15);
const WARM = 20;
/** Quiet time before each phase, so the previous one's stragglers (and the stats they flush) stay out of it. */
const SETTLE_MS = 3000;
/** Before the idle phase: long enough for the warm-up's garbage collection and JIT work to finish. */
const IDLE_SETTLE_MS = 15_000;
/**
 * A backend that goes idle within a second of its last statistics report holds the next one back for
 * PGSTAT_IDLE_INTERVAL (10 s): wait that out before reading the row counts (pg_stat_statements is
 * immediate; the dev server's metrics lag by a second).
 */
const COUNTS_FLUSH_MS = 11_000;
const PROFILE_INTERVAL_US = 2000;
const SECRET = 'bench-engine-cost-secret-0123456789abcdefghij';
const API_KEY = `tk_live_${'e'.repeat(32)}`;
/** Requests only this bench makes (to see when a phase is done), left out of the server's counters. */
const BENCH_OPERATIONS = ['CountWorkflowExecutions', 'ListWorkflowExecutions', 'GetWorkflowExecutionHistory'];
const RELAY_IDS = [workflowIds.enrollmentOutbox(), workflowIds.webhookOutbox()];

type Process = 'api' | 'worker' | 'temporal' | 'postgres';
const PROCESSES: Process[] = ['api', 'worker', 'temporal', 'postgres'];
type Path = 'transactional' | 'sequence' | 'sequence_timer' | 'campaign';
const PATH_LABELS: Record<Path, string> = {
  transactional: 'transactional',
  sequence: 'sequence, 1 step',
  sequence_timer: 'sequence, 2 steps + timer',
  campaign: 'campaign',
};

interface PgStats {
  db: Record<string, number>;
  tables: Record<string, number>;
  /** pg_stat_statements by query id: calls and execution time. */
  calls: Record<string, number>;
  execMs: Record<string, number>;
  queries: Record<string, string>;
}

/** CPU readings, taken the moment a phase starts and ends. */
interface Snapshot {
  /** process.hrtime in microseconds: the clock of the --cpu-prof samples. */
  us: number;
  ms: number;
  cpu: Record<Process, number>;
  threads: { api: Record<string, number>; worker: Record<string, number> };
}

/**
 * Counters that are published late: the dev server's metrics (flushed every second) and PostgreSQL's
 * row counts (see PG_STATS_FLUSH_MS). Read before a phase and again once they have caught up after it.
 */
interface Counts {
  ms: number;
  server: ServerCounters;
  pg: PgStats;
}

interface PhaseWork {
  emails: number;
  /** The workflows of the path (ids; every run of each is counted), read once the phase is over. */
  workflowIds: () => Promise<string[]>;
  extra?: Record<string, unknown>;
}

interface Phase {
  name: 'idle' | Path;
  loadAverage: number[];
  before: Snapshot;
  after: Snapshot;
  countsBefore: Counts;
  countsAfter: Counts;
  work: PhaseWork;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** The bench's own statements (these readings), left out of the counts. */
const BENCH_QUERY = /pg_stat|pg_database/;

async function pgStats(db: Db): Promise<PgStats> {
  const { rows: [dbRow] } = await db.execute<Record<string, string>>(sql`
    select xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_returned, tup_fetched
    from pg_stat_database where datname = current_database()`);
  const { rows: tableRows } = await db.execute<{ relname: string; ins: string; upd: string; del: string }>(
    sql`select relname, n_tup_ins as ins, n_tup_upd as upd, n_tup_del as del from pg_stat_user_tables`,
  );
  const tables: Record<string, number> = {};
  for (const t of tableRows) {
    tables[`${t.relname} insert`] = Number(t.ins);
    tables[`${t.relname} update`] = Number(t.upd);
    tables[`${t.relname} delete`] = Number(t.del);
  }
  const { rows: statements } = await db.execute<{ id: string; calls: string; ms: number; query: string }>(sql`
    select queryid::text as id, calls, total_exec_time as ms, query from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database())`);
  const stats: PgStats = { db: Object.fromEntries(Object.entries(dbRow!).map(([k, v]) => [k, Number(v)])), tables, calls: {}, execMs: {}, queries: {} };
  for (const st of statements) {
    if (BENCH_QUERY.test(st.query)) continue;
    stats.calls[st.id] = Number(st.calls);
    stats.execMs[st.id] = Number(st.ms);
    stats.queries[st.id] = st.query.replace(/\s+/g, ' ').slice(0, 160);
  }
  return stats;
}

/** Every address with this prefix that got an email, and how many it got. */
function deliveries(fake: FakeResend, prefix: string): Map<string, number> {
  const perAddress = new Map<string, number>();
  for (const e of fake.emails) {
    const to = [e.payload.to].flat()[0]!;
    if (to.startsWith(prefix)) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
  }
  return perAddress;
}

async function main() {
  const machine = machineInfo();
  const tmp = await tempDir('engine-cost');
  process.stderr.write('starting PostgreSQL, the Temporal dev server and the fake Resend…\n');
  // pg_stat_statements counts each statement the API and the worker run (an extension of the bench's
  // cluster only; loaded at start, which is why it is a server flag).
  const { pg, temporal, fake, apiPort } = await startManagedBenchServices(tmp, { postgresFlags: ['-c', 'shared_preload_libraries=pg_stat_statements'] });
  const database = createDatabase(pg.databaseUrl, { max: 2 });
  onCleanup('close pool', () => database.close());
  const { db } = database;
  await db.execute(sql`create extension if not exists pg_stat_statements`);
  await runMigrations(db);
  const { site } = await ensureDefaultSite(db);
  await ensureApiKey(db, site.id, API_KEY);
  const list = (name: string, count: number, prefix: string) => seedBenchList(db, site.id, { name, count, prefix, firstName: 'Person' });
  const lists = {
    warm: await list('Warm-up', WARM, 'warm'),
    sequence: await list('Journeys', ENROLL, 'journey'),
    timed: await list('Timed journeys', TIMED, 'timed'),
    campaign: await list('Readers', RECIPIENTS, 'reader'),
  };
  await db.execute(sql`analyze`);
  const config = await fakeResendConfig(db, fake, { siteId: site.id, secret: SECRET, fromEmail: 'hello@example.com', fromName: 'Bench' });

  const common = benchTidingsEnv({ databaseUrl: pg.databaseUrl, temporalAddress: temporal.address, fake, secret: SECRET, apiKey: API_KEY });
  // PROFILE_DIR keeps the profiles (open them in Chrome DevTools or speedscope); by default they go with the temp dir.
  const profileDir = (role: string) => path.join(process.env.PROFILE_DIR ? path.resolve(process.env.PROFILE_DIR) : path.join(tmp, 'profiles'), role);
  // Each thread writes its profile when it exits, so the roles are stopped (gracefully) before the analysis.
  // Every 2 ms rather than V8's 1 ms: half the sampler's own cost (a signal per sample to each thread
  // plus a sampler thread) for still thousands of samples per phase.
  const profiled = (role: string) => ({ nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir(role)}`, `--cpu-prof-interval=${PROFILE_INTERVAL_US}`] });
  const apiProc = startManagedRole('api', { ...common, PORT: String(apiPort), HOST: '127.0.0.1', TIDINGS_DATA_DIR: path.join(tmp, 'api') }, profiled('api'));
  const workerProc = startManagedRole('worker', { ...common, TIDINGS_DATA_DIR: path.join(tmp, 'worker') }, profiled('worker'));
  const base = `http://127.0.0.1:${apiPort}`;
  await waitForRole('API', apiProc, async () => (await fetch(`${base}/readyz`)).ok);
  await waitForRole('worker', workerProc, async () => workerProc.output().includes('Tidings is running'));
  const apiPid = apiProc.child.pid!;
  const workerPid = workerProc.child.pid!;
  const postgresPid = Number((await readFile(path.join(tmp, 'pg', 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const clients = await connectTemporal({ address: temporal.address, namespace: temporal.namespace });
  onCleanup('close Temporal client', () => clients.connection.close());
  const { client } = clients;
  const metricsUrl = await findMetricsUrl(temporal.pid);

  const api = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}/api/v1${url}`, {
      method,
      signal: benchAborted,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as { data: T; error?: unknown };
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json.error)}`);
    return json.data;
  };
  const waitUntil = async (what: string, done: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      benchAborted.throwIfAborted();
      for (const [name, proc] of [['API', apiProc], ['worker', workerProc]] as const) {
        if (proc.child.exitCode !== null) throw new Error(`${name} exited while waiting for ${what}:\n${proc.output().slice(-4000)}`);
      }
      if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs / 1000} s`);
      await sleep(everyMs);
    }
  };
  /** Every address with `prefix` got exactly `each` emails (fails on a duplicate), then the path's workflows all closed. */
  const settled = async (what: string, prefix: string, addresses: number, each: number, workflowType: string, timeoutMs: number) => {
    await waitUntil(
      `${what}: every email at the provider`,
      () => {
        const got = deliveries(fake, prefix);
        const extra = [...got.values()].find((n) => n > each);
        if (extra) throw new Error(`${what}: an address got ${extra} emails, expected ${each}`);
        return got.size === addresses && [...got.values()].every((n) => n === each);
      },
      timeoutMs,
    );
    await waitUntil(
      `${what}: every workflow closed`,
      async () => (await client.workflow.count(`WorkflowType = '${workflowType}' AND ExecutionStatus = 'Running'`)).count === 0,
      60_000,
      100,
    );
  };

  const snapshot = async (): Promise<Snapshot> => {
    const us = nowUs();
    const ms = Date.now();
    const [apiCpu, workerCpu, temporalCpu, postgresCpu, apiThreads, workerThreads] = await Promise.all([
      treeCpuMs(apiPid),
      treeCpuMs(workerPid),
      treeCpuMs(temporal.pid),
      treeCpuMs(postgresPid),
      threadCpuMs(apiPid),
      threadCpuMs(workerPid),
    ]);
    return {
      us,
      ms,
      cpu: { api: apiCpu, worker: workerCpu, temporal: temporalCpu, postgres: postgresCpu },
      threads: { api: apiThreads, worker: workerThreads },
    };
  };
  const counts = async (): Promise<Counts> => ({ ms: Date.now(), server: await scrapeServerCounters(metricsUrl), pg: await pgStats(db) });
  const phases: Phase[] = [];
  const measure = async (name: Phase['name'], run: () => Promise<PhaseWork>, settleMs = SETTLE_MS): Promise<Phase> => {
    await sleep(settleMs);
    process.stderr.write(`${name}…\n`);
    const load = loadAverage();
    const countsBefore = await counts();
    const before = await snapshot();
    const work = await run();
    const after = await snapshot();
    await sleep(COUNTS_FLUSH_MS);
    const countsAfter = await counts();
    const phase = { name, loadAverage: load, before, after, countsBefore, countsAfter, work };
    phases.push(phase);
    process.stderr.write(`  ${work.emails} emails in ${round((after.ms - before.ms) / 1000, 1)} s\n`);
    return phase;
  };

  // Sequences are built before their phase: creating them is not the cost of an email.
  const sequenceOf = async (name: string, steps: { subject: string; delayValue: number }[]) => {
    const sequence = await api<{ id: number }>('POST', '/sequences', { name, sendingConfigId: config.id });
    for (const step of steps) {
      await api('POST', `/sequences/${sequence.id}/steps`, { subject: step.subject, html: `<p>${step.subject} {{ firstName }}</p>`, delayValue: step.delayValue, delayUnit: 'minutes' });
    }
    return sequence.id;
  };
  const enrollmentIds = async (sequenceId: number) =>
    (await db.execute<{ workflow_id: string }>(sql`select workflow_id from enrollments where sequence_id = ${sequenceId}`)).rows.map((r) => r.workflow_id);
  const campaignContent = (name: string, listId: number) => ({
    name,
    listId,
    subject: 'News for {{ firstName }}',
    html: '<h1>Hello {{ firstName }}</h1><p>What is new this month.</p>',
    sendingConfigId: config.id,
    scheduledAt: new Date().toISOString(),
  });

  // Transactional: each POST answers once the delivery workflow started; the email follows.
  const postedAt = new Map<string, number>();
  const arrivedAt = new Map<string, number>();
  const push = fake.emails.push.bind(fake.emails);
  fake.emails.push = (...emails) => {
    const now = performance.now();
    for (const e of emails) if (!arrivedAt.has(e.payload.subject)) arrivedAt.set(e.payload.subject, now);
    return push(...emails);
  };
  let sendIds: number[] = [];
  const sendTransactional = async (label: string, count: number) => {
    for (let i = 1; i <= count; i++) {
      const subject = `engine-cost ${label} #${i}`;
      postedAt.set(subject, performance.now());
      const res = await api<{ sendId: number }>('POST', '/send', {
        to: `${label}${i}@example.com`,
        subject,
        html: `<p>Hello {{ name }}, this is message ${i}.</p>`,
        variables: { name: `Person ${i}` },
        sendingConfigId: config.id,
      });
      sendIds.push(res.sendId);
    }
  };

  // Warm-up (JIT, pools, caches, the first task of each workflow type): not measured.
  process.stderr.write('warming up…\n');
  await sendTransactional('pretx', WARM);
  await settled('warm-up transactional', 'pretx', WARM, 1, 'transactionalSendWorkflow', 60_000);
  const warmSequence = await sequenceOf('Warm-up', [{ subject: 'Warm welcome', delayValue: 0 }]);
  await api('POST', `/sequences/${warmSequence}/enroll`, { listId: lists.warm });
  await settled('warm-up sequence', 'warm', WARM, 1, 'enrollmentWorkflow', 60_000);
  await api('POST', '/campaigns', campaignContent('Warm-up', lists.warm));
  await settled('warm-up campaign', 'warm', WARM, 2, 'campaignWorkflow', 60_000);

  await measure(
    'idle',
    async () => {
      await sleep(IDLE_SECONDS * 1000);
      return { emails: 0, workflowIds: async () => [] };
    },
    IDLE_SETTLE_MS,
  );

  sendIds = [];
  await measure('transactional', async () => {
    await sendTransactional('tx', TRANSACTIONAL);
    await settled('transactional', 'tx', TRANSACTIONAL, 1, 'transactionalSendWorkflow', 5 * 60_000);
    const toProvider = summarize([...postedAt].filter(([s]) => s.startsWith('engine-cost tx ')).map(([s, t]) => arrivedAt.get(s)! - t));
    const ids = sendIds.map(workflowIds.transactional);
    return { emails: TRANSACTIONAL, workflowIds: async () => ids, extra: { postToProviderMs: toProvider } };
  });

  const oneStep = await sequenceOf('One step', [{ subject: 'Welcome', delayValue: 0 }]);
  await measure('sequence', async () => {
    const t = performance.now();
    const answer = await api<{ total: number }>('POST', `/sequences/${oneStep}/enroll`, { listId: lists.sequence });
    const enrollMs = since(t);
    if (answer.total !== ENROLL) throw new Error(`staged ${answer.total} of ${ENROLL}`);
    await settled('sequence', 'journey', ENROLL, 1, 'enrollmentWorkflow', 5 * 60_000);
    return { emails: ENROLL, workflowIds: () => enrollmentIds(oneStep), extra: { journeys: ENROLL, enrollRequestMs: round(enrollMs) } };
  });

  const twoSteps = await sequenceOf('Two steps', [
    { subject: 'Hello', delayValue: 0 },
    { subject: 'One minute later', delayValue: 1 },
  ]);
  await measure('sequence_timer', async () => {
    const answer = await api<{ total: number }>('POST', `/sequences/${twoSteps}/enroll`, { listId: lists.timed });
    if (answer.total !== TIMED) throw new Error(`staged ${answer.total} of ${TIMED}`);
    await settled('sequence with a timer', 'timed', TIMED, 2, 'enrollmentWorkflow', 6 * 60_000);
    return { emails: 2 * TIMED, workflowIds: () => enrollmentIds(twoSteps), extra: { journeys: TIMED, stepDelayMinutes: 1 } };
  });

  await measure('campaign', async () => {
    const created = await api<{ id: number }>('POST', '/campaigns', campaignContent('Everyone', lists.campaign));
    await settled('campaign', 'reader', RECIPIENTS, 1, 'campaignWorkflow', 10 * 60_000);
    return { emails: RECIPIENTS, workflowIds: async () => [workflowIds.campaign(created.id)], extra: { campaignId: created.id } };
  });

  // The profiles are written as each thread exits: stop both roles the way a supervisor does.
  process.stderr.write('stopping the API and the worker (writing their profiles)…\n');
  await Promise.all([stopRole(apiProc.child), stopRole(workerProc.child)]);

  process.stderr.write('reading workflow histories and profiles…\n');
  const histories = new Map<Phase, { path: HistoryCount; relays: HistoryCount }>();
  for (const phase of phases) {
    const pathCount = emptyHistoryCount();
    await forEachLimit(await phase.work.workflowIds(), 8, (id) => countWorkflowHistory(client, id, pathCount));
    const relays = emptyHistoryCount();
    for (const id of RELAY_IDS) await countWorkflowHistory(client, id, relays, { fromMs: phase.before.ms, toMs: phase.after.ms });
    histories.set(phase, { path: pathCount, relays });
  }
  // A kept PROFILE_DIR may hold earlier runs' profiles: only this run's processes count.
  const apiProfiles = (await loadProfiles(profileDir('api'))).filter((p) => p.pid === apiPid);
  const workerProfiles = (await loadProfiles(profileDir('worker'))).filter((p) => p.pid === workerPid);
  for (const [role, profiles] of [
    ['API', apiProfiles],
    ['worker', workerProfiles],
  ] as const) {
    if (!profiles.some((p) => p.threadId === 0)) throw new Error(`no CPU profile of the ${role}'s main thread was written`);
    // The samples are cut by process.hrtime readings of this process: both must be CLOCK_MONOTONIC.
    if (profiles.some((p) => p.startUs > phases[0]!.before.us || p.endUs < phases.at(-1)!.after.us)) {
      throw new Error(`the ${role}'s profiles do not span the phases on this process's clock: cannot cut them by phase`);
    }
  }

  const idle = phases.find((p) => p.name === 'idle')!;
  const report = analyse(phases, idle, histories, apiProfiles, workerProfiles);
  for (const p of phases) if (p.name !== 'idle') report.paths[p.name].extra = p.work.extra;

  const figures: Figure[] = [];
  for (const [p, r] of Object.entries(report.paths) as [Path, PathReport][]) {
    const label = PATH_LABELS[p];
    const at = { loadAverage: r.loadAverage };
    figures.push(
      { key: `${p}.workflows_per_email`, label: `${label}: workflow executions per email`, value: round(r.temporal.executionsPerEmail, 3), unit: 'executions', ...at },
      { key: `${p}.events_per_email`, label: `${label}: history events per email`, value: round(r.temporal.eventsPerEmail, 2), unit: 'events', ...at },
      { key: `${p}.workflow_tasks_per_email`, label: `${label}: workflow tasks per email`, value: round(r.temporal.workflowTasksPerEmail, 2), unit: 'tasks', ...at },
      { key: `${p}.activity_tasks_per_email`, label: `${label}: activity tasks per email`, value: round(r.temporal.activityTasksPerEmail, 3), unit: 'tasks', ...at },
      { key: `${p}.local_activities_per_email`, label: `${label}: local activities per email`, value: round(r.temporal.localActivitiesPerEmail, 2), unit: 'markers', ...at },
      { key: `${p}.patch_markers_per_email`, label: `${label}: patch markers per email`, value: round(r.temporal.patchMarkersPerEmail, 2), unit: 'markers', ...at },
      { key: `${p}.timers_per_email`, label: `${label}: timers per email`, value: round(r.temporal.timersPerEmail, 2), unit: 'timers', ...at },
      { key: `${p}.frontend_requests_per_email`, label: `${label}: Temporal frontend requests per email`, value: round(r.server.frontendPerEmail, 2), unit: 'requests', ...at },
      { key: `${p}.persistence_ops_per_email`, label: `${label}: Temporal persistence operations per email`, value: round(r.server.persistencePerEmail, 1), unit: 'operations', ...at },
      { key: `${p}.pg_statements_per_email`, label: `${label}: PostgreSQL statements per email`, value: round(r.postgres.statementsPerEmail, 2), unit: 'statements', ...at },
      { key: `${p}.pg_rows_written_per_email`, label: `${label}: PostgreSQL rows written per email`, value: round(r.postgres.rowsWrittenPerEmail, 2), unit: 'rows', ...at },
      ...PROCESSES.map((proc) => ({ key: `${p}.cpu_ms_per_email.${proc}`, label: `${label}: ${proc} CPU per email`, value: round(r.cpuMsPerEmail[proc], 2), unit: 'ms', ...at })),
      { key: `${p}.cpu_ms_per_email.total`, label: `${label}: CPU per email, the four processes`, value: round(r.cpuMsPerEmail.total, 2), unit: 'ms', ...at },
      { key: `${p}.seconds`, label: `${label}: phase duration (${r.emails} emails, under --cpu-prof)`, value: round(r.seconds, 1), unit: 's', ...at },
    );
  }
  for (const proc of PROCESSES) {
    figures.push({ key: `idle.cpu_ms_per_s.${proc}`, label: `idle: ${proc} CPU per second`, value: round(report.idle.cpuMsPerSecond[proc], 2), unit: 'ms/s', loadAverage: idle.loadAverage });
  }

  await writeResult({
    bench: 'engine-cost',
    command: 'npm run bench:engine-cost',
    machine,
    parameters: {
      transactional: TRANSACTIONAL,
      sequenceJourneys: ENROLL,
      timedJourneys: TIMED,
      campaignRecipients: RECIPIENTS,
      idleSeconds: IDLE_SECONDS,
      warmUp: `${WARM} transactional sends, ${WARM} one-step journeys and a ${WARM}-recipient campaign, not measured`,
      setup:
        `embedded PostgreSQL (${benchPgFsync}, pg_stat_statements) + Temporal dev server (SQLite, WAL) + fake Resend in the bench process, on localhost; ` +
        `API and worker as separate \`src/main.ts\` processes under \`node --cpu-prof\` (sampling every ${PROFILE_INTERVAL_US / 1000} ms); phases one after another; ` +
        'every email checked to arrive exactly once and every workflow of the path closed before a phase ends',
      notes: [
        "Temporal counts come from the histories of the path's own workflows (every run); the outbox relays are background, counted apart.",
        "CPU, server counters and PostgreSQL figures are net of the idle background: the idle phase's rate × the time they cover is subtracted " +
          `(for the server and row counters, the phase plus the ${COUNTS_FLUSH_MS / 1000} s they take to catch up).`,
        'CPU is /proc utime+stime of each process tree, without the --cpu-prof sampler threads (v8:ProfEvntProc).',
        "Buckets: each bucket's share of the sampled busy time of a process's JavaScript threads, applied to the CPU of those threads; " +
          "the worker's Rust threads (Temporal core) are their own bucket. Native and Node-internal frames count for their nearest library caller.",
      ],
    },
    figures,
    details: report as unknown as Record<string, unknown>,
  });
}

/** SIGTERM, as a supervisor stops a role, and its exit: the role shuts down and its threads write their profiles. */
async function stopRole(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<void>((resolve, reject) => {
    child.once('exit', () => resolve());
    timer = setTimeout(() => reject(new Error(`pid ${child.pid} did not stop within 60 s of SIGTERM`)), 60_000);
  });
  child.kill('SIGTERM');
  await exited.finally(() => clearTimeout(timer));
}

/** The --cpu-prof sampler's thread: the profiling's own cost, not Tidings'. */
const PROFILER_THREAD = 'v8:ProfEvntProc';
/** Threads that run JavaScript (and V8's GC and compiler helpers, also named `node`). */
const JS_THREADS = new Set([MAIN_THREAD, 'node']);
/**
 * The bucket of a role's threads that run no JavaScript: the Temporal core's Rust runtime (tokio,
 * workflow processing; Runtime.install starts one in the API too) and threads that ended in the phase.
 */
const CORE_BUCKET = 'temporal_core';
type RoleBucket = CpuBucket | typeof CORE_BUCKET;

interface PathReport {
  label: string;
  emails: number;
  loadAverage: number[];
  seconds: number;
  emailsPerSecond: number;
  temporal: {
    executionsPerEmail: number;
    eventsPerEmail: number;
    workflowTasksPerEmail: number;
    activityTasksPerEmail: number;
    localActivitiesPerEmail: number;
    /** `patched()` markers (each also upserts TemporalChangeVersion the first time). */
    patchMarkersPerEmail: number;
    searchAttributeUpsertsPerEmail: number;
    timersPerEmail: number;
    eventsByTypePerEmail: Record<string, number>;
    byWorkflowType: HistoryCount['byWorkflowType'];
    /** Events of the outbox relays recorded during the phase (background, not per email). */
    relayEventsDuringPhase: number;
  };
  server: {
    frontendPerEmail: number;
    /** Every persistence operation (what the server does on a clock regardless of load is in the idle rate). */
    persistencePerEmail: number;
    /** gRPC requests by `<service> <operation>` (frontend: from the API and the worker; history, matching: inside the server). */
    requestsPerEmail: Record<string, number>;
    persistenceOpsPerEmail: Record<string, number>;
  };
  postgres: {
    statementsPerEmail: number;
    execMsPerEmail: number;
    rowsWrittenPerEmail: number;
    rowsReadPerEmail: number;
    transactionsPerEmail: number;
    tablesPerEmail: Record<string, number>;
    topStatements: { query: string; callsPerEmail: number; msPerEmail: number }[];
  };
  cpuMsPerEmail: Record<Process | 'total', number>;
  /** Before the idle background is subtracted. */
  rawCpuMsPerEmail: Record<Process | 'total', number>;
  threadsMsPerEmail: { api: Record<string, number>; worker: Record<string, number> };
  /** CPU ms per email of the API and the worker by bucket (they add up to the process's CPU). */
  bucketsMsPerEmail: { api: Record<RoleBucket, number>; worker: Record<RoleBucket, number> };
  /**
   * Sampled (wall) ms per email of the JavaScript threads by bucket, before scaling: the worker's main
   * thread and its worker threads (one workflow sandbox thread per task queue, and tsx's loader thread,
   * idle once started) apart.
   */
  sampledMsPerEmail: { api: Record<string, number>; workerMain: Record<string, number>; workerThreads: Record<string, number> };
  topFrames: { api: ReturnType<typeof summarizeWindow>['topFrames']; workerMain: ReturnType<typeof summarizeWindow>['topFrames']; workerThreads: ReturnType<typeof summarizeWindow>['topFrames'] };
  extra?: Record<string, unknown>;
}

const sumValues = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const scale = (r: Record<string, number>, by: number, digits = 3) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v * by, digits)]));
/** `raw - rate × seconds` key by key (the idle background removed), never below zero. */
const net = (raw: Record<string, number>, rate: Record<string, number>, seconds: number) =>
  Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Math.max(0, v - (rate[k] ?? 0) * seconds)]));
const perSecond = (r: Record<string, number>, seconds: number) => scale(r, 1 / seconds, 6);
const sorted = (r: Record<string, number>, min = 0.01) => Object.fromEntries(Object.entries(r).filter(([, v]) => v >= min).sort((a, b) => b[1] - a[1]));

function withoutBenchOps(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([k]) => !BENCH_OPERATIONS.some((op) => k.endsWith(` ${op}`))));
}

function analyse(
  phases: Phase[],
  idle: Phase,
  histories: Map<Phase, { path: HistoryCount; relays: HistoryCount }>,
  apiProfiles: ThreadProfile[],
  workerProfiles: ThreadProfile[],
) {
  const seconds = (p: Phase) => (p.after.ms - p.before.ms) / 1000;
  /** What the late counters cover: the phase and the wait for them to catch up. */
  const countedSeconds = (p: Phase) => (p.countsAfter.ms - p.countsBefore.ms) / 1000;
  const threadsOf = (p: Phase, role: 'api' | 'worker'): Record<string, number> => {
    const d = diffCounts(p.after.threads[role], p.before.threads[role]);
    // Threads that ended during the phase took their time with them; the process total still has it.
    const gone = p.after.cpu[role] - p.before.cpu[role] - sumValues(d);
    if (gone > 0) d['(exited threads)'] = gone;
    return d;
  };
  const cpuOf = (p: Phase): Record<string, number> =>
    Object.fromEntries(
      PROCESSES.map((proc) => {
        const total = p.after.cpu[proc] - p.before.cpu[proc];
        const profiler = proc === 'api' || proc === 'worker' ? (threadsOf(p, proc)[PROFILER_THREAD] ?? 0) : 0;
        return [proc, total - profiler];
      }),
    );
  const pgOf = ({ countsBefore: { pg: a }, countsAfter: { pg: b } }: Phase) => ({
    db: diffCounts(b.db, a.db),
    tables: diffCounts(b.tables, a.tables),
    calls: diffCounts(b.calls, a.calls),
    execMs: diffCounts(b.execMs, a.execMs),
  });
  const serverOf = ({ countsBefore: { server: a }, countsAfter: { server: b } }: Phase) => ({
    requests: withoutBenchOps(diffCounts(b.requests, a.requests)),
    persistence: diffCounts(b.persistence, a.persistence),
  });
  const profileOf = (p: Phase) => {
    const cut = (profiles: ThreadProfile[]) => summarizeWindow(profiles, p.before.us, p.after.us);
    const flat = (s: ReturnType<typeof summarizeWindow>): Record<string, number> => ({ busy: s.busyMs, ...s.byBucket });
    const api = cut(apiProfiles);
    const workerMain = cut(workerProfiles.filter((t) => t.threadId === 0));
    const workflowThread = cut(workerProfiles.filter((t) => t.threadId !== 0));
    return {
      flat: { api: flat(api), workerMain: flat(workerMain), workerThreads: flat(workflowThread) },
      top: { api: api.topFrames, workerMain: workerMain.topFrames, workerThreads: workflowThread.topFrames },
    };
  };

  const idleS = seconds(idle);
  const idleCountedS = countedSeconds(idle);
  const idleServer = serverOf(idle);
  const idlePg = pgOf(idle);
  const idleProfile = profileOf(idle).flat;
  const rates = {
    cpu: perSecond(cpuOf(idle), idleS),
    threads: { api: perSecond(threadsOf(idle, 'api'), idleS), worker: perSecond(threadsOf(idle, 'worker'), idleS) },
    requests: perSecond(idleServer.requests, idleCountedS),
    persistence: perSecond(idleServer.persistence, idleCountedS),
    pgDb: perSecond(idlePg.db, idleCountedS),
    pgTables: perSecond(idlePg.tables, idleCountedS),
    pgCalls: perSecond(idlePg.calls, idleCountedS),
    pgExecMs: perSecond(idlePg.execMs, idleCountedS),
    profile: {
      api: perSecond(idleProfile.api, idleS),
      workerMain: perSecond(idleProfile.workerMain, idleS),
      workerThreads: perSecond(idleProfile.workerThreads, idleS),
    },
  };
  const queries = Object.assign({}, ...phases.map((p) => p.countsAfter.pg.queries)) as Record<string, string>;

  const paths = {} as Record<Path, PathReport>;
  for (const phase of phases) {
    if (phase.name === 'idle') continue;
    const s = seconds(phase);
    const cs = countedSeconds(phase);
    const per = 1 / phase.work.emails;
    const { path: h, relays } = histories.get(phase)!;
    const type = (name: string) => h.byType[name] ?? 0;
    const typePrefix = (prefix: string) => sumValues(Object.fromEntries(Object.entries(h.byType).filter(([k]) => k.startsWith(prefix))));
    const cpuRaw = cpuOf(phase);
    const cpuNet = net(cpuRaw, rates.cpu, s);
    const server = serverOf(phase);
    const requestsNet = net(server.requests, rates.requests, cs);
    const persistenceNet = net(server.persistence, rates.persistence, cs);
    const pg = pgOf(phase);
    const pgDbNet = net(pg.db, rates.pgDb, cs);
    const callsNet = net(pg.calls, rates.pgCalls, cs);
    const execMsNet = net(pg.execMs, rates.pgExecMs, cs);
    const profile = profileOf(phase);
    const sampledNet = {
      api: net(profile.flat.api, rates.profile.api, s),
      workerMain: net(profile.flat.workerMain, rates.profile.workerMain, s),
      workerThreads: net(profile.flat.workerThreads, rates.profile.workerThreads, s),
    };
    const threadsNet = { api: net(threadsOf(phase, 'api'), rates.threads.api, s), worker: net(threadsOf(phase, 'worker'), rates.threads.worker, s) };
    // A role's CPU by bucket: its JavaScript threads' CPU split by the buckets' shares of their samples;
    // its other threads (the worker's Temporal core) apart; the sampler left out.
    const bucketsOf = (role: 'api' | 'worker', samples: Record<string, number>[]): Record<RoleBucket, number> => {
      const threads = threadsNet[role];
      const jsMs = sumValues(Object.fromEntries(Object.entries(threads).filter(([name]) => JS_THREADS.has(name))));
      const otherMs = sumValues(Object.fromEntries(Object.entries(threads).filter(([name]) => !JS_THREADS.has(name) && name !== PROFILER_THREAD)));
      const sampled = Object.fromEntries(CPU_BUCKETS.map((b) => [b, samples.reduce((sum, r) => sum + (r[b] ?? 0), 0)]));
      const total = sumValues(sampled);
      const out = Object.fromEntries(CPU_BUCKETS.map((b) => [b, total > 0 ? (sampled[b]! / total) * jsMs * per : 0])) as Record<RoleBucket, number>;
      out[CORE_BUCKET] = otherMs * per;
      return scale(out, 1) as Record<RoleBucket, number>;
    };
    const frontend = Object.fromEntries(Object.entries(requestsNet).filter(([k]) => k.startsWith('frontend ')));
    const perEmailCpu = (cpu: Record<string, number>) => ({ ...(scale(cpu, per) as Record<Process, number>), total: round(sumValues(cpu) * per, 3) });
    paths[phase.name] = {
      label: PATH_LABELS[phase.name],
      emails: phase.work.emails,
      loadAverage: phase.loadAverage,
      seconds: round(s, 2),
      emailsPerSecond: round(phase.work.emails / s, 1),
      temporal: {
        executionsPerEmail: h.executions * per,
        eventsPerEmail: h.events * per,
        workflowTasksPerEmail: type('WorkflowTaskScheduled') * per,
        activityTasksPerEmail: type('ActivityTaskScheduled') * per,
        localActivitiesPerEmail: type('MarkerRecorded (core_local_activity)') * per,
        patchMarkersPerEmail: type('MarkerRecorded (core_patch)') * per,
        searchAttributeUpsertsPerEmail: typePrefix('UpsertWorkflowSearchAttributes') * per,
        timersPerEmail: type('TimerStarted') * per,
        eventsByTypePerEmail: sorted(scale(h.byType, per), 0),
        byWorkflowType: h.byWorkflowType,
        relayEventsDuringPhase: relays.events,
      },
      server: {
        frontendPerEmail: sumValues(frontend) * per,
        persistencePerEmail: sumValues(persistenceNet) * per,
        requestsPerEmail: sorted(scale(requestsNet, per)),
        persistenceOpsPerEmail: sorted(scale(persistenceNet, per)),
      },
      postgres: {
        statementsPerEmail: sumValues(callsNet) * per,
        execMsPerEmail: round(sumValues(execMsNet) * per, 3),
        rowsWrittenPerEmail: ((pgDbNet.tup_inserted ?? 0) + (pgDbNet.tup_updated ?? 0) + (pgDbNet.tup_deleted ?? 0)) * per,
        rowsReadPerEmail: ((pgDbNet.tup_returned ?? 0) + (pgDbNet.tup_fetched ?? 0)) * per,
        transactionsPerEmail: ((pgDbNet.xact_commit ?? 0) + (pgDbNet.xact_rollback ?? 0)) * per,
        tablesPerEmail: sorted(scale(net(pg.tables, rates.pgTables, cs), per)),
        topStatements: Object.entries(callsNet)
          .filter(([, calls]) => calls * per >= 0.01)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 25)
          .map(([id, calls]) => ({ query: queries[id] ?? id, callsPerEmail: round(calls * per, 3), msPerEmail: round((execMsNet[id] ?? 0) * per, 4) })),
      },
      cpuMsPerEmail: perEmailCpu(cpuNet),
      rawCpuMsPerEmail: perEmailCpu(cpuRaw),
      threadsMsPerEmail: { api: sorted(scale(threadsNet.api, per), 0.001), worker: sorted(scale(threadsNet.worker, per), 0.001) },
      bucketsMsPerEmail: {
        api: bucketsOf('api', [sampledNet.api]),
        worker: bucketsOf('worker', [sampledNet.workerMain, sampledNet.workerThreads]),
      },
      sampledMsPerEmail: {
        api: scale(sampledNet.api, per),
        workerMain: scale(sampledNet.workerMain, per),
        workerThreads: scale(sampledNet.workerThreads, per),
      },
      topFrames: profile.top,
    };
  }
  return {
    windows: phases.map((p) => ({ phase: p.name, fromUs: p.before.us, toUs: p.after.us, from: new Date(p.before.ms).toISOString(), to: new Date(p.after.ms).toISOString() })),
    bucketLabels: {
      ...Object.fromEntries(CPU_BUCKETS.map((b) => [b, BUCKET_LABELS[b]])),
      [CORE_BUCKET]: 'Temporal core and other non-JS threads (Rust runtime; threads that exited)',
    },
    idle: {
      seconds: round(idleS, 2),
      cpuMsPerSecond: rates.cpu as Record<Process, number>,
      threadsMsPerSecond: rates.threads,
      requestsPerSecond: sorted(rates.requests, 0.001),
      persistenceOpsPerSecond: sorted(rates.persistence, 0.001),
      pgPerSecond: rates.pgDb,
      pgStatementsPerSecond: round(sumValues(rates.pgCalls), 2),
      pgTopStatementsPerSecond: Object.entries(rates.pgCalls)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([id, calls]) => ({ query: queries[id] ?? id, callsPerSecond: round(calls, 2) })),
      relayEvents: histories.get(idle)!.relays.events,
      sampledMsPerSecond: rates.profile,
    },
    paths,
  };
}

await runBench('bench:engine-cost', main, { timeoutMs: 15 * 60_000 });
