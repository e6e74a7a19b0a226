/**
 * HTTP load at fixed concurrency (issue 7): throughput and latency percentiles per endpoint.
 *
 *   npm run bench:load      (DURATION=30 WARMUP=2 CONCURRENCY=50 TRACKING_CONCURRENCY=200 by default;
 *                            TARGETS=contact,bulk,click,send picks and orders the targets)
 *
 * Starts a throwaway embedded PostgreSQL (fsync on unless BENCH_PG_FSYNC=off) and Temporal dev server (SQLite) and Tidings as
 * two processes like production (`src/main.ts` with TIDINGS_ROLE=api and TIDINGS_ROLE=worker), with a
 * `log` sending config (no provider: what is measured is Tidings). Then autocannon drives, one target
 * at a time, for DURATION seconds after WARMUP unmeasured requests per client:
 *  - `POST /api/v1/contacts` with a new email per request (CONCURRENCY clients);
 *  - `POST /api/v1/contacts/bulk` with 10 contacts per request, 5 new and 5 updates (CONCURRENCY clients);
 *  - `GET /t/c/<token>`, the click redirect, with real tokens taken the way a user gets them: a
 *    campaign with a link sent to a few contacts, the rendered html read back from `GET /sends/:id`
 *    (TRACKING_CONCURRENCY clients; issue 6 asks for its p99 at 200);
 *  - `POST /api/v1/send` (CONCURRENCY clients), last, because every accepted send starts a workflow
 *    that the worker keeps processing after the measurement.
 * Latency is autocannon's (HdrHistogram, 1 ms resolution, from writing the request to the whole
 * response). autocannon runs in this process, on the same 2 cores as the API: figures are a floor.
 * Writes bench/results/load.json.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import autocannon from 'autocannon';
import { createDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { ensureApiKey } from '../src/db/repositories/api-keys.js';
import { ensureDefaultSite } from '../src/db/repositories/sites.js';
import { loadAverage, machineInfo } from './lib/machine.js';
import { sleep } from './lib/proc.js';
import { writeResult, type Figure } from './lib/results.js';
import { benchAborted, onCleanup, runBench, tempDir } from './lib/run.js';
import { startManagedBenchServices, startManagedRole, waitForRole, benchPgFsync } from './lib/services.js';
import { round } from './lib/stats.js';

const DURATION = Number(process.env.DURATION ?? 30);
/** Unmeasured requests per client first (JIT, pools, caches), all answered before the clock starts. */
const WARMUP = Number(process.env.WARMUP ?? 2);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const TRACKING_CONCURRENCY = Number(process.env.TRACKING_CONCURRENCY ?? 200);
const TARGET_NAMES = ['contact', 'bulk', 'click', 'send'] as const;
type TargetName = (typeof TARGET_NAMES)[number];
const TARGETS = (process.env.TARGETS ?? TARGET_NAMES.join(',')).split(',').map((t) => t.trim()) as TargetName[];
for (const t of TARGETS) if (!TARGET_NAMES.includes(t)) throw new Error(`unknown target ${t}; pick from ${TARGET_NAMES.join(', ')}`);
/** Contacts per bulk request: a client syncing a few changes at a time, not an import. */
const BULK_SIZE = 10;
/** Existing contacts the bulk requests update (5 per request, each a different slice). */
const BULK_POOL = 5_000;
/** Campaign recipients, i.e. distinct click tokens the redirect load cycles through. */
const CLICK_RECIPIENTS = 20;
const LANDING_URL = 'https://example.com/landing?utm_source=bench';
const SECRET = 'bench-load-secret-0123456789abcdefghijklmnop';
const API_KEY = `tk_live_${'l'.repeat(32)}`;
/** A mail client's user agent: a bot's click would be redirected but not counted. */
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

interface Target {
  name: TargetName;
  title: string;
  connections: number;
  /** Status codes that count as the endpoint working, and how the report names them. */
  expected: number[];
  expectedLabel: string;
  requests: () => autocannon.Request[];
}

interface TargetResult {
  name: TargetName;
  title: string;
  expectedLabel: string;
  connections: number;
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; p99_9: number; max: number; mean: number };
  statusCodes: Record<string, number>;
  /** Responses whose status is not one of the target's expected ones. */
  unexpected: number;
  /** Neither 2xx nor 3xx (4xx, 5xx), as autocannon counts them. */
  non2xx3xx: number;
  errors: number;
  timeouts: number;
  loadAverageAtStart: number[];
}

async function api<T>(base: string, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/api/v1${url}`, {
    method,
    signal: benchAborted,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 500)}`);
  return (JSON.parse(text) as { data: T }).data;
}

/** Runs autocannon and resolves with its result; aborting the bench stops it. */
function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
    const stop = () => instance.stop();
    benchAborted.addEventListener('abort', stop, { once: true });
    instance.on('done', () => benchAborted.removeEventListener('abort', stop));
  });
}

async function runTarget(base: string, target: Target): Promise<TargetResult> {
  const common: autocannon.Options = {
    url: base,
    connections: target.connections,
    timeout: 30,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'user-agent': BROWSER_UA },
  };
  if (WARMUP > 0) {
    // A number of requests, not seconds: autocannon then waits for every answer, so no warm-up
    // request is still being served when the measurement starts.
    process.stderr.write(`${target.title}: warming up (${WARMUP * target.connections} requests)…\n`);
    await cannon({ ...common, amount: WARMUP * target.connections, requests: target.requests() });
  }
  const loadAverageAtStart = loadAverage();
  process.stderr.write(`${target.title}: ${target.connections} connections for ${DURATION} s (load ${loadAverageAtStart.join(' ')})…\n`);
  const r = await cannon({ ...common, duration: DURATION, requests: target.requests() });
  // autocannon stops at the deadline without waiting for the requests in flight, which the server
  // still serves: let them finish (they take about the p99) before the next target starts.
  await sleep(Math.max(2000, r.latency.p99));
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  const unexpected = Object.entries(statusCodes)
    .filter(([code]) => !target.expected.includes(Number(code)))
    .reduce((sum, [, n]) => sum + n, 0);
  return {
    name: target.name,
    title: target.title,
    expectedLabel: target.expectedLabel,
    connections: target.connections,
    durationS: r.duration,
    requests: r.requests.total,
    requestsPerSecond: r.requests.total / r.duration,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p99_9: r.latency.p99_9, max: r.latency.max, mean: round(r.latency.mean, 2) },
    statusCodes,
    unexpected,
    non2xx3xx: r['4xx'] + r['5xx'] + r['1xx'],
    errors: r.errors,
    timeouts: r.timeouts,
    loadAverageAtStart,
  };
}

function autocannonVersion(): string {
  return (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
}

const json = (value: unknown) => JSON.stringify(value);

function contactTarget(): Target {
  let n = 0;
  return {
    name: 'contact',
    title: 'POST /api/v1/contacts (new email each)',
    connections: CONCURRENCY,
    expected: [201],
    expectedLabel: '201',
    requests: () => [
      {
        method: 'POST',
        path: '/api/v1/contacts',
        setupRequest: (req) => {
          const i = n++;
          return { ...req, body: json({ email: `single-${i}@load.example`, firstName: `Ada${i}`, customFields: { plan: 'free', i } }) };
        },
      },
    ],
  };
}

function bulkTarget(): Target {
  let n = 0;
  return {
    name: 'bulk',
    title: `POST /api/v1/contacts/bulk (${BULK_SIZE} contacts: ${BULK_SIZE / 2} new, ${BULK_SIZE / 2} updates)`,
    connections: CONCURRENCY,
    expected: [200],
    expectedLabel: '200',
    requests: () => [
      {
        method: 'POST',
        path: '/api/v1/contacts/bulk',
        setupRequest: (req) => {
          const k = n++;
          const half = BULK_SIZE / 2;
          // Consecutive requests (the ones in flight together) update disjoint slices of the pool.
          const updates = Array.from({ length: half }, (_, j) => ({ email: `pool-${(k * half + j) % BULK_POOL}@load.example`, lastName: `Updated${k}` }));
          const inserts = Array.from({ length: half }, (_, j) => ({ email: `bulk-${k}-${j}@load.example`, firstName: `Grace${k}`, customFields: { plan: 'pro' } }));
          return { ...req, body: json({ contacts: [...updates, ...inserts] }) };
        },
      },
    ],
  };
}

function sendTarget(sendingConfigId: number): Target {
  let n = 0;
  return {
    name: 'send',
    title: 'POST /api/v1/send (log sending config)',
    connections: CONCURRENCY,
    expected: [202],
    expectedLabel: '202',
    requests: () => [
      {
        method: 'POST',
        path: '/api/v1/send',
        setupRequest: (req) => {
          const i = n++;
          return {
            ...req,
            body: json({ to: `send-${i}@load.example`, subject: `Receipt #${i}`, html: '<p>Hello {{ name }}, thanks for order {{ order }}.</p>', variables: { name: `Person ${i}`, order: i }, sendingConfigId }),
          };
        },
      },
    ],
  };
}

function clickTarget(clickPaths: string[]): Target {
  let n = 0;
  return {
    name: 'click',
    title: 'GET /t/c/:token (click redirect)',
    connections: TRACKING_CONCURRENCY,
    expected: [301, 302, 303, 307, 308],
    expectedLabel: '3xx',
    requests: () => [
      {
        method: 'GET',
        path: clickPaths[0]!,
        // A GET has no body: drop the JSON content type the other targets share.
        setupRequest: (req) => ({ ...req, path: clickPaths[n++ % clickPaths.length]!, body: undefined }),
      },
    ],
  };
}

interface CampaignView {
  id: number;
  status: string;
}
interface RecipientView {
  sendId: number | null;
  status: string;
}

/**
 * Click URLs the way a reader gets them: a campaign whose html holds a link, sent through the log
 * config to a few contacts; each send's rendered html (GET /sends/:id) carries that reader's `/t/c/` link.
 */
async function clickPathsFromCampaign(base: string, sendingConfigId: number): Promise<{ campaignId: number; paths: string[] }> {
  const list = await api<{ id: number }>(base, 'POST', '/lists', { name: 'Click readers' });
  await api(base, 'POST', '/contacts/bulk', {
    contacts: Array.from({ length: CLICK_RECIPIENTS }, (_, i) => ({ email: `reader-${i}@load.example`, firstName: `Reader${i}`, lists: [list.id] })),
  });
  const campaign = await api<CampaignView>(base, 'POST', '/campaigns', {
    name: 'Load: click tracking',
    subject: 'News for {{ firstName }}',
    html: `<h1>Hello {{ firstName }}</h1><p>Our news: <a href="${LANDING_URL}">read more</a>.</p>`,
    listId: list.id,
    sendingConfigId,
    scheduledAt: new Date().toISOString(),
  });
  const deadline = Date.now() + 5 * 60_000;
  let view = campaign;
  while (view.status !== 'sent') {
    if (view.status === 'failed' || view.status === 'cancelled' || view.status === 'paused') throw new Error(`campaign ${campaign.id} ended ${view.status}`);
    if (Date.now() > deadline) throw new Error(`campaign ${campaign.id} not sent after 5 minutes (status ${view.status})`);
    await sleep(500);
    view = await api<CampaignView>(base, 'GET', `/campaigns/${campaign.id}`);
  }
  const recipients = await api<RecipientView[]>(base, 'GET', `/campaigns/${campaign.id}/recipients?limit=100`);
  const paths: string[] = [];
  for (const r of recipients) {
    if (r.sendId === null) continue;
    const send = await api<{ html: string }>(base, 'GET', `/sends/${r.sendId}`);
    const url = /(?:https?:\/\/[^"'\s<>]+)?(\/t\/c\/[^"'\s<>?#]+)/.exec(send.html)?.[1];
    if (url) paths.push(url);
  }
  if (paths.length === 0) throw new Error(`no /t/c/ link in the html of campaign ${campaign.id}'s sends (is click tracking built?)`);
  // One click through fetch, to fail clearly here rather than count 200 × DURATION failures.
  const res = await fetch(`${base}${paths[0]}`, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA }, signal: benchAborted });
  await res.arrayBuffer();
  if (res.status < 300 || res.status >= 400 || res.headers.get('location') !== LANDING_URL) {
    throw new Error(`GET ${paths[0]} answered ${res.status} to ${res.headers.get('location')}, expected a redirect to ${LANDING_URL}`);
  }
  return { campaignId: campaign.id, paths };
}

async function main() {
  const machine = machineInfo();
  const tmp = await tempDir('load');
  process.stderr.write('starting PostgreSQL and the Temporal dev server…\n');
  const { pg, temporal, apiPort } = await startManagedBenchServices(tmp);

  const database = createDatabase(pg.databaseUrl, { max: 2 });
  const unregisterPool = onCleanup('close pool', () => database.close());
  await runMigrations(database.db);
  const { site } = await ensureDefaultSite(database.db);
  await ensureApiKey(database.db, site.id, API_KEY);
  unregisterPool();
  await database.close();

  const base = `http://127.0.0.1:${apiPort}`;
  const common = {
    DATABASE_URL: pg.databaseUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TIDINGS_SECRET: SECRET,
    TIDINGS_API_KEY: API_KEY,
    // Links in email point at the API, which serves /t/ itself.
    PUBLIC_URL: base,
    // The per-key limit (600/min by default) would turn the load into 429s: it is measured elsewhere.
    RATE_LIMIT_PER_MINUTE: '100000000',
  };
  const apiProc = startManagedRole('api', { ...common, PORT: String(apiPort), HOST: '127.0.0.1', TIDINGS_DATA_DIR: path.join(tmp, 'api') });
  const workerProc = startManagedRole('worker', { ...common, TIDINGS_DATA_DIR: path.join(tmp, 'worker') });
  await waitForRole('API', apiProc, async () => (await fetch(`${base}/readyz`)).ok);
  await waitForRole('worker', workerProc, async () => workerProc.output().includes('Tidings is running'));

  const config = await api<{ id: number }>(base, 'POST', '/sending-configs', {
    name: 'Log (load bench)',
    provider: 'log',
    fromEmail: 'news@load.example',
    fromName: 'Load',
    trackClicks: true,
  });

  const targets: Target[] = [];
  let clickCampaignId: number | null = null;
  for (const name of TARGETS) {
    if (name === 'contact') targets.push(contactTarget());
    if (name === 'bulk') {
      process.stderr.write(`seeding ${BULK_POOL} contacts for the bulk updates…\n`);
      for (let i = 0; i < BULK_POOL; i += 1000) {
        await api(base, 'POST', '/contacts/bulk', { contacts: Array.from({ length: 1000 }, (_, j) => ({ email: `pool-${i + j}@load.example` })) });
      }
      targets.push(bulkTarget());
    }
    if (name === 'click') {
      process.stderr.write(`sending a campaign with a link to ${CLICK_RECIPIENTS} contacts for click tokens…\n`);
      const { campaignId, paths } = await clickPathsFromCampaign(base, config.id);
      clickCampaignId = campaignId;
      targets.push(clickTarget(paths));
    }
    if (name === 'send') targets.push(sendTarget(config.id));
  }

  const results: TargetResult[] = [];
  for (const target of targets) {
    const r = await runTarget(base, target);
    process.stderr.write(
      `  ${r.requestsPerSecond.toFixed(1)} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, p99.9 ${r.latencyMs.p99_9} ms; status ${json(r.statusCodes)}; errors ${r.errors}\n`,
    );
    results.push(r);
  }

  const figures: Figure[] = [];
  for (const r of results) {
    const at = `${r.title}, ${r.connections} clients`;
    // Each target ran at its own moment: its own load average says how busy the machine was.
    const loadAverage = r.loadAverageAtStart;
    figures.push(
      { key: `${r.name}.requests_per_s`, label: `${at}: throughput`, value: round(r.requestsPerSecond), unit: 'requests/s', loadAverage },
      { key: `${r.name}.p50_ms`, label: `${at}: latency p50`, value: r.latencyMs.p50, unit: 'ms', loadAverage },
      { key: `${r.name}.p99_ms`, label: `${at}: latency p99`, value: r.latencyMs.p99, unit: 'ms', loadAverage },
      { key: `${r.name}.p99_9_ms`, label: `${at}: latency p99.9`, value: r.latencyMs.p99_9, unit: 'ms', loadAverage },
      {
        key: `${r.name}.failed`,
        label: `${at}: answers other than ${r.expectedLabel} (of ${r.requests.toLocaleString('en-US')}), plus connection errors`,
        value: r.unexpected + r.errors,
        unit: 'requests',
        loadAverage,
      },
    );
  }

  // Every human click is recorded once per send (dedupe): the campaign counts each reader once.
  const clickCampaign =
    clickCampaignId === null ? null : await api<{ clickedCount: number; openedCount: number }>(base, 'GET', `/campaigns/${clickCampaignId}`);
  await writeResult({
    bench: 'load',
    command: 'npm run bench:load',
    machine,
    parameters: {
      durationS: DURATION,
      warmupRequestsPerClient: WARMUP,
      concurrency: CONCURRENCY,
      trackingConcurrency: TRACKING_CONCURRENCY,
      targets: TARGETS,
      bulkContactsPerRequest: BULK_SIZE,
      clickTokens: CLICK_RECIPIENTS,
      generator: `autocannon ${autocannonVersion()} in the bench process (same cores as the API), keep-alive, no pipelining`,
      setup:
        `embedded PostgreSQL (${benchPgFsync}) + Temporal dev server (SQLite, WAL) on localhost; API and worker as separate \`src/main.ts\` ` +
        'processes (TIDINGS_ROLE=api / worker); log sending config; per-key API rate limit raised out of the way',
    },
    figures,
    details: {
      targets: results,
      ...(clickCampaign ? { clickCampaign: { recipients: CLICK_RECIPIENTS, clickedCount: clickCampaign.clickedCount, openedCount: clickCampaign.openedCount } } : {}),
    },
  });
}

await runBench('bench:load', main, { timeoutMs: 15 * 60_000 });
