import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeCliArgs } from '../temporal/search-attributes.js';
import { StartupError } from './errors.js';
import { assertPortFree, canConnect } from './ports.js';
import { commandLineOf, sleep, spawnTied, terminate } from './processes.js';
import { findTemporalCli } from './tools.js';

export interface EmbeddedTemporalOptions {
  /** The Tidings data dir: holds temporal.sqlite, temporal.log and temporal.pid. */
  dataDir: string;
  port?: number;
  /** Web UI port, or false for none. */
  uiPort?: number | false;
  namespace?: string;
  /** The `temporal` executable; found (or provisioned) through tools.ts when absent. */
  cliPath?: string;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface EmbeddedTemporal {
  address: string;
  namespace: string;
  uiUrl: string | null;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with its state in `<dataDir>/temporal.sqlite`.
 *
 * We spawn the CLI ourselves instead of using the SDK's `TestWorkflowEnvironment.createLocal`: that
 * helper gives the server a hard-coded 5 s to answer (a cold start with SQLite migrations and the Web
 * UI on 2 cores can take longer), inherits our stdout (we want the server's logs in a file), lives in
 * a testing package, and manages the child from native code where we cannot tie its life to ours.
 */
export async function startEmbeddedTemporal(opts: EmbeddedTemporalOptions): Promise<EmbeddedTemporal> {
  const log = opts.log ?? (() => {});
  const port = opts.port ?? 7233;
  const uiPort = opts.uiPort === undefined ? 8233 : opts.uiPort;
  const namespace = opts.namespace ?? 'default';
  const dataDir = path.resolve(opts.dataDir);
  const dbFile = path.join(dataDir, 'temporal.sqlite');
  const logFile = path.join(dataDir, 'temporal.log');
  const pidFile = path.join(dataDir, 'temporal.pid');
  await mkdir(dataDir, { recursive: true });

  const cli = opts.cliPath ?? (await findTemporalCli({ log })).path;
  await stopLeftover(pidFile, dbFile, log);
  await assertPortFree(
    port,
    'Temporal dev server',
    'stop the other Temporal server, set TEMPORAL_PORT to a free port, or set TEMPORAL_ADDRESS to use a running server',
  );
  if (uiPort !== false) {
    await assertPortFree(uiPort, 'Temporal Web UI', 'stop whatever listens there or set TEMPORAL_UI_PORT to a free port');
  }

  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--namespace', namespace,
    '--db-filename', dbFile,
    // One SQLite connection serves everything; WAL and no fsync per commit make it several times faster.
    '--sqlite-pragma', 'journal_mode=WAL',
    '--sqlite-pragma', 'synchronous=OFF',
    // A workflow task that schedules an activity gets the activity task back in its answer (the
    // worker polls the same queue), saving a matching round trip per sequence step or batch.
    '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
    // One worker process per queue on one box: a single partition per task queue, so a poll never
    // waits on an empty partition while tasks sit in another until forwarded.
    '--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
    '--log-format', 'json',
    '--log-level', 'warn',
    ...(uiPort === false ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...searchAttributeCliArgs.flatMap((arg) => ['--search-attribute', arg]),
  ];
  const logFd = openSync(logFile, 'a');
  const child = await spawnTied(cli, args, { logFd, deathSignal: 'TERM' }).catch((err: Error) => {
    throw new StartupError(`could not run the Temporal CLI at ${cli}: ${err.message}`);
  }).finally(() => closeSync(logFd));
  await writeFile(pidFile, String(child.pid));

  // If this process dies without calling stop(), the server must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );

  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilReady({
      address,
      namespace,
      uiPort,
      timeoutMs: opts.startTimeoutMs ?? 90_000,
      exited: () => exited,
      logFile,
    });
  } catch (err) {
    process.removeListener('exit', killOnExit);
    if (!exited) {
      child.kill('SIGKILL');
      await exitPromise;
    }
    await rm(pidFile, { force: true });
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    address,
    namespace,
    uiUrl: uiPort === false ? null : `http://localhost:${uiPort}`,
    pid: child.pid!,
    stop: () =>
      (stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        if (!exited) await terminate(child.pid!, 'SIGTERM', 10_000);
        await exitPromise;
        await rm(pidFile, { force: true });
      })()),
  };
}

/** A dev server left running by a crashed run on this data dir is stopped before we start ours. */
async function stopLeftover(pidFile: string, dbFile: string, log: (line: string) => void): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!pid) return;
  const cmd = await commandLineOf(pid);
  if (cmd && cmd.includes('start-dev') && cmd.includes(dbFile)) {
    log(`stopping a Temporal dev server (pid ${pid}) left running by a previous run`);
    await terminate(pid, 'SIGTERM', 10_000);
  }
  await rm(pidFile, { force: true });
}

async function waitUntilReady(o: {
  address: string;
  namespace: string;
  uiPort: number | false;
  timeoutMs: number;
  exited: () => { code: number | null; signal: NodeJS.Signals | null } | null;
  logFile: string;
}): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  const [host, port] = [o.address.split(':')[0]!, Number(o.address.split(':')[1])];
  for (;;) {
    const exit = o.exited();
    if (exit) {
      const reason = await lastLogError(o.logFile);
      throw new StartupError(
        `Temporal dev server exited during start-up (${exit.signal ?? `code ${exit.code}`})${reason ? `: ${reason}` : ''} (log: ${o.logFile})`,
      );
    }
    if (Date.now() > deadline) {
      throw new StartupError(`Temporal dev server did not become ready within ${o.timeoutMs / 1000} s (log: ${o.logFile})`);
    }
    if (await canConnect(port, host)) {
      // The port opens before the namespace exists; describing it proves the server can serve us.
      const connection = await Connection.connect({ address: o.address, connectTimeout: 2000 }).catch(() => null);
      const ready = connection
        ? await connection.workflowService
            .describeNamespace({ namespace: o.namespace })
            .then(() => true, () => false)
            .finally(() => connection.close())
        : false;
      if (ready && (o.uiPort === false || (await canConnect(o.uiPort)))) return;
    }
    await sleep(200);
  }
}

/**
 * The line of the dev server's log that says why it stopped: an error entry (its JSON levels are
 * upper case), a Go panic, or the CLI's own "Error: ..." line; null when none is there.
 */
export async function lastLogError(logFile: string): Promise<string | null> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const lines = text.trim().split('\n');
  // A panic prints its message first and then every goroutine's stack, so look for it anywhere.
  const panic = lines.find((line) => /^(panic|fatal error): /.test(line));
  if (panic) return panic.trim().slice(0, 300);
  for (const line of lines.slice(-30).reverse()) {
    try {
      // The server logs `msg`; the Web UI's web framework logs `message`.
      const entry = JSON.parse(line) as { level?: string; msg?: string; message?: string; error?: string };
      if (/^(error|fatal|dpanic|panic)$/i.test(entry.level ?? '')) {
        return [entry.msg ?? entry.message, entry.error].filter(Boolean).join(': ').slice(0, 300);
      }
    } catch {
      if (/error|failed|panic/i.test(line)) return line.trim().slice(0, 300);
    }
  }
  return null;
}
