import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Milliseconds on the system's monotonic clock (CLOCK_MONOTONIC, as process.hrtime reads it): one
 * clock for every process on the machine, so times taken in a child (the SMTP sink) and in the bench
 * can be subtracted, which performance.now() (per-process origin) does not allow.
 */
export const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends a signal, ignoring a process that is already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Waits until the pid is gone; false on timeout. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

async function parentOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields after the last ')' are fixed.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

export async function commandLine(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
}

/** Every live descendant of `root` (Linux /proc), parents before children. */
export async function descendants(root: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const parent = await parentOf(pid);
    if (parent === null) continue;
    children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Resident memory of one process from /proc/<pid>/status, in MB: now (VmRSS) and peak (VmHWM). */
export async function memoryOf(pid: number): Promise<{ rssMb: number; peakRssMb: number } | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/**
 * Samples a process's resident memory every `everyMs` until stopped; returns the largest VmRSS seen
 * and the VmHWM (kernel-tracked peak since the process started) at the last sample.
 */
export function sampleMemory(pid: number, everyMs = 200) {
  let maxRssMb = 0;
  let peakRssMb = 0;
  let samples = 0;
  const take = async () => {
    const m = await memoryOf(pid);
    if (!m) return;
    samples += 1;
    maxRssMb = Math.max(maxRssMb, m.rssMb);
    peakRssMb = m.peakRssMb;
  };
  void take();
  const timer = setInterval(() => void take(), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await take();
      return { maxRssMb, peakRssMb, samples };
    },
  };
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on every Linux in use). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface StatFields {
  comm: string;
  /** utime + stime of the process (or thread), in ms. */
  ownMs: number;
  /** cutime + cstime: what its exited, reaped children used, in ms. */
  childrenMs: number;
}

async function readStat(file: string): Promise<StatFields | null> {
  try {
    const stat = await readFile(file, 'utf8');
    const close = stat.lastIndexOf(')');
    // Fields after the command name: state is field 3; utime, stime, cutime, cstime are fields 14-17.
    const f = stat.slice(close + 2).split(' ').map(Number);
    const ms = (ticks: number) => (ticks * 1000) / CLOCK_TICKS;
    return { comm: stat.slice(stat.indexOf('(') + 1, close), ownMs: ms(f[11]! + f[12]!), childrenMs: ms(f[13]! + f[14]!) };
  } catch {
    return null;
  }
}

/**
 * CPU milliseconds (user + system) used so far by a process tree: each live process's own time plus
 * what its exited children used, so a PostgreSQL backend that ends between two readings still counts.
 * Only differences between two readings mean anything.
 */
export async function treeCpuMs(root: number): Promise<number> {
  let total = 0;
  for (const pid of [root, ...(await descendants(root))]) {
    const stat = await readStat(`/proc/${pid}/stat`);
    if (stat) total += stat.ownMs + stat.childrenMs;
  }
  return total;
}

/** The name {@link threadCpuMs} gives a process's main thread (whose thread id is the pid). */
export const MAIN_THREAD = 'main thread';

/**
 * CPU milliseconds so far of each thread of a process, summed by thread name: {@link MAIN_THREAD},
 * then the kernel's names (Node calls its worker threads, V8 helpers and libuv pool all `node`; the
 * Temporal core's Rust runtime `tokio-runtime-w`; the --cpu-prof sampler `v8:ProfEvntProc`).
 */
export async function threadCpuMs(pid: number): Promise<Record<string, number>> {
  const byName: Record<string, number> = {};
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const stat = await readStat(`/proc/${pid}/task/${tid}/stat`);
    const name = Number(tid) === pid ? MAIN_THREAD : stat?.comm;
    if (stat && name) byName[name] = (byName[name] ?? 0) + stat.ownMs;
  }
  return byName;
}
