import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { configKeys } from '../../src/config.js';
import { findFreePort } from '../../src/embedded/ports.js';
import type { RuntimeInfo } from '../../src/embedded/runtime.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { commandLine, descendants, isAlive, signal, sleep, waitForExit } from './proc.js';
import { benchAborted, onCleanup, since, tempDir } from './run.js';

export type Role = 'all' | 'api' | 'worker';

export interface StartOptions {
  /** Names the log file and the messages, e.g. `cold`, `api`, `worker`. */
  label: string;
  role?: Role;
  /** Reuse a data dir (a warm start); default: `data` in a fresh temp dir. */
  dataDir?: string;
  /** Directory for the log file; default: the data dir's parent. */
  logDir?: string;
  /** Extra environment (DATABASE_URL, TEMPORAL_ADDRESS, TIDINGS_SECRET…). */
  env?: Record<string, string>;
  /** Give up if not started within this time. */
  timeoutMs?: number;
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  ms: number;
}

export interface TidingsProcess {
  label: string;
  role: Role;
  dataDir: string;
  logFile: string;
  /** `http://127.0.0.1:<port>`, or null for a worker. */
  url: string | null;
  apiKey: string;
  /** The `npm start` process. */
  npmPid: number;
  /** The Node process running src/main.ts (below npm, sh and the tsx launcher): the one to measure. */
  mainPid: number;
  /** Milliseconds from spawn until /readyz answered 200 (null for a worker). */
  readyMs: number | null;
  /** Milliseconds from spawn until the "Tidings is running" banner: every role up, workers polling. */
  runningMs: number;
  runtime(): Promise<RuntimeInfo>;
  /** Sends the API a request with the bearer key; `body` is JSON unless it is FormData. */
  request<T = unknown>(method: string, urlPath: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Ctrl-C to main.ts, as a terminal would; resolves with the milliseconds until npm exited. */
  stop(): Promise<number>;
}

const BANNER = 'Tidings is running';
/** Variables of the tools cache, which say where binaries are, not how Tidings runs: kept from the caller. */
const KEPT_CONFIG = new Set(['TEMPORAL_CLI_PATH', 'TEMPORAL_TEST_SERVER_PATH']);

/** A free port whose +1000 neighbour is free too (the Temporal dev server's HTTP port). */
async function freeTemporalPort(): Promise<number> {
  for (;;) {
    const port = await findFreePort();
    if (port + 1000 <= 65535 && (await portFree(port + 1000))) return port;
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The caller's environment minus every Tidings setting, so a developer's own .env never leaks into a bench. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of configKeys) if (!KEPT_CONFIG.has(key)) delete env[key];
  return env;
}

export const newApiKey = () => `tk_live_${randomBytes(24).toString('base64url')}`;

async function tail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Starts Tidings the way a user does (`npm start`, i.e. npm → tsx → src/main.ts) on loopback-only,
 * OS-chosen free ports, and waits until it is up. Its output goes to a log file, shown on failure.
 * The process (and the embedded PostgreSQL and Temporal it starts) is stopped when the bench ends.
 */
export async function startTidings(opts: StartOptions): Promise<TidingsProcess> {
  const role = opts.role ?? 'all';
  const dataDir = opts.dataDir ?? path.join(await tempDir(opts.label), 'data');
  const logFile = path.join(opts.logDir ?? path.dirname(dataDir), `${opts.label}.log`);
  const apiKey = opts.env?.TIDINGS_API_KEY ?? newApiKey();
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    TIDINGS_DATA_DIR: dataDir,
    TIDINGS_ROLE: role,
    HOST: '127.0.0.1',
    PORT: String(port),
    TIDINGS_PG_PORT: String(await findFreePort()),
    TEMPORAL_PORT: String(await freeTemporalPort()),
    TEMPORAL_UI_PORT: String(await findFreePort()),
    TIDINGS_API_KEY: apiKey,
    ...opts.env,
  };
  const url = role === 'worker' ? null : `http://127.0.0.1:${port}`;

  const logFd = openSync(logFile, 'a');
  const started = performance.now();
  const child = await spawnNpmStart(env, logFd).finally(() => closeSync(logFd));
  const npmPid = child.pid!;
  let exited: string | null = null;
  child.once('exit', (code, sig) => (exited = sig ? `signal ${sig}` : `code ${code}`));

  // Every process the instance started (npm, tsx, main.ts, postgres, temporal), for a last-resort kill.
  const tree = new Map<number, string>([[npmPid, await commandLine(npmPid)]]);
  const remember = async () => {
    for (const pid of await descendants(npmPid)) if (!tree.has(pid)) tree.set(pid, await commandLine(pid));
  };
  let stopped = false;
  const forceKill = async () => {
    await remember().catch(() => {});
    signal(-npmPid, 'SIGKILL');
    for (const [pid, cmd] of tree) if (isAlive(pid) && (await commandLine(pid)) === cmd) signal(pid, 'SIGKILL');
  };
  let mainPid = 0;
  const stop = async (): Promise<number> => {
    if (stopped) return 0;
    stopped = true;
    unregister();
    const t = performance.now();
    await remember().catch(() => {});
    // Ctrl-C goes to main.ts itself: npm ignores a SIGINT sent to it alone, and outside a terminal a
    // SIGINT to the whole group reaches main.ts twice under npm, which it takes as "force stop".
    const main = mainPid || (await mainBelow(npmPid));
    if (!main) {
      // Interrupted before main.ts even ran: nothing to stop gracefully.
      await forceKill();
      return since(t);
    }
    signal(main, 'SIGINT');
    const clean = await waitForExit(npmPid, 60_000);
    const ms = since(t);
    if (!clean) console.error(`${opts.label}: still running 60 s after Ctrl-C; killing it (log: ${logFile})`);
    await forceKill();
    return ms;
  };
  const unregister = onCleanup(`stop ${opts.label}`, async () => {
    await stop();
  });

  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  let readyMs: number | null = null;
  let runningMs: number | null = null;
  while (runningMs === null || (url && readyMs === null)) {
    benchAborted.throwIfAborted();
    if (exited) throw new Error(`${opts.label}: npm start exited (${exited}) before it was up. Log ${logFile}:\n${await tail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`${opts.label}: not up after ${(opts.timeoutMs ?? 180_000) / 1000} s. Log ${logFile}:\n${await tail(logFile)}`);
    if (url && readyMs === null) {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.any([AbortSignal.timeout(2000), benchAborted]) }).catch(() => null);
      await res?.arrayBuffer().catch(() => {});
      if (res?.status === 200) readyMs = since(started);
    }
    if (runningMs === null && (await readFile(logFile, 'utf8')).includes(BANNER)) runningMs = since(started);
    if (runningMs === null || (url && readyMs === null)) await sleep(100);
  }
  await remember();
  mainPid = await findMain(npmPid);

  return {
    label: opts.label,
    role,
    dataDir,
    logFile,
    url,
    apiKey,
    npmPid,
    mainPid,
    readyMs,
    runningMs,
    async runtime() {
      return JSON.parse(await readFile(path.join(dataDir, 'runtime.json'), 'utf8')) as RuntimeInfo;
    },
    async request<T>(method: string, urlPath: string, body?: unknown): Promise<ApiResponse<T>> {
      if (!url) throw new Error(`${opts.label} runs no API`);
      const isForm = body instanceof FormData;
      // Serialised before the clock starts: the figure is the server's time plus the wire, not ours.
      const init: RequestInit = {
        method,
        signal: benchAborted,
        headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined && !isForm ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
      };
      const t = performance.now();
      const res = await fetch(`${url}${urlPath}`, init);
      const text = await res.text();
      const ms = since(t);
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed as T, ms };
    },
    stop,
  };
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * `npm start` in the repository, in its own process group (the bench's Ctrl-C is handled by the
 * bench, which then stops the instance in order) and, where setpriv exists, signalled by the kernel if
 * the bench itself is killed.
 */
async function spawnNpmStart(env: NodeJS.ProcessEnv, logFd: number): Promise<ChildProcess> {
  const [cmd, args] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'TERM', '--', 'npm', 'start']] : ['npm', ['start']];
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', logFd, logFd] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child;
}

/** The deepest descendant running src/main.ts (npm → sh → tsx launcher → the Node process that is Tidings), or 0. */
async function mainBelow(npmPid: number): Promise<number> {
  let found = 0;
  for (const pid of await descendants(npmPid)) if ((await commandLine(pid)).includes('src/main.ts')) found = pid;
  return found;
}

async function findMain(npmPid: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = await mainBelow(npmPid);
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`no process running src/main.ts below npm (pid ${npmPid})`);
}
