import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import type { Db } from '../../src/db/client.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { sends } from '../../src/db/schema.js';
import { findFreePort } from '../../src/embedded/ports.js';
import { startEmbeddedTemporal, type EmbeddedTemporal } from '../../src/embedded/temporal.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { createLogger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { httpClient } from '../api/support.js';
import { createTestDb } from '../helpers/db.js';
import { startFakeResend, type AcceptedEmail, type FakeResend } from '../helpers/fake-resend.js';
import { getWorkflowBundle } from '../helpers/temporal.js';
import { resendConfig, seedList } from '../workflows/campaign-fixtures.js';

/*
 * The fault suite's stack: a Temporal dev server we start ourselves (so it can be stopped and started
 * again on the same port and SQLite file), a database, the fake Resend API, the real HTTP API in this
 * process, and the real worker in child processes (test/faults/worker-process.ts) that a test can
 * SIGKILL. Every fault is real: a killed process, a stopped server, a provider that misbehaves.
 */

export const SECRET = 'fault-suite-secret-0123456789abcdef0123';

// Tests read JSON loosely; the assertions are the type check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A database the rig uses; `close` is called by the rig's close. */
export interface RigDatabase {
  db: Db;
  url: string;
  close(): Promise<void>;
}

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the process printed (stdout and stderr), for diagnostics. */
  output(): string;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

export interface Rig {
  db: Db;
  dbUrl: string;
  fake: FakeResend;
  /** The API's Temporal client (reconnects by itself after a server restart). */
  client: Client;
  temporalAddress: string;
  apiUrl: string;
  /** Real HTTP against /api/v1 with the site's key. */
  call: ReturnType<typeof httpClient>;
  /** Real HTTP against the API's root (/readyz, /healthz). */
  root: ReturnType<typeof httpClient>;
  siteId: number;
  /** A Resend sending config pointing at the fake. */
  configId: number;
  /** The site's API key (the `call` helper's). */
  apiKey: string;
  /** Starts a worker process and resolves once it polls. */
  startWorker(extraEnv?: Record<string, string>): Promise<WorkerProcess>;
  /**
   * Starts the product as `npm start` runs it, API and workers in one `src/main.ts` process
   * (TIDINGS_ROLE=all), on this rig's database, Temporal server and fake provider; resolves with the
   * process and its API's base URL once its workers poll and its API answers /readyz.
   */
  startProduct(port: number, extraEnv?: Record<string, string>): Promise<WorkerProcess & { url: string }>;
  /** Stops the Temporal dev server (graceful, like a restart by an operator). */
  stopTemporal(): Promise<void>;
  /** Starts it again on the same port and SQLite file. */
  startTemporal(): Promise<void>;
  close(): Promise<void>;
}

export interface RigOptions {
  /** A database to use instead of a fresh one in the shared test PostgreSQL. */
  database?: RigDatabase;
  /** Extra env for the API config (loadConfig). */
  apiEnv?: Record<string, string>;
}

/** One rig for the test file: started before its tests and closed after them; `onStarted` receives it. */
export function useRig(onStarted: (rig: Rig) => void): void {
  let rig: Rig | undefined;
  beforeAll(async () => {
    rig = await startRig();
    onStarted(rig);
  }, 300_000);
  afterAll(async () => {
    await rig?.close();
  });
}

/** `total` subscribed contacts `<prefix>-<i>@example.com` in one new list, and their addresses in order. */
export async function seedAudience(rig: Rig, total: number, prefix: string): Promise<{ listId: number; addresses: string[] }> {
  const { listId } = await seedList(rig.db, rig.siteId, total, prefix);
  return { listId, addresses: Array.from({ length: total }, (_, i) => `${prefix}-${i}@example.com`) };
}

/** Starts the stack; on failure, whatever was started is stopped again. */
export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
    cleanups.length = 0;
  };
  try {
    const tmp = await mkdtemp(path.join(inject('testTmpDir'), 'faults-'));
    cleanups.push(() => rm(tmp, { recursive: true, force: true }));
    const port = await findFreePort();
    const startServer = () =>
      startEmbeddedTemporal({ dataDir: path.join(tmp, 'temporal'), port, uiPort: false, cliPath: inject('temporalCliPath'), startTimeoutMs: 120_000 });
    const [database, fake, bundle] = await Promise.all([opts.database ?? createTestDb(), startFakeResend(), getWorkflowBundle()]);
    cleanups.push(() => database.close(), () => fake.close());
    let server: EmbeddedTemporal | null = await startServer();
    cleanups.push(async () => server?.stop());

    const bundlePath = path.join(tmp, 'workflows-bundle.js');
    await writeFile(bundlePath, bundle.code);

    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: server.namespace });

    const config = loadConfig({ NODE_ENV: 'test', TIDINGS_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '1000000', ...opts.apiEnv });
    const api = await startApi({ db: database.db, temporal: client, config, logger: createLogger('silent') }, { port: 0, host: '127.0.0.1' });
    cleanups.push(() => api.close());

    const siteId = (await createSite(database.db, { name: `Faults ${randomBytes(3).toString('hex')}` })).id;
    const key = (await createApiKey(database.db, { siteId, name: 'faults' })).key;
    const configId = await resendConfig(database.db, createSecretBox(SECRET), siteId, fake.apiKey);

    const workers = new Set<WorkerProcess>();
    cleanups.push(async () => {
      for (const w of workers) await w.kill();
    });
    const address = server.address;
    const namespace = server.namespace;

    return {
      db: database.db,
      dbUrl: database.url,
      fake,
      client,
      temporalAddress: address,
      apiUrl: api.url,
      call: httpClient(`${api.url}/api/v1`, key),
      root: httpClient(api.url),
      siteId,
      configId,
      apiKey: key,
      async startProduct(apiPort, extraEnv = {}) {
        const url = `http://127.0.0.1:${apiPort}`;
        const product = await spawnProcess(
          [path.join('src', 'main.ts')],
          {
            TIDINGS_ROLE: 'all',
            DATABASE_URL: database.url,
            TEMPORAL_ADDRESS: address,
            TEMPORAL_NAMESPACE: namespace,
            TIDINGS_SECRET: SECRET,
            TIDINGS_DATA_DIR: path.join(tmp, 'product'),
            RESEND_BASE_URL: fake.url,
            PORT: String(apiPort),
            HOST: '127.0.0.1',
            RATE_LIMIT_PER_MINUTE: '1000000',
            LOG_LEVEL: 'warn',
            ...extraEnv,
          },
          // The banner is printed once the workers poll; /readyz answers before, while they bundle.
          async (output) => output.includes('Tidings is running') && (await fetch(`${url}/readyz`).catch(() => null))?.ok === true,
        );
        workers.add(product);
        void product.exited.then(() => workers.delete(product));
        return { ...product, url };
      },
      async startWorker(extraEnv = {}) {
        const worker = await spawnWorker({
          TEMPORAL_ADDRESS: address,
          TEMPORAL_NAMESPACE: namespace,
          DATABASE_URL: database.url,
          WORKFLOW_BUNDLE_PATH: bundlePath,
          TIDINGS_SECRET: SECRET,
          RESEND_BASE_URL: fake.url,
          ...extraEnv,
        });
        workers.add(worker);
        void worker.exited.then(() => workers.delete(worker));
        return worker;
      },
      async stopTemporal() {
        await server?.stop();
        server = null;
      },
      async startTemporal() {
        server = await startServer();
      },
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** `setpriv --pdeathsig KILL` where available, so a worker never outlives a test run that died. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  return spawnProcess([path.join('test', 'faults', 'worker-process.ts')], env, async (output) => output.includes('ready'));
}

/** Runs a TypeScript entry point under tsx in a child process; resolves once `ready` says so. */
async function spawnProcess(script: string[], env: Record<string, string>, ready: (output: string) => Promise<boolean>): Promise<WorkerProcess> {
  const command = [process.execPath, '--import', 'tsx', ...script];
  // setpriv execs the command, so the pid we signal is the worker's own.
  const [file, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...command] : command;
  const child = spawn(file!, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    // The tail is what explains a failure; an hour of warnings is not.
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const worker: WorkerProcess = {
    pid: child.pid!,
    child,
    exited,
    output: () => output,
    async kill() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + 120_000;
  while (!(await ready(output))) {
    if (gone) throw new Error(`${script.join(' ')} exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      await worker.kill();
      throw new Error(`${script.join(' ')} was not ready within 120 s:\n${output}`);
    }
    await sleep(50);
  }
  return worker;
}

/**
 * A seeded random source (mulberry32) whose seed is logged, so a failing run can be replayed with
 * FAULT_SEED=<seed>. Without FAULT_SEED each run draws a new seed.
 */
export function seededRandom(label: string): { seed: number; next(): number; between(min: number, max: number): number } {
  const seed = process.env.FAULT_SEED ? Number(process.env.FAULT_SEED) : randomBytes(4).readUInt32BE(0);
  console.log(`[faults] ${label}: seed ${seed} (reproduce with FAULT_SEED=${seed})`);
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, between: (min, max) => Math.round(min + next() * (max - min)) };
}

export function log(line: string): void {
  console.log(`[faults] ${new Date().toISOString().slice(11, 23)} ${line}`);
}

/** Polls `probe` until it returns a truthy value; fails with `what` (and the last value) after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Creates a campaign to a list through the API, starting now. `maxPerSecond` (the campaign's own
 * throttle) keeps it sending long enough for a fault to land mid-campaign on an idle machine too.
 */
export async function createCampaign(rig: Rig, listId: number, name: string, maxPerSecond?: number): Promise<number> {
  const created = await rig.call('POST', '/campaigns', {
    body: {
      name,
      subject: `${name} for {{ firstName }}`,
      html: '<p>News for {{ firstName }}</p>',
      listId,
      sendingConfigId: rig.configId,
      scheduledAt: new Date().toISOString(),
      ...(maxPerSecond ? { maxPerSecond } : {}),
    },
  });
  expect(created.status, created.text).toBe(201);
  return created.body.data.id;
}

/** GET /campaigns/:id, or null when the API cannot answer right now (a dependency is down). */
export async function campaignView(rig: Rig, id: number): Promise<Json | null> {
  const res = await rig.call('GET', `/campaigns/${id}`).catch(() => null);
  if (!res || res.status !== 200) return null;
  return res.body.data;
}

/** Waits until the campaign has sent its first emails (the moment a fault is injected after). */
export async function waitForFirstEmails(rig: Rig, id: number, intervalMs = 100): Promise<void> {
  await waitFor('the campaign to start sending', async () => ((await campaignView(rig, id))?.sentCount ?? 0) > 0, 120_000, intervalMs);
}

/**
 * Waits until the campaign has left `sending`; fails early if its sentCount stops moving for
 * `stallMs`, with the workflow's pending activities in the message.
 */
export async function waitForCampaignEnd(rig: Rig, id: number, opts: { timeoutMs: number; stallMs: number; worker?: WorkerProcess }): Promise<Json> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: Json = null;
  let progressAt = Date.now();
  for (;;) {
    const view = await campaignView(rig, id);
    if (view) {
      if (!last || view.sentCount !== last.sentCount) progressAt = Date.now();
      last = view;
      if (view.status !== 'sending' && view.status !== 'scheduled') return view;
    }
    if (Date.now() > deadline || Date.now() - progressAt > opts.stallMs) {
      const pending = await rig.client.workflow
        .getHandle(`campaign:${id}`)
        .describe()
        .then((d) => (d.raw.pendingActivities ?? []).map((a) => ({ type: a.activityType?.name, state: a.state, attempt: a.attempt, failure: a.lastFailure?.message })))
        .catch((err: Error) => err.message);
      const output = opts.worker ? `\nworker output (tail):\n${opts.worker.output().slice(-6_000)}` : '';
      throw new Error(`campaign ${id} did not finish: ${JSON.stringify({ last, pending })}${output}`);
    }
    await sleep(500);
  }
}

/** The address(es) an accepted email went to. */
function recipientsOf(email: AcceptedEmail): string[] {
  return [email.payload.to].flat();
}

/**
 * The exactly-once check at the provider: counts accepted, distinct messages (the fake already
 * collapses a replayed Idempotency-Key into the first answer) per `keyOf(recipient, message)`, and
 * returns every expected key that did not get exactly one plus every key nobody expected.
 */
export function exactlyOnceViolations(
  emails: AcceptedEmail[],
  expected: Iterable<string>,
  keyOf: (recipient: string, email: AcceptedEmail) => string = (recipient) => recipient,
): { key: string; messages: number }[] {
  const messages = new Map<string, Set<string>>();
  for (const email of emails) {
    for (const to of recipientsOf(email)) {
      const key = keyOf(to, email);
      let ids = messages.get(key);
      if (!ids) messages.set(key, (ids = new Set()));
      ids.add(email.id);
    }
  }
  const violations: { key: string; messages: number }[] = [];
  const wanted = new Set(expected);
  for (const key of wanted) {
    const n = messages.get(key)?.size ?? 0;
    if (n !== 1) violations.push({ key, messages: n });
  }
  for (const [key, ids] of messages) if (!wanted.has(key)) violations.push({ key, messages: ids.size });
  return violations;
}

/**
 * What a campaign that went out exactly once looks like: the API says `sent` with every recipient
 * counted as sent, no recipient is left pending or failed, every send row is `sent`, and the provider
 * accepted exactly one message per address (and none to anyone else).
 */
export async function expectCampaignSentExactlyOnce(rig: Rig, id: number, addresses: string[], emails: AcceptedEmail[] = rig.fake.emails): Promise<void> {
  const total = addresses.length;
  const view = await campaignView(rig, id);
  expect(view).toMatchObject({ status: 'sent', totalRecipients: total, sentCount: total, failedCount: 0, skippedCount: 0, suppressedCount: 0 });
  const recipients = await rig.db.execute<{ status: string; n: number }>(
    sql`select status::text, count(*)::int as n from campaign_recipients where campaign_id = ${id} group by status`,
  );
  expect(Object.fromEntries(recipients.rows.map((r) => [r.status, r.n]))).toEqual({ sent: total });
  const sendRows = await rig.db.execute<{ status: string; n: number }>(
    sql`select status::text, count(*)::int as n from sends where campaign_id = ${id} group by status`,
  );
  expect(Object.fromEntries(sendRows.rows.map((r) => [r.status, r.n]))).toEqual({ sent: total });
  const campaignEmails = emails.filter((e) => e.payload.subject.startsWith(view.name));
  expect(exactlyOnceViolations(campaignEmails, addresses).slice(0, 20)).toEqual([]);
  expect(new Set(campaignEmails.map((e) => e.id)).size).toBe(total);
}

/** POST /send of one email through the rig's sending config (with an Idempotency-Key, as a careful client sends it). */
export function sendTransactional(rig: Rig, to: string, subject: string, idempotencyKey = `faults:${to}:${subject.replace(/[^A-Za-z0-9]+/g, '-')}`) {
  return rig.call('POST', '/send', {
    body: { to, subject, html: `<p>${subject}</p>`, sendingConfigId: rig.configId },
    headers: { 'idempotency-key': idempotencyKey },
  });
}

/** What a client must see while a dependency is down: 503, the JSON error envelope, and Retry-After. */
export function expectUnavailable(res: { status: number; headers: Headers; body: Json; text: string }, what: string): void {
  expect(res.status, `${what}: ${res.text}`).toBe(503);
  expect(res.headers.get('content-type'), what).toMatch(/application\/json/);
  expect(Number(res.headers.get('retry-after')), `${what}: Retry-After`).toBeGreaterThan(0);
}

/** What a client must see from an API route while a dependency is down: the 503 error body too. */
export function expectServiceUnavailable(res: { status: number; headers: Headers; body: Json; text: string }, what: string): void {
  expectUnavailable(res, what);
  expect(res.body, what).toMatchObject({ error: { code: 'service_unavailable', message: expect.any(String), requestId: expect.any(String) } });
}

/** Waits until every send with these ids has left `queued`, then returns their statuses by id. */
export async function waitForSends(rig: Rig, ids: number[], timeoutMs: number): Promise<Map<number, string>> {
  let statuses = new Map<number, string>();
  await waitFor(
    `${ids.length} transactional sends to settle`,
    async () => {
      const rows = await rig.db.select({ id: sends.id, status: sends.status }).from(sends).where(inArray(sends.id, ids));
      statuses = new Map(rows.map((r) => [r.id, r.status]));
      return rows.length === ids.length && rows.every((r) => r.status !== 'queued');
    },
    timeoutMs,
    500,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
  return statuses;
}

/**
 * What must hold once a dependency is back: the API is ready again, the client's retry of a send
 * refused during the outage (same Idempotency-Key) is accepted and delivered once, the campaign ends
 * with every recipient emailed exactly once, and the worker process survived without a restart.
 */
export async function expectRecoveredExactlyOnce(
  rig: Rig,
  opts: { outage: string; campaignId: number; addresses: string[]; worker: WorkerProcess; retry: { to: string; subject: string } },
): Promise<void> {
  await waitFor(`readiness after the ${opts.outage}`, async () => (await rig.root('GET', '/readyz')).status === 200, 60_000, 250);
  const retried = await sendTransactional(rig, opts.retry.to, opts.retry.subject);
  expect(retried.status, retried.text).toBe(202);

  const end = await waitForCampaignEnd(rig, opts.campaignId, { timeoutMs: 300_000, stallMs: 90_000, worker: opts.worker });
  log(`campaign ${end.status}: ${end.sentCount} sent`);
  expect(opts.worker.child.exitCode, `the worker process survived the ${opts.outage}:\n${opts.worker.output()}`).toBeNull();
  expect(opts.worker.child.signalCode).toBeNull();
  await expectCampaignSentExactlyOnce(rig, opts.campaignId, opts.addresses);

  const statuses = await waitForSends(rig, [retried.body.data.sendId], 120_000);
  expect([...statuses.values()]).toEqual(['sent']);
  const transactional = rig.fake.emails.filter((e) => e.payload.subject === opts.retry.subject);
  expect(exactlyOnceViolations(transactional, [opts.retry.to])).toEqual([]);
}
