/**
 * Sequences at scale, end to end.
 *
 *   npx tsx bench/sequences.ts      (ENROLL=10000 TIMERS=1000 TIMER_DELAY_MINUTES=2 by default)
 *
 * Starts a throwaway embedded PostgreSQL and Temporal dev server (SQLite, WAL), the fake Resend
 * server (test/helpers/fake-resend.ts), and Tidings as two processes like production (`src/main.ts`
 * with TIDINGS_ROLE=api and TIDINGS_ROLE=worker). Seeds contacts and lists with set-based SQL, creates
 * the seed's 3-step onboarding sequence through the API, then measures:
 *  1. `POST /sequences/:id/enroll {listId}` for ENROLL contacts: the answer's time (a bulk
 *     enrollment job, 202), journeys started/s (from the request until its job, polled at
 *     `GET /enrollment-jobs/:id`, reports every journey started) and the time until every first
 *     email ("Welcome!", delay 0) was accepted by the provider, each exactly once;
 *  2. the worker's resident memory once those ENROLL journeys all sleep toward step 2 (1 day away);
 *  3. timer lag: TIMERS contacts enrolled into a one-step sequence with a TIMER_DELAY_MINUTES delay, so
 *     they all wake within the same minute; lag = when the send began (the send row is written first
 *     thing by the send activity) and when the provider accepted it, minus the time the workflow
 *     scheduled (mirrored on enrollments.next_step_at before it slept). p50/p99;
 *  4. a list_add trigger: TRIGGERED contacts join the sequence's list in one INSERT (what a CSV import
 *     batch writes), so PostgreSQL stages their journeys and the enrollment-outbox relay starts them:
 *     the time until every journey started (journeys/s) and until every welcome email was accepted.
 * Writes bench/results/sequences.json with machine info.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { createDatabase, type Db } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { ensureApiKey } from '../src/db/repositories/api-keys.js';
import { ensureDefaultSite } from '../src/db/repositories/sites.js';
import { apiCall, exactlyOnce } from './lib/api.js';
import { memoryOf } from './lib/proc.js';
import { wakeTiming, type WakeTiming } from './lib/temporal-cost.js';
import { benchTidingsEnv, fakeResendConfig, seedBenchList, type RoleProcess, spawnTidingsRole, startBenchServices, benchPgFsync } from './lib/services.js';
import { loadAverage, machineInfo } from './lib/machine.js';
import { writeResult, type Figure } from './lib/results.js';
import { round, summarize } from './lib/stats.js';

const ENROLL = Number(process.env.ENROLL ?? 10_000);
const TIMERS = Number(process.env.TIMERS ?? 1_000);
const TIMER_DELAY_MINUTES = Number(process.env.TIMER_DELAY_MINUTES ?? 2);
const TRIGGERED = Number(process.env.TRIGGERED ?? 2_000);
const SECRET = 'bench-sequences-secret-0123456789abcdefghijkl';
const API_KEY = `tk_live_${'s'.repeat(32)}`;

async function waitFor(what: string, ready: () => Promise<boolean>, opts: { timeoutMs: number; proc?: RoleProcess; everyMs?: number }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (!(await ready().catch(() => false))) {
    if (opts.proc && opts.proc.child.exitCode !== null) throw new Error(`${what}: process exited:\n${opts.proc.output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${opts.timeoutMs / 1000} s${opts.proc ? `\n${opts.proc.output().slice(-4000)}` : ''}`);
    await sleep(opts.everyMs ?? 200);
  }
}

/** One call to the bench's API with its key (bench/lib/api.ts). */
const api = <T>(base: string, method: string, url: string, body?: unknown) => apiCall<T>(base, API_KEY, method, url, body);

/** What `GET /enrollment-jobs/:id` answers (the fields this bench reads). */
interface EnrollmentJob {
  id: number;
  status: 'running' | 'completed';
  total: number;
  started: number;
}

async function count(db: Db, query: ReturnType<typeof sql>): Promise<number> {
  const { rows } = await db.execute<{ n: number }>(query);
  return Number(rows[0]?.n ?? 0);
}

async function main() {
  // The machine and its load average before this bench adds its own load (the report's column).
  const machine = machineInfo();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'tidings-bench-sequences-'));
  const procs: RoleProcess[] = [];
  const { pg, temporal, fake, apiPort } = await startBenchServices(tmp);
  const database = createDatabase(pg.databaseUrl, { max: 2 });
  const { db } = database;
  try {
    await runMigrations(db);
    const { site } = await ensureDefaultSite(db);
    await ensureApiKey(db, site.id, API_KEY);
    const list = (name: string, count: number, prefix: string) =>
      seedBenchList(db, site.id, { name, count, prefix, firstName: 'Person', timezone: 'Europe/Paris' });
    const signups = await list('Signups', ENROLL, 'signup');
    const reminders = await list('Reminders', TIMERS, 'remind');
    // Phase 4's contacts exist from the start; they join their list only once its sequence listens.
    await db.execute(sql`
      insert into contacts (site_id, email, first_name, status)
      select ${site.id}, 'joined' || g || '@example.com', 'Person ' || g, 'subscribed' from generate_series(1, ${TRIGGERED}) g`);
    await db.execute(sql`analyze`);
    const config = await fakeResendConfig(db, fake, { siteId: site.id, secret: SECRET, fromEmail: 'hello@example.com' });

    const common = benchTidingsEnv({ databaseUrl: pg.databaseUrl, temporalAddress: temporal.address, fake, secret: SECRET, apiKey: API_KEY });
    const apiProc = spawnTidingsRole('api', { ...common, PORT: String(apiPort), HOST: '127.0.0.1', TIDINGS_DATA_DIR: path.join(tmp, 'api') });
    const workerProc = spawnTidingsRole('worker', { ...common, TIDINGS_DATA_DIR: path.join(tmp, 'worker') });
    procs.push(apiProc, workerProc);
    const base = `http://127.0.0.1:${apiPort}`;
    await waitFor('API ready', async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 120_000, proc: apiProc });
    await waitFor('worker running', async () => workerProc.output().includes('Tidings is running'), { timeoutMs: 120_000, proc: workerProc });
    const workerPid = workerProc.child.pid!;
    const idleRss = (await memoryOf(workerPid))!.rssMb;

    // 1. The seed's onboarding flow, enrolled from a list of ENROLL contacts through the API.
    const onboarding = await api<{ id: number }>(base, 'POST', '/sequences', { name: 'Onboarding Flow', sendingConfigId: config.id });
    for (const [subject, delayValue, delayUnit] of [['Welcome!', 0, 'minutes'], ['Getting started', 1, 'days'], ['Pro tips', 3, 'days']] as const) {
      await api(base, 'POST', `/sequences/${onboarding.id}/steps`, { subject, html: `<p>${subject} {{ firstName }}</p>`, delayValue, delayUnit });
    }
    process.stderr.write(`enrolling ${ENROLL} contacts…\n`);
    const t0 = performance.now();
    // Journeys start sending while the request still enrolls the rest of the list: watch from the start.
    let firstEmailMs: number | null = null;
    const firstWatch = setInterval(() => {
      if (firstEmailMs === null && fake.emails.length > 0) firstEmailMs = performance.now() - t0;
    }, 20);
    const job = await api<EnrollmentJob>(base, 'POST', `/sequences/${onboarding.id}/enroll`, { listId: signups });
    const answerMs = performance.now() - t0;
    process.stderr.write(`job ${job.id} staged ${job.total} contacts; answered in ${Math.round(answerMs)} ms\n`);
    let startedMs: number | null = null;
    let lastJob = job;
    await waitFor(
      'all first emails',
      async () => {
        if (startedMs === null) {
          lastJob = await api<EnrollmentJob>(base, 'GET', `/enrollment-jobs/${job.id}`);
          if (lastJob.status === 'completed') {
            startedMs = performance.now() - t0;
            process.stderr.write(`job completed: ${lastJob.started} journeys started after ${Math.round(startedMs)} ms (${fake.emails.length} first emails sent)\n`);
          }
        }
        return startedMs !== null && fake.emails.length >= ENROLL;
      },
      { timeoutMs: 30 * 60_000, proc: workerProc, everyMs: 50 },
    );
    const enrollMs: number = startedMs ?? performance.now() - t0;
    clearInterval(firstWatch);
    const allFirstMs = performance.now() - t0;
    const firstOnce = exactlyOnce(fake, 'Welcome!', ENROLL);
    process.stderr.write(`all ${ENROLL} first emails after ${Math.round(allFirstMs)} ms; waiting until every journey sleeps…\n`);

    // 2. Every journey asleep toward step 2 (the mirror says next step in about a day).
    await waitFor(
      'all journeys sleeping',
      async () =>
        (await count(
          db,
          sql`select count(*)::int as n from enrollments where sequence_id = ${onboarding.id} and status = 'active' and next_step_at > now() + interval '12 hours'`,
        )) >= ENROLL,
      { timeoutMs: 10 * 60_000, proc: workerProc, everyMs: 500 },
    );
    await sleep(5_000);
    const sleepingRss = (await memoryOf(workerPid))!;

    // 3. Timer lag: TIMERS journeys due within the same minute.
    const reminder = await api<{ id: number }>(base, 'POST', '/sequences', { name: 'Reminder', sendingConfigId: config.id });
    await api(base, 'POST', `/sequences/${reminder.id}/steps`, { subject: 'Your reminder', html: '<p>Hi {{ firstName }}</p>', delayValue: TIMER_DELAY_MINUTES, delayUnit: 'minutes' });
    fake.reset();
    const timersLoad = loadAverage();
    const t1 = performance.now();
    await api(base, 'POST', `/sequences/${reminder.id}/enroll`, { listId: reminders });
    const timerEnrollMs = performance.now() - t1;
    await waitFor(
      'reminder journeys scheduled',
      async () => (await count(db, sql`select count(*)::int as n from enrollments where sequence_id = ${reminder.id} and next_step_at is not null`)) >= TIMERS,
      { timeoutMs: 5 * 60_000, proc: workerProc, everyMs: 200 },
    );
    // next_step_at is cleared when a journey ends: keep the scheduled instants now.
    const { rows: scheduledRows } = await db.execute<{ workflow_id: string; due: string }>(
      sql`select workflow_id, next_step_at as due from enrollments where sequence_id = ${reminder.id}`,
    );
    const due = new Map(scheduledRows.map((r) => [r.workflow_id, new Date(r.due).getTime()]));
    const dueTimes = [...due.values()];
    const spreadS = (Math.max(...dueTimes) - Math.min(...dueTimes)) / 1000;
    process.stderr.write(`${TIMERS} reminders due within ${round(spreadS)} s; waiting for them…\n`);
    await waitFor('all reminders sent', async () => fake.emails.length >= TIMERS, {
      timeoutMs: (TIMER_DELAY_MINUTES + 15) * 60_000,
      proc: workerProc,
      everyMs: 100,
    });
    await waitFor(
      'reminder sends recorded',
      async () => (await count(db, sql`select count(*)::int as n from sends where sequence_id = ${reminder.id} and sent_at is not null`)) >= TIMERS,
      { timeoutMs: 60_000 },
    );
    const { rows: sendRows } = await db.execute<{ enrollment_id: string; created_at: string; sent_at: string }>(
      sql`select enrollment_id, created_at, sent_at from sends where sequence_id = ${reminder.id}`,
    );
    const startLag = sendRows.map((r) => new Date(r.created_at).getTime() - due.get(r.enrollment_id)!);
    const acceptedLag = sendRows.map((r) => new Date(r.sent_at).getTime() - due.get(r.enrollment_id)!);
    const start = summarize(startLag);
    const accepted = summarize(acceptedLag);
    const timersOnce = exactlyOnce(fake, 'Your reminder', TIMERS);
    // Where the lag went, from each journey's history: the server's timer queue, the task queue (no
    // free poll or slot), then the worker until the send began (replay on a cache miss, local activities).
    const temporalClient = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    const wakes = new Map<string, WakeTiming>();
    const ids = [...due.keys()];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let id = ids.pop(); id !== undefined; id = ids.pop()) {
          const wake = await wakeTiming(temporalClient, id);
          if (wake) wakes.set(id, wake);
        }
      }),
    );
    await temporalClient.connection.close();
    const woken = [...wakes.values()];
    const lagParts = {
      timerFiredLateMs: summarize(woken.map((w) => w.timerFiredLateMs)),
      taskQueueWaitMs: summarize(woken.flatMap((w) => (w.taskQueueWaitMs === null ? [] : [w.taskQueueWaitMs]))),
      taskStartToSendMs: summarize(
        sendRows.flatMap((r) => {
          const started = wakes.get(r.enrollment_id)?.taskStartedMs;
          return started == null ? [] : [new Date(r.created_at).getTime() - started];
        }),
      ),
      workflowTaskTimeouts: woken.reduce((n, w) => n + w.workflowTaskTimeouts, 0),
    };
    process.stderr.write(`timer lag parts: ${JSON.stringify(lagParts)}\n`);

    // 4. A list_add trigger fed by one set-based membership insert, as an import batch writes it.
    const [joinedList] = (await db.execute<{ id: number }>(sql`insert into lists (site_id, name) values (${site.id}, 'Joined') returning id`)).rows;
    const welcome = await api<{ id: number }>(base, 'POST', '/sequences', {
      name: 'Welcome aboard',
      sendingConfigId: config.id,
      trigger: { type: 'list_add', listId: joinedList!.id },
    });
    await api(base, 'POST', `/sequences/${welcome.id}/steps`, { subject: 'Welcome aboard', html: '<p>Hi {{ firstName }}</p>', delayValue: 0, delayUnit: 'minutes' });
    fake.reset();
    const triggeredLoad = loadAverage();
    process.stderr.write(`${TRIGGERED} contacts join a list_add sequence's list…\n`);
    const t2 = performance.now();
    await db.execute(sql`
      insert into list_members (list_id, contact_id)
      select ${joinedList!.id}, id from contacts where site_id = ${site.id} and email like 'joined%'`);
    await waitFor(
      'every triggered journey started',
      async () =>
        (await count(db, sql`select count(*)::int as n from enrollments where sequence_id = ${welcome.id}`)) >= TRIGGERED &&
        (await count(db, sql`select count(*)::int as n from enrollment_outbox where sequence_id = ${welcome.id}`)) === 0,
      { timeoutMs: 15 * 60_000, proc: workerProc, everyMs: 50 },
    );
    const triggeredStartedMs = performance.now() - t2;
    await waitFor('every welcome email', async () => fake.emails.length >= TRIGGERED, { timeoutMs: 15 * 60_000, proc: workerProc, everyMs: 50 });
    const triggeredEmailsMs = performance.now() - t2;
    const triggeredOnce = exactlyOnce(fake, 'Welcome aboard', TRIGGERED);
    const finalRss = (await memoryOf(workerPid))!;

    const figures: Figure[] = [
      {
        key: 'enroll_per_s',
        label: `journeys started/s (POST enroll {listId}, ${ENROLL} contacts, until the job reports all started)`,
        value: round(lastJob.started / (enrollMs / 1000)),
        unit: '/s',
      },
      { key: 'enroll_total_s', label: 'enroll request: time to its answer', value: round(answerMs / 1000, 3), unit: 's' },
      { key: 'enroll_started_s', label: `enroll: every journey started (job completed) after the POST`, value: round(enrollMs / 1000, 1), unit: 's' },
      { key: 'first_email_ms', label: 'first email accepted after the POST', value: Math.round(firstEmailMs ?? allFirstMs), unit: 'ms' },
      { key: 'all_first_emails_s', label: `all ${ENROLL} first emails accepted after the POST`, value: round(allFirstMs / 1000, 1), unit: 's' },
      { key: 'first_emails_per_s', label: 'first emails/s end to end', value: round(ENROLL / (allFirstMs / 1000)), unit: '/s' },
      { key: 'worker_rss_idle_mb', label: 'worker RSS before any enrollment', value: round(idleRss), unit: 'MB' },
      { key: 'worker_rss_sleeping_mb', label: `worker RSS with ${ENROLL} sleeping enrollments`, value: round(sleepingRss.rssMb), unit: 'MB' },
      { key: 'worker_peak_rss_mb', label: 'worker peak RSS (VmHWM) over the run', value: round(finalRss.peakRssMb), unit: 'MB' },
      { key: 'timer_lag_start_p50_ms', label: `timer lag to send start p50 (${TIMERS} due within ${round(spreadS)} s)`, value: Math.round(start.p50), unit: 'ms', loadAverage: timersLoad },
      { key: 'timer_lag_start_p99_ms', label: 'timer lag to send start p99', value: Math.round(start.p99), unit: 'ms', loadAverage: timersLoad },
      { key: 'timer_lag_accepted_p50_ms', label: 'timer lag to provider acceptance p50', value: Math.round(accepted.p50), unit: 'ms', loadAverage: timersLoad },
      { key: 'timer_lag_accepted_p99_ms', label: 'timer lag to provider acceptance p99', value: Math.round(accepted.p99), unit: 'ms', loadAverage: timersLoad },
      { key: 'timer_fired_late_p99_ms', label: 'timer lag: timer fired after due, p99 (server timer queue)', value: Math.round(lagParts.timerFiredLateMs.p99), unit: 'ms', loadAverage: timersLoad },
      { key: 'timer_task_wait_p99_ms', label: 'timer lag: first workflow task after the timer, scheduled → started, p99', value: Math.round(lagParts.taskQueueWaitMs.p99), unit: 'ms', loadAverage: timersLoad },
      { key: 'timer_task_to_send_p99_ms', label: 'timer lag: that task started → send began, p99 (worker)', value: Math.round(lagParts.taskStartToSendMs.p99), unit: 'ms', loadAverage: timersLoad },
      { key: 'timer_task_timeouts', label: 'timer lag: workflow task timeouts among the woken journeys', value: lagParts.workflowTaskTimeouts, unit: 'tasks', loadAverage: timersLoad },
      {
        key: 'triggered_started_s',
        label: `list_add trigger: ${TRIGGERED} contacts join the list in one INSERT → every journey started (relay polls every 5 s)`,
        value: round(triggeredStartedMs / 1000, 1),
        unit: 's',
        loadAverage: triggeredLoad,
      },
      { key: 'triggered_started_per_s', label: 'list_add trigger: journeys started/s', value: round(TRIGGERED / (triggeredStartedMs / 1000)), unit: '/s', loadAverage: triggeredLoad },
      { key: 'triggered_emails_s', label: `list_add trigger: all ${TRIGGERED} welcome emails accepted after the INSERT`, value: round(triggeredEmailsMs / 1000, 1), unit: 's', loadAverage: triggeredLoad },
    ];
    await writeResult({
      bench: 'sequences',
      machine,
      command: 'npx tsx bench/sequences.ts',
      parameters: {
        enroll: ENROLL,
        timers: TIMERS,
        triggered: TRIGGERED,
        timerDelayMinutes: TIMER_DELAY_MINUTES,
        setup: `embedded PostgreSQL (${benchPgFsync}) + Temporal dev server (SQLite WAL) + fake Resend on localhost; API and worker as separate processes (worker: maxCachedWorkflows 250 on the main queue)`,
      },
      figures,
      details: {
        job: lastJob,
        firstEmailsExactlyOnce: firstOnce,
        remindersExactlyOnce: timersOnce,
        triggeredExactlyOnce: triggeredOnce,
        timerEnrollMs: Math.round(timerEnrollMs),
        dueSpreadSeconds: round(spreadS),
        timerLagToSendStartMs: start,
        timerLagToAcceptanceMs: accepted,
        timerLagParts: lagParts,
        workerRssSleeping: sleepingRss,
      },
    });
    if (!firstOnce || !timersOnce || !triggeredOnce) throw new Error('some contact did not get exactly one email');
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
