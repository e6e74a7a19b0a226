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
import type { ListmonkRow } from './lib/listmonk-row.js';
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
  {
    issue: 12,
    ask: 'Measure first: history events, workflow tasks and activity tasks per email, and CPU per email, for each path, before the engine work (the full breakdown is in the #12 sections below)',
    bench: 'engine-cost-before',
    keys: ['*.events_per_email', '*.workflow_tasks_per_email', '*.activity_tasks_per_email', '*.cpu_ms_per_email.total'],
  },
  {
    issue: 12,
    ask: 'The same now',
    bench: 'engine-cost',
    keys: ['*.events_per_email', '*.workflow_tasks_per_email', '*.activity_tasks_per_email', '*.cpu_ms_per_email.total'],
  },
  {
    issue: 18,
    ask: 'listmonk (defaults and tuned) and Tidings on one local SMTP sink: emails/s, time to first email, CPU per 1,000 emails of every process (the full table is in the #18 section below)',
    bench: 'listmonk',
    keys: ['sink_ceiling_per_s', '*.emails_per_s', '*.first_email_ms', '*.cpu_ms_per_1000'],
  },
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
  'engine-cost': 12,
  'engine-cost-before': 12,
  listmonk: 18,
  'listmonk-profile': 18,
  'listmonk-before': 18,
};

/** Every result file, for a section that compares two of them. */
let loaded = new Map<string, BenchResult>();

/** Benches whose other figures are shown in a section of their own rather than in the main table. */
const SECTIONS: Record<string, (r: BenchResult) => string[]> = {
  'engine-cost': (r) => engineCostSection(r, 'now'),
  'engine-cost-before': (r) => engineCostSection(r, 'before the engine work'),
  listmonk: listmonkSection,
  'listmonk-profile': (r) => workerCpuSection(r, loaded.get('listmonk-before'), loaded.get('listmonk')),
  // Shown next to the profile of today's code, in its section.
  'listmonk-before': () => [],
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

/** `*` in a key pattern stands for any run of characters (`batch.*`, `*.events_per_email`). */
const matches = (keys: string[] | undefined, key: string) =>
  keys === undefined || keys.some((k) => new RegExp(`^${k.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(key));

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
      .filter((r) => BENCH_ISSUE[r.bench] === issue && !SECTIONS[r.bench])
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
    'Benchmarks run real parts on loopback only: embedded PostgreSQL, the Temporal dev server (SQLite), the',
    'API and worker, and a local fake Resend server (or the `log` provider) in place of the email provider.',
    'Since issue 12 the benches run PostgreSQL as the product does, fsync on (`BENCH_PG_FSYNC=off` for the',
    'old setting), and `bench:transactional` runs API and workers in one process as `npm start` does',
    '(`ROLES=split` for two); rows measured before that (dated before 2026-12-06) had fsync off and the API',
    'and worker apart, and each result file\'s `parameters` say which. Bold rows quote what each issue asked',
    'for; the rows under one answer it.',
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
  lines.push(...targetsSection(abSummaries, results), '');
  for (const [bench, section] of Object.entries(SECTIONS)) {
    const r = results.get(bench);
    if (r) lines.push(...section(r), '');
  }
  for (const ab of abSummaries) lines.push(...abSection(ab), '');
  if (missing.length) lines.push('## Not measured yet', '', ...missing.map((m) => `- ${m}`), '');
  return { text: lines.join('\n'), missing };
}

/** What `tsx bench/ab.ts <folder>` writes: one bench run back to back on two commits. */
interface AbSummary {
  name: string;
  bench: string;
  runs: { file: string; date: string; loadAverageAtEnd: number[] | null }[];
  rows: { key: string; label: string; unit: string; old: number[]; new: number[]; medianOld: number; medianNew: number; ratioOldToNew: number | null }[];
}

/**
 * The engine issue's (#12) target rows: each figure's before and after from an A/B folder (medians of
 * the runs on the commit before the engine work and on the current one), or only "now" from a results
 * file where the bench could not run on the old commit.
 */
interface Target {
  figure: string;
  target: string;
  /** `ab:<folder>` or a bench's results file name. */
  source: string;
  key: string;
}

const TARGETS: Target[] = [
  { figure: 'transactional POST → provider, 1 client, p50 (ms)', target: '≤ 25', source: 'ab:transactional-local-delivery', key: 'c1.provider_p50_ms' },
  { figure: 'transactional, 50 clients: accepted/s', target: '≥ 600', source: 'ab:transactional-local-delivery', key: 'c50.accepted_per_second' },
  { figure: 'transactional, 50 clients: POST → provider p99 (ms)', target: '≤ 250', source: 'ab:transactional-local-delivery', key: 'c50.provider_p99_ms' },
  { figure: 'transactional p99 while a 100,000-recipient campaign sends, ÷ its idle p99', target: '≤ 2', source: 'transactional', key: 'campaign.c50.p99_vs_idle' },
  { figure: 'enroll 10,000 from a list: answer of the request (s)', target: '≤ 2', source: 'ab:sequences-engine', key: 'enroll_total_s' },
  { figure: 'enroll 10,000: journeys started per second', target: '≥ 500', source: 'ab:sequences-engine', key: 'enroll_per_s' },
  { figure: 'enroll 10,000: all first emails accepted (s)', target: '≤ 40', source: 'ab:sequences-engine', key: 'all_first_emails_s' },
  { figure: 'timer lag, 1,000 steps due in one minute, p99 to send start (ms)', target: '≤ 2,000', source: 'ab:sequences-engine', key: 'timer_lag_start_p99_ms' },
  { figure: 'worker RSS idle (MB)', target: '≤ 200', source: 'ab:sequences-engine', key: 'worker_rss_idle_mb' },
  { figure: 'worker RSS with 10,000 sleeping journeys (MB)', target: '≤ 300', source: 'ab:sequences-engine', key: 'worker_rss_sleeping_mb' },
  { figure: '↳ worker RSS idle (MB), then MALLOC_ARENA_MAX=2 (before: e857664)', target: '≤ 200', source: 'ab:worker-memory', key: 'worker_rss_idle_mb' },
  { figure: '↳ worker RSS, 10,000 sleeping journeys (MB), then MALLOC_ARENA_MAX=2 (before: e857664)', target: '≤ 300', source: 'ab:worker-memory', key: 'worker_rss_sleeping_mb' },
  { figure: 'campaign to 100,000, no throttle, freeze included (emails/s)', target: '≥ 5,000', source: 'ab:campaign-engine', key: 'campaign_emails_per_s' },
];

/** The #12 targets as one table: before, after, target, and where each figure comes from. */
function targetsSection(abs: AbSummary[], results: Map<string, BenchResult>): string[] {
  const rows = TARGETS.map((t) => {
    if (t.source.startsWith('ab:')) {
      const name = t.source.slice(3);
      const row = abs.find((a) => a.name === name)?.rows.find((r) => r.key === t.key);
      if (!row) return `| ${t.figure} | not measured | not measured | ${t.target} | no \`${t.key}\` in bench/results/ab/${name}/summary.json yet |`;
      const runs = `A/B \`${name}\`, medians of ${row.old.length} + ${row.new.length} runs`;
      return `| ${t.figure} | ${formatValue(row.medianOld)} | ${formatValue(row.medianNew)} | ${t.target} | ${runs} |`;
    }
    const figure = results.get(t.source)?.figures.find((f) => f.key === t.key);
    return `| ${t.figure} | not measured before | ${figure ? formatValue(figure.value) : 'not measured'} | ${t.target} | bench/results/${t.source}.json |`;
  });
  return [
    '## #12 Engine cost: the targets, before and after',
    '',
    'Before: the commit before the engine work (c06bc9e); after: this one. Each A/B ran its bench on both',
    'commits back to back on the same machine (its section below gives every run and its load average).',
    '',
    '| figure | before | after | target | source |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    'Where a target is missed, the limit is CPU on this 2-core box, not waiting: the sections below give',
    'each path\'s CPU per email by process. A transactional send costs about 40–60 ms of CPU across the',
    'API, the worker, the Temporal dev server and PostgreSQL (one workflow task, no activity task, 8',
    'history events), so two cores deliver about 50 sends/s whatever the concurrency, and 50 clients',
    'queue behind that. A one-email journey costs about 50–60 ms (one workflow task, 11 events), which',
    'bounds journeys started and first emails to 35–80/s; 1,000 timers that fire within 16 s then wait',
    'in the task queue (the timer itself fires within 41 ms p99, see `timer_lag_*` in the sequences',
    'results), and tasks that wait past the 10 s sticky timeout are replayed in full. The worker holds',
    'two workflow threads with their own V8 heaps, the SDK and the module code (about 270–330 MB idle);',
    'webpack no longer runs in it. A campaign costs about 0.8–1 ms per email across the processes, so',
    'two cores top out near 2,500/s.',
  ];
}

const AB_DIR = path.join(RESULTS_DIR, 'ab');

async function loadAbSummaries(): Promise<AbSummary[]> {
  const names = await readdir(AB_DIR).catch(() => [] as string[]);
  const out: AbSummary[] = [];
  for (const name of names.sort()) {
    const text = await readFile(path.join(AB_DIR, name, 'summary.json'), 'utf8').catch(() => null);
    if (text) out.push({ name, ...(JSON.parse(text) as Omit<AbSummary, 'name'>) });
  }
  return out;
}

/** An A/B as a table: each side's runs, their medians and the ratio. */
function abSection(ab: AbSummary): string[] {
  const loads = ab.runs.map((r) => `${r.file.replace(/\.json$/, '')} ${r.loadAverageAtEnd?.[0] ?? '?'}`).join(', ');
  return [
    `## A/B: \`${ab.bench}\`, ${ab.name}`,
    '',
    `From \`bench/results/ab/${ab.name}/\` (\`tsx bench/ab.ts bench/results/ab/${ab.name}\`): the same bench run alternately on`,
    `the commit before the change (old) and after it (new), ${ab.runs[0]?.date.slice(0, 10) ?? ''}; load average at the end of each run: ${loads}.`,
    '',
    '| figure | old runs | new runs | old median | new median | old/new |',
    '| --- | --- | --- | ---: | ---: | ---: |',
    ...ab.rows.map(
      (r) =>
        `| ${r.label} (${r.unit}) | ${r.old.map(formatValue).join(', ')} | ${r.new.map(formatValue).join(', ')} | ${formatValue(r.medianOld)} | ${formatValue(r.medianNew)} | ${r.ratioOldToNew === null ? '—' : `${r.ratioOldToNew.toFixed(2)}×`} |`,
    ),
  ];
}

const abSummaries = await loadAbSummaries();

/** The parts of bench/results/engine-cost.json's details the section reads (written by bench/engine-cost.ts). */
interface EngineCostPath {
  label: string;
  emails: number;
  seconds: number;
  loadAverage: number[];
  temporal: {
    executionsPerEmail: number;
    eventsPerEmail: number;
    workflowTasksPerEmail: number;
    activityTasksPerEmail: number;
    localActivitiesPerEmail: number;
    patchMarkersPerEmail: number;
    searchAttributeUpsertsPerEmail: number;
    timersPerEmail: number;
    eventsByTypePerEmail: Record<string, number>;
    relayEventsDuringPhase: number;
  };
  server: { frontendPerEmail: number; persistencePerEmail: number; requestsPerEmail: Record<string, number> };
  postgres: { statementsPerEmail: number; rowsWrittenPerEmail: number; topStatements: { query: string; callsPerEmail: number }[] };
  cpuMsPerEmail: Record<'api' | 'worker' | 'temporal' | 'postgres' | 'total', number>;
  bucketsMsPerEmail: { api: Record<string, number>; worker: Record<string, number> };
  extra?: { journeys?: number; postToProviderMs?: { p50: number } };
}

interface EngineCostDetails {
  bucketLabels: Record<string, string>;
  idle: { seconds: number; cpuMsPerSecond: Record<string, number>; relayEvents: number; pgStatementsPerSecond: number };
  paths: Record<string, EngineCostPath>;
}

/** Few digits for big numbers, more for small ones: per-email figures range from 0.005 to 100. */
function fmt(value: number): string {
  if (value === 0) return '0';
  const digits = Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** A markdown table: a header row, then one row per label with a value per path. */
function table(head: string, columns: string[], rows: [string, number[]][]): string[] {
  return [
    `| ${head} | ${columns.map(cell).join(' | ')} |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} |`,
    ...rows.map(([label, values]) => `| ${cell(label)} | ${values.map(fmt).join(' | ')} |`),
  ];
}

/**
 * Issue 12's "measure first" breakdown: for each path, the Temporal work, the database work and the CPU
 * of each process and bucket of code per email, from the last `npm run bench:engine-cost`.
 */
function engineCostSection(r: BenchResult, when: string): string[] {
  const d = r.details as unknown as EngineCostDetails | undefined;
  if (!d?.paths) return [];
  const paths = Object.values(d.paths);
  const columns = paths.map((p) => p.label);
  const row = (label: string, value: (p: EngineCostPath) => number | undefined): [string, number[]] => [label, paths.map((p) => value(p) ?? 0)];
  const union = (pick: (p: EngineCostPath) => Record<string, number>) => {
    const keys = new Map<string, number>();
    for (const p of paths) for (const [k, v] of Object.entries(pick(p))) keys.set(k, Math.max(keys.get(k) ?? 0, v));
    return [...keys].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  };
  const m = r.machine;
  const bucketRows = (role: 'api' | 'worker') =>
    union((p) => p.bucketsMsPerEmail[role])
      .filter((b) => paths.some((p) => (p.bucketsMsPerEmail[role][b] ?? 0) >= 0.05))
      .map((b) => row(d.bucketLabels[b] ?? b, (p) => p.bucketsMsPerEmail[role][b]));
  const frontendOps = union((p) => p.server.requestsPerEmail).filter((k) => k.startsWith('frontend '));
  const statements = union((p) => Object.fromEntries(p.postgres.topStatements.map((s) => [s.query, s.callsPerEmail]))).slice(0, 15);
  const short = (q: string) => (q.length > 90 ? `${q.slice(0, 87)}…` : q);
  const idle = d.idle;

  return [
    `## #12 Engine cost per email: where the time goes (${when})`,
    '',
    `From \`${r.command}\` on ${r.date.slice(0, 10)} (${m.cpuCount} × ${shortCpu(m.cpuModel)}, ${m.memoryGb} GB, Node ${m.node}, commit ${m.commit ?? '?'}).`,
    `One phase per path, one after another: ${paths.map((p) => `${p.label} ${p.emails.toLocaleString('en-US')} emails${p.extra?.journeys ? ` (${p.extra.journeys} journeys)` : ''} in ${fmt(p.seconds)} s, load ${p.loadAverage[0]}`).join('; ')}.`,
    'A phase ends when every email reached the fake provider exactly once and every workflow of the path closed.',
    'Temporal counts come from the histories of the path’s own workflows; server requests and persistence',
    'operations from the dev server’s metrics; statements from pg_stat_statements; CPU from /proc (utime +',
    'stime) of each process, without the profiler’s sampler threads. CPU, server and database figures are',
    `net of the idle background measured over ${fmt(idle.seconds)} s with nothing to do (API ${fmt(idle.cpuMsPerSecond.api ?? 0)}, worker`,
    `${fmt(idle.cpuMsPerSecond.worker ?? 0)}, Temporal ${fmt(idle.cpuMsPerSecond.temporal ?? 0)}, PostgreSQL ${fmt(idle.cpuMsPerSecond.postgres ?? 0)} ms of CPU per second; ${fmt(idle.pgStatementsPerSecond)} statements/s and`,
    `${idle.relayEvents} history events of the outbox relays). API and worker ran under \`node --cpu-prof\`, so their`,
    'JavaScript is somewhat slower than without it. The sequence with a timer waits one minute between its',
    'two emails: background noise weighs more on it.',
    '',
    '### Temporal and database work per email',
    '',
    ...table('per email', columns, [
      row('workflow executions', (p) => p.temporal.executionsPerEmail),
      row('history events', (p) => p.temporal.eventsPerEmail),
      row('workflow tasks', (p) => p.temporal.workflowTasksPerEmail),
      row('activity tasks', (p) => p.temporal.activityTasksPerEmail),
      row('local activities (markers)', (p) => p.temporal.localActivitiesPerEmail),
      row('patch markers (`patched()`)', (p) => p.temporal.patchMarkersPerEmail),
      row('search attribute upserts', (p) => p.temporal.searchAttributeUpsertsPerEmail),
      row('timers', (p) => p.temporal.timersPerEmail),
      row('Temporal frontend requests (API + worker)', (p) => p.server.frontendPerEmail),
      row('Temporal persistence operations (SQLite)', (p) => p.server.persistencePerEmail),
      row('PostgreSQL statements', (p) => p.postgres.statementsPerEmail),
      row('PostgreSQL rows written', (p) => p.postgres.rowsWrittenPerEmail),
    ]),
    '',
    '### History events per email, by type',
    '',
    ...table('event', columns, union((p) => p.temporal.eventsByTypePerEmail).map((t) => row(t, (p) => p.temporal.eventsByTypePerEmail[t]))),
    '',
    '### CPU ms per email, by process',
    '',
    ...table('process', columns, [
      row('API', (p) => p.cpuMsPerEmail.api),
      row('worker', (p) => p.cpuMsPerEmail.worker),
      row('Temporal dev server', (p) => p.cpuMsPerEmail.temporal),
      row('PostgreSQL', (p) => p.cpuMsPerEmail.postgres),
      row('**total**', (p) => p.cpuMsPerEmail.total),
    ]),
    '',
    '### Worker CPU ms per email, by bucket',
    '',
    'Each bucket’s share of the samples of the worker’s JavaScript threads (main thread and workflow',
    'threads), applied to those threads’ CPU; native and Node-internal frames count for their nearest',
    'caller in a library or in Tidings’ code. The Temporal core’s Rust threads are measured directly.',
    '',
    ...table('bucket', columns, bucketRows('worker')),
    '',
    '### API CPU ms per email, by bucket',
    '',
    ...table('bucket', columns, bucketRows('api')),
    '',
    '### Temporal frontend requests per email, by operation',
    '',
    ...table('operation', columns, frontendOps.map((k) => row(k.replace(/^frontend /, ''), (p) => p.server.requestsPerEmail[k]))),
    '',
    '### PostgreSQL statements per email (the most frequent)',
    '',
    ...table('statement', columns, statements.map((q) => row(`\`${short(q).replace(/`/g, "'")}\``, (p) => p.postgres.topStatements.find((s) => s.query === q)?.callsPerEmail))),
  ];
}


interface ListmonkParameters {
  listmonk: { version: string } | string;
  sinkCeiling: { connections: number; messagesPerSecond: number; messagesPerSecondOnOneCore: number; sinkCpuPercentOfOneCore: number };
}

/** Issue 18's comparison: one row per system and settings, then CPU and memory by process. */
function listmonkSection(r: BenchResult): string[] {
  const rows = (r.details as { rows?: ListmonkRow[] } | undefined)?.rows;
  if (!rows?.length) return [];
  const p = r.parameters as unknown as ListmonkParameters;
  const m = r.machine;
  const n = (v: number) => formatValue(v);
  const version = typeof p.listmonk === 'string' ? p.listmonk : `listmonk ${p.listmonk.version}`;
  const c = p.sinkCeiling;
  return [
    '## #18 listmonk and Tidings on one SMTP sink',
    '',
    `From \`${r.command}\` on ${r.date.slice(0, 10)} ${r.date.slice(11, 16)} UTC (${m.cpuCount} × ${shortCpu(m.cpuModel)}, ${m.memoryGb} GB, Node ${m.node}, commit ${m.commit ?? '?'}; ${version}).`,
    '`LISTMONK_BIN` is listmonk’s v6.2.0 release binary (github.com/knadh/listmonk/releases) or a build of one’s own;',
    'this repository neither downloads nor builds it (a version ending in “local” is a build of the tag made',
    'outside it), and without it only Tidings runs. This run had',
    `\`SYSTEMS=${((r.parameters as { systems?: string[] }).systems ?? []).join(',')}\`.`,
    'One system at a time, each on a fresh embedded PostgreSQL of its own with fsync on, both sending the same',
    '~2 KB HTML with a first-name tag, three tracked links and an open pixel to an SMTP sink in its own process',
    `on loopback, whose ceiling was ${n(c.messagesPerSecond)} messages/s from ${c.connections} raw SMTP clients (the sink at ${c.sinkCpuPercentOfOneCore}% of one core;`,
    `${n(c.messagesPerSecondOnOneCore)} messages/s with a core of its own). The audience was loaded beforehand, not timed. The clock starts`,
    'when the campaign is started: for listmonk its status set to running, as its Start button does (its scanner',
    'looks every 5 s, hence the first email’s wait); for Tidings `POST /campaigns` with `scheduledAt` now (the',
    'audience freeze included). CPU is utime + stime from /proc of every process of the system, from that start to',
    'the last message at the sink. Peak RSS (app) is VmHWM of listmonk, or of the API, worker and Temporal dev server',
    'summed; PostgreSQL’s is summed over its processes, so its shared buffers count once per process. Delivered /',
    'unique is messages / distinct RCPT addresses / distinct Message-IDs at the sink. The machine is shared with',
    'other work: the load average (1 min) at each row’s start and end says how much.',
    '',
    '| system | settings | recipients | emails/s (start → last) | emails/s (first → last) | first email (ms) | CPU ms / 1,000 emails | SMTP connections | peak RSS, app (MB) | peak RSS, PostgreSQL (MB) | delivered / unique | load |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.system} | ${cell(row.settings)} | ${n(row.recipients)} | ${n(row.emailsPerSecond)} | ${n(row.emailsPerSecondFirstToLast)} | ${n(row.firstEmailMs)} | ${n(row.cpuMsPer1000)} | ${n(row.sink.connections)} | ${n(Math.round(row.appPeakRssMb))} | ${n(Math.round(row.postgresPeakRssMb))} | ${n(row.sink.messages)} / ${n(row.sink.uniqueRecipients)} / ${n(row.sink.uniqueMessageIds)}${row.exactlyOnce ? '' : ' (not exactly once)'} | ${row.loadAverageAtStart[0]} → ${row.loadAverageAtEnd[0]} |`,
    ),
    '',
    'How the columns come about: listmonk’s campaign queue holds concurrency × message rate × 2 rendered messages,',
    'and one goroutine renders ahead of the SMTP workers, so with a rate high enough not to throttle the whole',
    'campaign can sit rendered in memory (the tuned row’s peak RSS). Tidings keeps the sending config’s',
    '`maxConnections` SMTP connections open for the whole campaign. emails/s from start includes listmonk’s wait',
    'for its scanner; first → last leaves it out.',
    '',
    '### CPU ms per 1,000 emails and peak RSS, by process',
    '',
    '| system | process | CPU ms / 1,000 emails | peak RSS (MB) |',
    '| --- | --- | ---: | ---: |',
    ...rows.flatMap((row) =>
      Object.keys(row.cpuMsPer1000ByProcess).map(
        (proc) =>
          // listmonk's settings start with their name (`default: …`, `tuned: …`); Tidings has one row.
          `| ${row.system}${row.settings.includes(':') ? ` ${cell(row.settings.split(':')[0]!)}` : ''} | ${proc}${proc === 'PostgreSQL' ? ` (${row.postgresProcesses} processes)` : ''} | ${n(row.cpuMsPer1000ByProcess[proc]!)} | ${n(row.peakRssMbByProcess[proc]!)} |`,
      ),
    ),
  ];
}

/** The #18 profile: the Tidings worker's CPU by part, before issue 18's work and now, and the targets. */
function workerCpuSection(after: BenchResult, before: BenchResult | undefined, table: BenchResult | undefined): string[] {
  type Row = ListmonkRow;
  const tidings = (r: BenchResult | undefined) => ((r?.details as { rows?: Row[] } | undefined)?.rows ?? []).find((row) => row.system === 'Tidings');
  const now = tidings(after);
  if (!now?.workerCpu) return [];
  const then = tidings(before);
  const commit = (r: BenchResult | undefined) => r?.machine.commit ?? '?';
  const perEmail = (row: Row | undefined, part: string) => {
    const p = row?.workerCpu?.parts.find((x) => x.part === part);
    return p && row ? formatValue(Math.round((p.ms * 1000) / row.sink.messages)) : '—';
  };
  const n = (v: number | undefined) => (v === undefined ? '—' : formatValue(v));
  const lines = [
    '### #18 Where the Tidings worker’s CPU goes, before and after',
    '',
    `\`TIDINGS_PROFILE=1 SYSTEMS=tidings npm run bench:listmonk\`: the worker under \`--cpu-prof\` (1 ms sampling), its`,
    'samples from the campaign’s start to its last email at the sink, by part (bench/lib/campaign-cpu.ts; Node’s own',
    'code and native calls count for the nearest caller that is ours or a library’s). Same 100,000 recipients, template',
    `and sink as above; back to back on ${after.date.slice(0, 10)}. Before: the product as it was when issue 18 was filed`,
    `(331f26e) with this bench added (commit ${commit(before)}; \`BENCH_RESULT=listmonk-before\`), its SMTP pool of 5. Now: commit ${commit(after)}.`,
    'Figures under a profiler run a little slower than the table above.',
    '',
    '| worker CPU per email (µs) | before | now |',
    '| --- | ---: | ---: |',
    ...now.workerCpu.parts.map((p) => `| ${cell(p.label)} | ${perEmail(then, p.part)} | ${perEmail(now, p.part)} |`),
    `| **all of the worker’s busy time** | ${then?.workerCpu ? n(Math.round((then.workerCpu.busyMs * 1000) / then.sink.messages)) : '—'} | ${n(Math.round((now.workerCpu.busyMs * 1000) / now.sink.messages))} |`,
    `| emails/s (start → last) | ${n(then?.emailsPerSecond)} | ${n(now.emailsPerSecond)} |`,
    `| CPU ms per 1,000 emails, every process | ${n(then?.cpuMsPer1000)} | ${n(now.cpuMsPer1000)} |`,
    `| SMTP connections opened | ${n(then?.sink.connections)} | ${n(now.sink.connections)} |`,
    `| load average at the start | ${then?.loadAverageAtStart[0] ?? '—'} | ${now.loadAverageAtStart[0]} |`,
  ];
  const rows = ((table?.details as { rows?: Row[] } | undefined)?.rows ?? []);
  const overResend = (row: Row) => row.settings.startsWith('resend');
  const final = rows.find((row) => row.system === 'Tidings' && !overResend(row));
  const tuned = rows.find((row) => row.system === 'listmonk' && row.settings.startsWith('tuned'));
  if (final) {
    const met = (ok: boolean) => (ok ? 'met' : '**missed**');
    const worker = final.peakRssMbByProcess.worker ?? 0;
    lines.push(
      '',
      '### #18 Targets, from the table above (no profiler)',
      '',
      '| figure | when filed | now | target | |',
      '| --- | ---: | ---: | ---: | --- |',
      `| campaign over SMTP, 100,000 recipients, emails/s | 629 | ${n(final.emailsPerSecond)} | ≥ listmonk tuned (${n(tuned?.emailsPerSecond)} here) | ${met(final.emailsPerSecond >= (tuned?.emailsPerSecond ?? Infinity))} |`,
      `| CPU per 1,000 campaign emails over SMTP (ms) | 2,007 | ${n(final.cpuMsPer1000)} | ≤ 2 × listmonk tuned (${n(tuned ? 2 * tuned.cpuMsPer1000 : undefined)} here) | ${met(final.cpuMsPer1000 <= 2 * (tuned?.cpuMsPer1000 ?? 0))} |`,
      `| SMTP connections opened for a campaign | 1,003 | ${n(final.sink.connections)} | ≤ the pool size (20) | ${met(final.sink.connections <= 20)} |`,
      `| worker peak RSS during the campaign (MB) | 810 | ${n(Math.round(worker))} | ≤ 300 | ${met(worker <= 300)} |`,
    );
    const resend = rows.find((row) => row.system === 'Tidings' && overResend(row));
    lines.push(
      resend
        ? `| CPU per 1,000 campaign emails over the Resend batch API (ms) | 1,218 | ${n(resend.cpuMsPer1000)} | ≤ 250 | ${met(resend.cpuMsPer1000 <= 250)} |`
        : '| CPU per 1,000 campaign emails over the Resend batch API (ms) | 1,218 | not measured | ≤ 250 | |',
    );
    if (resend) {
      lines.push(
        '',
        `Over Resend (the \`tidings-resend\` row above, load ${resend.loadAverageAtStart[0]}):`,
        `${n(resend.emailsPerSecond)} emails/s, CPU per 1,000 emails by process: ${Object.entries(resend.cpuMsPer1000ByProcess).map(([proc, ms]) => `${proc} ${n(ms)} ms`).join(', ')}.`,
        'The fake Resend runs in the bench process and is not counted, as the sink is not for SMTP.',
      );
    }
  }
  return lines;
}

const results = await loadResults();
loaded = results;
const { text, missing } = render(results, await npmCommands());
await writeFile(README, text);
console.log(`wrote ${path.relative(process.cwd(), README)} from ${results.size} result files`);
for (const m of missing) console.log(`  not measured: ${m}`);
