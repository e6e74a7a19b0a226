import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAverage, machineInfo, type MachineInfo } from './machine.js';
import { benchAborted } from './run.js';

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../results');

/** One reported number. `key` is stable (for bench/README.md and comparisons); `label` is for people. */
export interface Figure {
  key: string;
  label: string;
  value: number;
  unit: string;
  /** Load average when this figure's own measurement started, for benches with several phases. */
  loadAverage?: number[];
}

export interface BenchResult {
  bench: string;
  /** ISO time the run finished. */
  date: string;
  /** How to reproduce it. */
  command: string;
  machine: MachineInfo;
  /** What was measured (counts, sizes, ports policy): enough to tell two runs apart. */
  parameters: Record<string, unknown>;
  figures: Figure[];
  /** Raw material behind the figures (per-request timings, samples) for whoever wants to dig. */
  details?: Record<string, unknown>;
}

/** Prints the figures as an aligned table. */
export function printFigures(title: string, figures: readonly Figure[]): void {
  const rows = figures.map((f) => [f.label, String(f.value), f.unit]);
  const width = (i: number) => Math.max(...rows.map((r) => r[i]!.length), ['figure', 'value', 'unit'][i]!.length);
  const line = (r: string[]) => `  ${r[0]!.padEnd(width(0))}  ${r[1]!.padStart(width(1))}  ${r[2]!.padEnd(width(2))}`.trimEnd();
  console.log(`\n${title}`);
  console.log(line(['figure', 'value', 'unit']));
  console.log(line(['-'.repeat(width(0)), '-'.repeat(width(1)), '-'.repeat(width(2))]));
  for (const r of rows) console.log(line(r));
}

/**
 * Prints the figures and writes them, with the machine and the date, to bench/results/<bench>.json
 * (atomically: a crashed run never leaves half a file where the last good one was).
 */
export async function writeResult(result: Omit<BenchResult, 'date' | 'machine'> & { machine?: MachineInfo }): Promise<string> {
  // A bench interrupted while it measured must not replace the last good figures.
  benchAborted.throwIfAborted();
  const full: BenchResult = {
    bench: result.bench,
    date: new Date().toISOString(),
    command: result.command,
    machine: { ...(result.machine ?? machineInfo()), loadAverageAtEnd: loadAverage() },
    parameters: result.parameters,
    figures: result.figures,
    ...(result.details ? { details: result.details } : {}),
  };
  printFigures(`${full.bench} (${full.machine.cpuCount} × ${full.machine.cpuModel}, ${full.machine.memoryGb} GB, ${full.machine.os}, Node ${full.machine.node})`, full.figures);
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${full.bench}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(full, null, 2)}\n`);
  await rename(tmp, file);
  console.log(`\nwritten to ${path.relative(process.cwd(), file) || file}`);
  return file;
}
