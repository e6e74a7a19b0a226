import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  memoryGb: number;
  os: string;
  kernel: string;
  node: string;
  /** 1/5/15-minute load averages when the bench started: other work on the machine skews figures. */
  loadAverage: number[];
  /** The same when the figures were written (set by writeResult). */
  loadAverageAtEnd?: number[];
  /** The code measured: commit, with `-dirty` when the working tree has uncommitted changes. */
  commit: string | null;
}

function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(release)?.[1];
    if (pretty) return pretty;
  } catch {
    // not Linux, or no os-release: fall through
  }
  return `${os.type()} ${os.release()}`;
}

function gitCommit(): string | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain').length > 0 ? `${commit}-dirty` : commit;
  } catch {
    return null;
  }
}

export const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

/** What a reader needs to compare figures across machines: CPU, memory, OS, Node, load, commit. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: osName(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: loadAverage(),
    commit: gitCommit(),
  };
}
