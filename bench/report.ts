/**
 * Writes bench/README.md from the JSON every bench script leaves in bench/results/, so the table of
 * figures is always what the scripts printed, never typed by hand. `npm run bench:report`.
 *
 * One table: for each issue, each figure it asked for (a group row quoting the ask) followed by the
 * measured figures that answer it, then the other figures the same runs printed. An ask with no
 * results file (or a results file without the figure) gets a row saying so, with the command to run.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RESULTS_DIR, type BenchResult, type Figure } from './lib/results.js';

const README = path.resolve(RESULTS_DIR, '..', 'README.md');
const PACKAGE_JSON = path.resolve(RESULTS_DIR, '..', '..', 'package.json');

/** What an issue asked for, and which figures of which bench answer it (`prefix*` matches by prefix; none = all). */
interface Ask {
  issue: number;
  ask: string;
  bench: string;
  keys?: string[];
}

const ASKS: Ask[] = [
  { issue: 2, ask: 'Bulk upsert of 1,000 contacts per request (p50/p99 ms)', bench: 'bulk-upsert', keys: ['bulk_p50_ms', 'bulk_p99_ms'] },
  { issue: 2, ask: 'CSV import of 100,000 rows (rows/s, peak RSS of the worker)', bench: 'import', keys: ['import_rows_per_s', 'import_worker_peak_rss_mb'] },
  { issue: 2, ask: 'Cold `npm start` to ready (s)', bench: 'cold-start', keys: ['cold_ready_s', 'cold_up_s'] },
  {
    issue: 3,
    ask: 'Transactional: requests/s the API accepts and p50/p99 from POST to the fake provider receiving it, 1 and 50 concurrent clients',
    bench: 'transactional',
    keys: ['c1.accepted_per_second', 'c1.provider_p50_ms', 'c1.provider_p99_ms', 'c50.accepted_per_second', 'c50.provider_p50_ms', 'c50.provider_p99_ms'],
  },
  { issue: 3, ask: 'Emails/s through the Resend batch path', bench: 'transactional', keys: ['batch.*'] },
  { issue: 4, ask: 'Enrolling 10,000 contacts from a list: enrollments/s and the time until all first emails are sent', bench: 'sequences', keys: ['enroll_per_s', 'all_first_emails_s'] },
  { issue: 4, ask: 'Worker RSS with 10,000 sleeping enrollments', bench: 'sequences', keys: ['worker_rss_sleeping_mb'] },
  { issue: 4, ask: 'Timer lag (scheduled vs actual send time, p50/p99) when 1,000 enrollments wake in the same minute', bench: 'sequences', keys: ['timer_lag_*'] },
  {
    issue: 5,
    ask: 'Campaign to 100,000 recipients, no throttle: emails/s end to end (audience freeze included) and time to first email',
    bench: 'campaign',
    keys: ['campaign_emails_per_s', 'campaign_first_email_ms'],
  },
  { issue: 5, ask: 'The same with `maxPerSecond: 500` (measured rate vs limit)', bench: 'campaign', keys: ['campaign_throttled_rate', 'campaign_throttled_vs_limit'] },
  { issue: 5, ask: 'Peak RSS of worker and API', bench: 'campaign', keys: ['campaign_worker_peak_rss_mb', 'campaign_api_peak_rss_mb'] },
  { issue: 5, ask: 'Segment count query on 100,000 contacts (ms)', bench: 'segments', keys: ['segment_count_*'] },
  { issue: 6, ask: 'Webhook ingestion: events/s accepted and p99 latency', bench: 'webhooks' },
  { issue: 6, ask: 'Tracking redirect p99 under 200 concurrent clients', bench: 'load', keys: ['click.*'] },
  { issue: 7, ask: 'Load at fixed concurrency on `POST /send`, contact upserts and the tracking redirect (its rows are under #6): throughput and p50/p99/p99.9', bench: 'load' },
];

/** Which issue a bench's other figures (those no ask names) belong to. */
const BENCH_ISSUE: Record<string, number> = {
  'bulk-upsert': 2,
  import: 2,
  'cold-start': 2,
  transactional: 3,
  sequences: 4,
  campaign: 5,
  segments: 5,
  webhooks: 6,
  load: 7,
};

function formatValue(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** `Intel(R) Xeon(R) Processor` → `Intel Xeon`: the marks and filler words only widen the table. */
const shortCpu = (model: string) =>
  model
    .replace(/\((R|TM)\)/gi, '')
    .replace(/\b(Processor|CPU)\b/g, '')
    .replace(/\s+/g, ' ')
    .trim();

const cell = (text: string) => text.replace(/\|/g, '\\|');

async function loadResults(): Promise<Map<string, BenchResult>> {
  const files = (await readdir(RESULTS_DIR)).filter((f) => f.endsWith('.json')).sort();
  const results = new Map<string, BenchResult>();
  for (const file of files) {
    const parsed = JSON.parse(await readFile(path.join(RESULTS_DIR, file), 'utf8')) as Partial<BenchResult>;
    if (!Array.isArray(parsed.figures) || !parsed.bench || !parsed.machine || !parsed.date) {
      console.warn(`skipping ${file}: not in the bench/lib/results.ts format`);
      continue;
    }
    results.set(parsed.bench, parsed as BenchResult);
  }
  return results;
}

/** `npm run <script>` for each bench file that has one, by bench name (`bench/<name>.ts`). */
async function npmCommands(): Promise<Map<string, string>> {
  const { scripts = {} } = JSON.parse(await readFile(PACKAGE_JSON, 'utf8')) as { scripts?: Record<string, string> };
  const commands = new Map<string, string>();
  for (const [name, script] of Object.entries(scripts)) {
    const file = /^tsx bench\/([\w-]+)\.ts$/.exec(script)?.[1];
    if (file && name.startsWith('bench:')) commands.set(file, `npm run ${name}`);
  }
  return commands;
}

const matches = (keys: string[] | undefined, key: string) =>
  keys === undefined || keys.some((k) => (k.endsWith('*') ? key.startsWith(k.slice(0, -1)) : key === k));

function render(results: Map<string, BenchResult>, commands: Map<string, string>): { text: string; missing: string[] } {
  const commandOf = (bench: string) => commands.get(bench) ?? results.get(bench)?.command ?? `(no npm script for bench/${bench}.ts)`;
  const shown = new Set<string>();
  const missing: string[] = [];
  const rows: string[] = [];

  const figureRow = (issue: number, r: BenchResult, f: Figure) => {
    shown.add(`${r.bench}\0${f.key}`);
    const m = r.machine;
    const load = f.loadAverage ?? m.loadAverage;
    const machine = `${m.cpuCount} × ${shortCpu(m.cpuModel)}, ${m.memoryGb} GB, Node ${m.node}; load ${load?.[0] ?? '?'}`;
    const date = `${r.date.slice(0, 10)} ${r.date.slice(11, 16)}`;
    rows.push(`| #${issue} | ${cell(f.label)} | ${formatValue(f.value)} | ${cell(f.unit)} | \`${commandOf(r.bench)}\` | ${date} | ${cell(machine)} |`);
  };

  const issues = [...new Set(ASKS.map((a) => a.issue))];
  for (const issue of issues) {
    for (const ask of ASKS.filter((a) => a.issue === issue)) {
      rows.push(`| **#${issue}** | **${cell(ask.ask)}** | | | | | |`);
      const r = results.get(ask.bench);
      const figures = r?.figures.filter((f) => matches(ask.keys, f.key) && !shown.has(`${r.bench}\0${f.key}`)) ?? [];
      if (!r || figures.length === 0) {
        const why = r ? `bench/results/${ask.bench}.json holds no such figure` : `no bench/results/${ask.bench}.json yet`;
        missing.push(`#${issue} ${ask.ask}: ${why}`);
        rows.push(`| #${issue} | not measured: ${why} | — | | \`${commandOf(ask.bench)}\` | | |`);
        continue;
      }
      for (const f of figures) figureRow(issue, r, f);
    }
    // Everything else the same runs printed (supporting figures), so no measured figure is left out.
    const others = [...results.values()]
      .filter((r) => BENCH_ISSUE[r.bench] === issue)
      .flatMap((r) => r.figures.filter((f) => !shown.has(`${r.bench}\0${f.key}`)).map((f) => [r, f] as const));
    if (others.length) {
      rows.push(`| **#${issue}** | **Other figures from the same runs** | | | | | |`);
      for (const [r, f] of others) figureRow(issue, r, f);
    }
  }
  // A results file of a bench no issue maps (a new script): still shown, never dropped.
  for (const r of results.values()) {
    if (BENCH_ISSUE[r.bench] !== undefined) continue;
    rows.push(`| | **${cell(r.bench)}** | | | | | |`);
    for (const f of r.figures) figureRow(0, r, f);
  }

  const lines = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench:report` from `bench/results/*.json`: every value below was printed by a',
    'script in this folder and written, with the machine, the date, the load average, the parameters and',
    'the raw details, to `bench/results/<name>.json`. Do not edit this file by hand; run the command of a',
    'row to measure it again, then `npm run bench:report`.',
    '',
    'Benchmarks run real parts on loopback only: embedded PostgreSQL (fsync off), the Temporal dev server',
    '(SQLite), the API and worker as separate processes, and a local fake Resend server (or the `log`',
    'provider) in place of the email provider. Bold rows quote what each issue asked for; the rows under',
    'one answer it.',
    '',
    '| issue | figure | value | unit | command | date (UTC) | machine; load average (1 min) at the start |',
    '| --- | --- | ---: | --- | --- | --- | --- |',
    ...rows,
    '',
    '## Reading the figures',
    '',
    '- The load average is the machine’s 1-minute load when the run (or, for `bench:load`, that endpoint’s',
    '  measurement) started. On a 2-core machine anything above 2 means other work shared the cores:',
    '  such figures are pessimistic.',
    '- The Temporal dev server is a functional target (one SQLite connection); the docker-compose Temporal',
    '  on PostgreSQL is the scale target. Workflow-bound figures (transactional delivery, sequences) are',
    '  limited by it here.',
    '- `bench:load` runs autocannon in the bench process, on the same cores as the API, so its throughput',
    '  is a floor; latencies have autocannon’s 1 ms resolution.',
    '',
  ];
  if (missing.length) lines.push('## Not measured yet', '', ...missing.map((m) => `- ${m}`), '');
  return { text: lines.join('\n'), missing };
}

const results = await loadResults();
const { text, missing } = render(results, await npmCommands());
await writeFile(README, text);
console.log(`wrote ${path.relative(process.cwd(), README)} from ${results.size} result files`);
for (const m of missing) console.log(`  not measured: ${m}`);
