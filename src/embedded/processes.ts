import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether a process with this pid exists (EPERM means it exists but belongs to another user). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The command line of a live process, or null. Used to tell our own leftover server (after a crash)
 * from an unrelated process that happens to have reused its pid.
 */
export async function commandLineOf(pid: number): Promise<string | null> {
  if (!isAlive(pid)) return null;
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
  } catch {
    try {
      const { stdout } = await execFileAsync('ps', ['-p', String(pid), '-o', 'args=']);
      return stdout.trim() || null;
    } catch {
      return null;
    }
  }
}

/** Waits until the pid is gone; false on timeout. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** Sends `signal`, then SIGKILL if the process outlives `graceMs`. */
export async function terminate(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  if (await waitForExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitForExit(pid, 5000);
}

export interface SpawnTiedOptions {
  /** File descriptor receiving the child's stdout and stderr. */
  logFd: number;
  /** Signal the kernel sends the child when we die (Linux `setpriv --pdeathsig`). */
  deathSignal: 'TERM' | 'INT';
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Spawns a server that stops in our order and dies with us:
 * - in its own process group (`detached`), so a terminal's Ctrl-C reaches only us and we stop the
 *   API and workers before the servers they use;
 * - through `setpriv --pdeathsig` on Linux, so the kernel signals it even when we are SIGKILLed
 *   (elsewhere, leftovers are cleared by pid file on the next start).
 */
export async function spawnTied(cmd: string, args: string[], opts: SpawnTiedOptions): Promise<ChildProcess> {
  const setpriv = process.platform === 'linux' ? await findSetpriv() : null;
  const [file, fileArgs] = setpriv ? [setpriv, [`--pdeathsig`, opts.deathSignal, '--', cmd, ...args]] : [cmd, args];
  const child = spawn(file, fileArgs, {
    stdio: ['ignore', opts.logFd, opts.logFd],
    detached: true,
    env: opts.env ?? process.env,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child;
}

async function findSetpriv(): Promise<string | null> {
  for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv']) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return null;
}
