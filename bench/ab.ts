/**
 * Summarises an A/B of one bench run back to back on two commits:
 *
 *   tsx bench/ab.ts bench/results/ab/<name>
 *
 * The folder holds the result files the bench wrote, renamed `old-<n>.json` and `new-<n>.json` (runs
 * alternated old, new, old, new, …). Prints, for every figure both sides have, each run's value, the
 * median of each side and the ratio old/new, with each run's load average, and writes the same to
 * `summary.json` in the folder. The medians, not a best run, are what a report may quote.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchResult } from './lib/results.js';
import { median } from './lib/stats.js';

async function main(dir: string): Promise<void> {
  const files = (await readdir(dir)).filter((f) => /^(old|new)-\d+\.json$/.test(f)).sort();
  const runs = await Promise.all(
    files.map(async (f) => ({ side: f.startsWith('old') ? 'old' : 'new', file: f, result: JSON.parse(await readFile(path.join(dir, f), 'utf8')) as BenchResult })),
  );
  const sides = { old: runs.filter((r) => r.side === 'old'), new: runs.filter((r) => r.side === 'new') };
  if (!sides.old.length || !sides.new.length) throw new Error(`${dir} needs old-<n>.json and new-<n>.json result files`);
  const valueOf = (r: (typeof runs)[number], key: string) => r.result.figures.find((f) => f.key === key)?.value;
  const keys = sides.old[0]!.result.figures.map((f) => f.key).filter((k) => runs.every((r) => valueOf(r, k) !== undefined));
  const rows = keys.map((key) => {
    const old = sides.old.map((r) => valueOf(r, key)!);
    const now = sides.new.map((r) => valueOf(r, key)!);
    const medianOld = median(old);
    const medianNew = median(now);
    const figure = sides.new[0]!.result.figures.find((f) => f.key === key)!;
    return { key, label: figure.label, unit: figure.unit, old, new: now, medianOld, medianNew, ratioOldToNew: medianNew === 0 ? null : medianOld / medianNew };
  });
  const loads = runs.map((r) => ({ file: r.file, date: r.result.date, loadAverageAtEnd: r.result.machine.loadAverageAtEnd ?? null }));
  for (const row of rows) {
    const ratio = row.ratioOldToNew === null ? '—' : `${row.ratioOldToNew.toFixed(2)}×`;
    console.log(`${row.label.padEnd(66)} old ${String(row.medianOld).padStart(9)}  new ${String(row.medianNew).padStart(9)} ${row.unit.padEnd(11)} old/new ${ratio}`);
  }
  console.log(`runs: ${loads.map((l) => `${l.file} (load ${l.loadAverageAtEnd?.[0] ?? '?'})`).join(', ')}`);
  await writeFile(path.join(dir, 'summary.json'), `${JSON.stringify({ bench: sides.new[0]!.result.bench, runs: loads, rows }, null, 2)}\n`);
}

await main(process.argv[2] ?? '');
