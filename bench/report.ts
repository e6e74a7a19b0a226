/**
 * Writes bench/README.md from the JSON every bench script leaves in bench/results/, so the table of
 * figures is always what the scripts printed, never typed by hand. `npm run bench:report`.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RESULTS_DIR, type BenchResult } from './lib/results.js';

const README = path.resolve(RESULTS_DIR, '..', 'README.md');

function formatValue(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

async function loadResults(): Promise<BenchResult[]> {
  const files = (await readdir(RESULTS_DIR)).filter((f) => f.endsWith('.json')).sort();
  const results: BenchResult[] = [];
  for (const file of files) {
    const parsed = JSON.parse(await readFile(path.join(RESULTS_DIR, file), 'utf8')) as Partial<BenchResult>;
    if (!Array.isArray(parsed.figures) || !parsed.bench || !parsed.machine) {
      console.warn(`skipping ${file}: not in the bench/lib/results.ts format`);
      continue;
    }
    results.push(parsed as BenchResult);
  }
  return results;
}

function render(results: BenchResult[]): string {
  const lines = [
    '# Benchmarks',
    '',
    'Every figure below was printed by a script in this folder and written to `bench/results/<name>.json`',
    '(with the machine, the load average at start and end, the parameters and raw details);',
    '`npm run bench:report` regenerates this file from those JSON files. Reproduce a row with its command.',
    'Benchmarks run real parts on loopback only: embedded PostgreSQL, the Temporal dev server (SQLite),',
    'the API and worker, and a local fake Resend server in place of the provider.',
    '',
    '| figure | value | unit | command | date | machine (load avg at start) |',
    '| --- | ---: | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const m = r.machine;
    const machine = `${m.cpuCount} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node} (${m.loadAverage?.[0] ?? '?'})`;
    for (const f of r.figures) {
      lines.push(`| ${f.label} | ${formatValue(f.value)} | ${f.unit} | \`${r.command}\` | ${r.date.slice(0, 10)} | ${machine} |`);
    }
  }
  lines.push(
    '',
    'Notes: the load average column shows how busy the machine was when the run started; figures taken',
    'on a busy machine are pessimistic. The dev server is a functional target (one SQLite connection);',
    'the docker-compose Temporal on PostgreSQL is the scale target.',
    '',
  );
  return lines.join('\n');
}

const results = await loadResults();
await writeFile(README, render(results));
console.log(`wrote ${path.relative(process.cwd(), README)} from ${results.length} result files`);
