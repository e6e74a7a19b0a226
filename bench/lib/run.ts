import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

type Cleanup = { name: string; fn: () => Promise<void> };
const cleanups: Cleanup[] = [];

/** Registers work to undo when the bench ends, however it ends; returns a function that unregisters it. */
export function onCleanup(name: string, fn: () => Promise<void>): () => void {
  const entry = { name, fn };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

async function runCleanups(downTo = 0): Promise<void> {
  while (cleanups.length > downTo) {
    const { name, fn } = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup "${name}" failed: ${(err as Error).message}`);
    }
  }
}

/**
 * Runs `fn`, then undoes what was registered with onCleanup meanwhile (in reverse order), however it
 * ends: for a phase whose processes must be gone before the next phase starts.
 */
export async function withCleanupScope<T>(fn: () => Promise<T>): Promise<T> {
  const depth = cleanups.length;
  try {
    return await fn();
  } finally {
    await runCleanups(depth);
  }
}

/** A fresh directory under the OS temp dir, removed when the bench ends. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `tidings-bench-${prefix}-`));
  onCleanup(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

const abortController = new AbortController();

/** Why a bench stopped early (signal, time limit): its message says all, no stack needed. */
class BenchStopped extends Error {}

/**
 * Aborted when the bench fails, times out or is interrupted: pass it to long waits and requests so
 * the bench's own work stops while its processes are being cleaned up.
 */
export const benchAborted: AbortSignal = abortController.signal;

/** Elapsed milliseconds since `start` (a performance.now() value). */
export const since = (start: number) => performance.now() - start;

/**
 * Runs a bench to completion or failure within `timeoutMs`, then undoes everything it started (child
 * processes, temp dirs) in reverse order, also on Ctrl-C or SIGTERM, and exits with 0 only on success.
 */
export async function runBench(name: string, main: () => Promise<void>, opts: { timeoutMs: number }): Promise<never> {
  let reject!: (err: Error) => void;
  const aborted = new Promise<never>((_, r) => (reject = r));
  const fail = (err: Error) => {
    if (!abortController.signal.aborted) abortController.abort(err);
    reject(err);
  };
  const onSignal = (sig: NodeJS.Signals) => fail(new BenchStopped(`${sig} received: stopping`));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('unhandledRejection', (err) => fail(err instanceof Error ? err : new Error(String(err))));
  const timer = setTimeout(() => fail(new BenchStopped(`${name} took longer than ${opts.timeoutMs / 1000} s: giving up`)), opts.timeoutMs);

  let code = 0;
  try {
    await Promise.race([main(), aborted]);
  } catch (err) {
    code = 1;
    if (!abortController.signal.aborted) abortController.abort(err);
    const text = err instanceof BenchStopped ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(`\n${name} failed: ${text}`);
  } finally {
    clearTimeout(timer);
    if (cleanups.length) console.log('cleaning up…');
    await runCleanups();
  }
  // Exit explicitly: keep-alive sockets and a main() abandoned by a timeout must not hold the process.
  process.exit(code);
}
