import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../src/embedded/ports.js';
import { startEmbeddedPostgres } from '../../src/embedded/postgres.js';
import { startEmbeddedTemporal } from '../../src/embedded/temporal.js';
import { sql } from 'drizzle-orm';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import type { Db } from '../../src/db/client.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { withProcessEnvDefaults } from '../../src/process-env.js';
import { startFakeResend, type FakeResend } from '../../test/helpers/fake-resend.js';
import { sleep } from './proc.js';
import { benchAborted, onCleanup } from './run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Whether the bench's PostgreSQL syncs its commits to disk, as the product's embedded PostgreSQL does
 * (the default). BENCH_PG_FSYNC=off turns fsync, synchronous_commit and full-page writes off, as the
 * figures measured before issue 12 were: say so next to any figure measured that way.
 */
export const benchPgDurable = process.env.BENCH_PG_FSYNC !== 'off';
/** How the bench's PostgreSQL was run, for result files' setup lines. */
export const benchPgFsync = benchPgDurable ? 'fsync on' : 'fsync off';

/** The bench's PostgreSQL flags: durability off when BENCH_PG_FSYNC=off (see benchPgDurable), then `extra`. */
export function benchPostgresFlags(extra: string[] = []): string[] {
  return [...(benchPgDurable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']), ...extra];
}

/**
 * A throwaway embedded PostgreSQL (database `bench`) and Temporal dev server under `tmp`, and the fake
 * Resend server in this process, started at once; plus a free port for the API. The caller stops them.
 * `postgresFlags` come after the bench's own (e.g. `['-c', 'shared_preload_libraries=pg_stat_statements']`).
 */
export async function startBenchServices(tmp: string, opts: { postgresFlags?: string[] } = {}) {
  const [pgPort, temporalPort, apiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const [pg, temporal, fake] = await Promise.all([
    startEmbeddedPostgres({
      dataDir: path.join(tmp, 'pg'),
      port: pgPort,
      database: 'bench',
      postgresFlags: benchPostgresFlags(opts.postgresFlags),
    }),
    startEmbeddedTemporal({ dataDir: path.join(tmp, 'temporal'), port: temporalPort, uiPort: false }),
    startFakeResend(),
  ]);
  return { pg, temporal, fake, apiPort };
}

/** {@link startBenchServices}, each service stopped by the run's cleanup (bench/lib/run.ts) on exit or abort. */
export async function startManagedBenchServices(tmp: string, opts: { postgresFlags?: string[] } = {}) {
  const services = await startBenchServices(tmp, opts);
  onCleanup('stop PostgreSQL', () => services.pg.stop());
  onCleanup('stop Temporal', () => services.temporal.stop());
  onCleanup('stop fake Resend', () => services.fake.close());
  return services;
}

/** A Tidings process (`src/main.ts` in one role) with its stdout and stderr kept for error messages. */
export interface RoleProcess {
  child: ChildProcess;
  output: () => string;
}

/** How to run a role's Node process beyond its environment. */
export interface RoleOptions {
  /**
   * Node flags before the tsx loader, e.g. `['--cpu-prof', '--cpu-prof-dir=…']` (which NODE_OPTIONS
   * does not accept).
   */
  nodeFlags?: string[];
}

/** Spawns `src/main.ts` with TIDINGS_ROLE=`role` (`all`: API and workers in one process, as `npm start`) on top of this environment; the caller stops it. */
export function spawnTidingsRole(role: 'api' | 'worker' | 'all', env: Record<string, string>, opts: RoleOptions = {}): RoleProcess {
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), '--import', 'tsx', path.join(root, 'src', 'main.ts')], {
    cwd: root,
    // The product's process defaults (MALLOC_ARENA_MAX), as `npm start` and the image set them.
    env: withProcessEnvDefaults({ ...process.env, ...env, TIDINGS_ROLE: role, LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

/**
 * `spawnTidingsRole`, stopped (SIGTERM, then SIGKILL after 15 s) when the bench ends however it ends:
 * for benches run under runBench (bench/lib/run.ts).
 */
export function startManagedRole(role: 'api' | 'worker' | 'all', env: Record<string, string>, opts: RoleOptions = {}): RoleProcess {
  const proc = spawnTidingsRole(role, env, opts);
  stopOnCleanup(`stop ${role}`, proc.child);
  return proc;
}

/** Stops a child process (SIGTERM, then SIGKILL after 15 s) in the run's cleanup (bench/lib/run.ts). */
export function stopOnCleanup(name: string, child: ChildProcess): void {
  onCleanup(name, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  });
}

/** Polls `ready` every 200 ms until it answers true; fails with the process's output if it exits or times out. */
export async function waitForRole(what: string, proc: RoleProcess, ready: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready().catch(() => false))) {
    benchAborted.throwIfAborted();
    if (proc.child.exitCode !== null) throw new Error(`${what} exited:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${what} did not become ready:\n${proc.output()}`);
    await sleep(200);
  }
}

/** A Resend sending config of the site pointing at the bench's fake Resend, without a rate limit. */
export function fakeResendConfig(db: Db, fake: FakeResend, opts: { siteId: number; secret: string; fromEmail: string; fromName?: string }) {
  return createSendingConfig(db, createSecretBox(opts.secret), opts.siteId, {
    name: 'Fake Resend',
    provider: 'resend',
    fromEmail: opts.fromEmail,
    ...(opts.fromName ? { fromName: opts.fromName } : {}),
    credentials: { apiKey: fake.apiKey },
  });
}

/**
 * The environment of every Tidings process a bench starts: the bench's PostgreSQL and Temporal, its
 * secret and API key, Resend pointed at the fake, and no per-key API limit (a bench's clients would
 * otherwise meet 429s).
 */
export function benchTidingsEnv(o: { databaseUrl: string; temporalAddress: string; fake: FakeResend; secret: string; apiKey: string }): Record<string, string> {
  return {
    DATABASE_URL: o.databaseUrl,
    TEMPORAL_ADDRESS: o.temporalAddress,
    TIDINGS_SECRET: o.secret,
    TIDINGS_API_KEY: o.apiKey,
    RESEND_BASE_URL: o.fake.url,
    RATE_LIMIT_PER_MINUTE: '100000000',
  };
}

/**
 * A list of `count` new subscribed contacts `<prefix><n>@example.com` (first name `<firstName> <n>`),
 * optionally in one timezone, written set-based in three statements so seeding 100,000 takes seconds. Answers the list's id.
 */
export async function seedBenchList(
  db: Db,
  siteId: number,
  o: { name: string; count: number; prefix: string; firstName: string; timezone?: string },
): Promise<number> {
  const [row] = (await db.execute<{ id: number }>(sql`insert into lists (site_id, name) values (${siteId}, ${o.name}) returning id`)).rows;
  await db.execute(sql`
    insert into contacts (site_id, email, first_name, status, timezone)
    select ${siteId}, ${o.prefix} || g || '@example.com', ${`${o.firstName} `} || g, 'subscribed', ${o.timezone ?? null}::text
    from generate_series(1, ${o.count}) g`);
  await db.execute(sql`
    insert into list_members (list_id, contact_id)
    select ${row!.id}, id from contacts where site_id = ${siteId} and email like ${`${o.prefix}%`}`);
  return row!.id;
}
