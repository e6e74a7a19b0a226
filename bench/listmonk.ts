/**
 * listmonk and Tidings side by side, one campaign each to one local SMTP sink (issue #18).
 *
 *   LISTMONK_BIN=/path/to/listmonk npm run bench:listmonk
 *
 * LISTMONK_BIN is a listmonk binary you supply (a v6.2.0 release binary, which embeds its assets, or
 * your own build with LISTMONK_DIR set to where its assets are); this bench never fetches or builds
 * listmonk. Without it only Tidings runs. Knobs: RECIPIENTS (100000), LISTMONK_DEFAULT_RECIPIENTS
 * (10000: listmonk's default 10 workers × 10 messages/s would take 17 minutes for 100,000), SYSTEMS
 * (`listmonk-default,listmonk-tuned,tidings`; `tidings-resend` adds Tidings with a Resend config to the
 * local fake Resend, the same campaign over Resend's batch API).
 *
 * First the sink (bench/lib/smtp-sink-server.ts, its own process) is started and its ceiling measured
 * with a raw SMTP load generator. Then one system at a time, each on a fresh PostgreSQL (fsync on, as
 * both products run by default) of its own: the audience is loaded beforehand with set-based SQL (not
 * timed), the same ~2 KB HTML with a first-name tag and open and click tracking is sent, and from the
 * campaign's start to the last message at the sink the bench measures emails/s, the time to the first
 * email, the CPU of every process of the system (/proc utime + stime: listmonk and its PostgreSQL;
 * Tidings' API, worker, Temporal dev server and PostgreSQL), SMTP connections opened, peak RSS
 * (VmHWM), and whether every recipient got exactly one message. Prints a table and writes
 * bench/results/listmonk.json. TIDINGS_PROFILE=1 runs the Tidings worker under --cpu-prof and prints
 * where its CPU went: rendering, tracking links, MIME building, provider I/O, PostgreSQL, Temporal
 * (written to bench/results/listmonk-profile.json; BENCH_RESULT=<name> writes <name>.json instead, as
 * the run of the code before issue 18 did: listmonk-before.json).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { createDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { ensureApiKey } from '../src/db/repositories/api-keys.js';
import { ensureDefaultSite } from '../src/db/repositories/sites.js';
import { findFreePort } from '../src/embedded/ports.js';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { apiCall } from './lib/api.js';
import { campaignCpuSplit, CAMPAIGN_CPU_RULES } from './lib/campaign-cpu.js';
import type { ListmonkRow as RowResult } from './lib/listmonk-row.js';
import { loadProfiles } from './lib/cpu-profile.js';
import { LISTMONK_DEFAULTS, LISTMONK_HOWTO, LISTMONK_TUNED, listmonkBinary, startListmonk, type ListmonkBinary, type ListmonkSettings } from './lib/listmonk.js';
import { loadAverage, machineInfo } from './lib/machine.js';
import { descendants, memoryOf, monotonicMs, sleep, treeCpuMs } from './lib/proc.js';
import { writeResult, type Figure } from './lib/results.js';
import { benchAborted, onCleanup, runBench, tempDir, withCleanupScope } from './lib/run.js';
import { benchPgFsync, benchPostgresFlags, benchTidingsEnv, seedBenchList, startManagedBenchServices, startManagedRole, waitForRole } from './lib/services.js';
import { measureSinkCeiling, startSmtpSink, type SmtpSink } from './lib/smtp-sink.js';
import type { FakeResend } from '../test/helpers/fake-resend.js';

const RECIPIENTS = Number(process.env.RECIPIENTS ?? 100_000);
const LISTMONK_DEFAULT_RECIPIENTS = Number(process.env.LISTMONK_DEFAULT_RECIPIENTS ?? 10_000);
const SYSTEMS = (process.env.SYSTEMS ?? 'listmonk-default,listmonk-tuned,tidings').split(',').map((s) => s.trim());
/** Tidings' SMTP pool size, when its smtp credentials take one (`maxConnections`): listmonk tuned's. */
const TIDINGS_SMTP_CONNECTIONS = 20;
const SINK_CEILING = { connections: 20, seconds: 3 };
/** TIDINGS_PROFILE=1: the Tidings worker runs under --cpu-prof and its CPU is split by part (bench/lib/campaign-cpu.ts). */
const PROFILE = process.env.TIDINGS_PROFILE === '1';
const PROFILE_INTERVAL_US = 1000;
const SECRET = 'bench-listmonk-secret-0123456789abcdefghijkl';
const API_KEY = `tk_live_${'l'.repeat(32)}`;
const FROM = 'news@example.com';
const SUBJECT = 'What is new this month';

/**
 * The campaign body (about 2 KB rendered): one first-name tag, three tracked links and an open pixel,
 * in each system's own template language.
 */
function campaignHtml(t: { firstName: string; link: (url: string) => string; pixel: string }): string {
  const item = (title: string, url: string, text: string) =>
    `<tr><td style="padding:12px 0;border-bottom:1px solid #e5e5e5"><h2 style="margin:0 0 6px;font-size:18px">${title}</h2>` +
    `<p style="margin:0 0 8px;line-height:1.5">${text}</p><a href="${t.link(url)}" style="color:#0b63ce">Read more</a></td></tr>\n`;
  return (
    '<!doctype html>\n<html><body style="margin:0;font-family:Helvetica,Arial,sans-serif;color:#222">\n' +
    '<table width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;margin:0 auto;padding:24px">\n' +
    `<tr><td><h1 style="font-size:24px">Hello ${t.firstName},</h1><p style="line-height:1.5">Here is what happened this month: ` +
    'three changes we think you will like, and one we would like your opinion on.</p></td></tr>\n' +
    item('Faster exports', 'https://example.com/news/exports', 'Exports of large lists now finish in seconds, and you can schedule them to run every week on their own.') +
    item('A new editor', 'https://example.com/news/editor', 'The editor keeps your drafts as you type, shows a preview on a phone and a desktop side by side, and checks your links.') +
    item('Tell us what you think', 'https://example.com/survey', 'We are planning the next quarter. Five questions, two minutes: every answer is read by the team.') +
    '<tr><td style="padding-top:24px;font-size:12px;color:#777">You receive this because you subscribed to our newsletter.</td></tr>\n' +
    `</table>${t.pixel}\n</body></html>\n`
  );
}

const LISTMONK_HTML = campaignHtml({ firstName: '{{ .Subscriber.FirstName }}', link: (url) => `{{ TrackLink "${url}" }}`, pixel: '{{ TrackView }}' });
const TIDINGS_HTML = campaignHtml({ firstName: '{{ firstName }}', link: (url) => url, pixel: '' });

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** The PostgreSQL postmaster's pid from its data directory. */
async function postmasterPid(pgDir: string): Promise<number> {
  return Number((await readFile(path.join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

/**
 * Starts a campaign and waits for its last message at the sink: CPU of each process tree (`processes`,
 * by name) from just before the start to the last message, the sink's counts, and peak RSS.
 * `status` answers the campaign's state and `finished` whether it is one it will not leave.
 */
async function measureCampaign(o: {
  sink: MessageCounter;
  expected: number;
  processes: Record<string, number>;
  start: () => Promise<void>;
  status: () => Promise<string>;
  finished: (status: string) => boolean;
}) {
  await o.sink.reset();
  const names = Object.keys(o.processes);
  const cpu = async () => Object.fromEntries(await Promise.all(names.map(async (n) => [n, await treeCpuMs(o.processes[n]!)] as const)));
  const loadAverageAtStart = loadAverage();
  const cpuBefore = await cpu();
  const t0 = monotonicMs();
  await o.start();
  let stats = await o.sink.stats();
  let status = '';
  let lastStatusCheck = 0;
  const deadline = t0 + 30 * 60_000;
  // Until every message arrived, or the campaign ended short of that (2 s for stragglers).
  while (stats.messages < o.expected) {
    benchAborted.throwIfAborted();
    if (monotonicMs() > deadline) throw new Error(`campaign not done after 30 minutes: ${stats.messages} of ${o.expected} messages`);
    if (monotonicMs() - lastStatusCheck > 1000) {
      lastStatusCheck = monotonicMs();
      status = await o.status();
      if (o.finished(status)) {
        await sleep(2000);
        stats = await o.sink.stats();
        break;
      }
    }
    await sleep(50);
    stats = await o.sink.stats();
  }
  const cpuAfter = await cpu();
  const loadAverageAtEnd = loadAverage();

  // The final counts once the campaign says it is done: a late duplicate would show here.
  while (!o.finished(status) && monotonicMs() < deadline) {
    await sleep(200);
    status = await o.status();
  }
  await sleep(1000);
  const sink = await o.sink.stats();

  const peakRssMbByProcess: Record<string, number> = {};
  let postgresPeakRssMb = 0;
  let postgresProcesses = 0;
  for (const name of names) {
    const pid = o.processes[name]!;
    if (name === 'PostgreSQL') {
      for (const p of [pid, ...(await descendants(pid))]) {
        const m = await memoryOf(p);
        if (!m) continue;
        postgresPeakRssMb += m.peakRssMb;
        postgresProcesses += 1;
      }
      peakRssMbByProcess[name] = round(postgresPeakRssMb);
    } else peakRssMbByProcess[name] = round((await memoryOf(pid))?.peakRssMb ?? 0);
  }

  const messages = stats.messages;
  const cpuMsPer1000ByProcess = Object.fromEntries(names.map((n) => [n, round(((cpuAfter[n]! - cpuBefore[n]!) / messages) * 1000)]));
  const firstAt = stats.firstAt ?? t0;
  const lastAt = stats.lastAt ?? t0;
  return {
    recipients: o.expected,
    emailsPerSecond: Math.round(messages / ((lastAt - t0) / 1000)),
    emailsPerSecondFirstToLast: lastAt > firstAt ? Math.round((messages - 1) / ((lastAt - firstAt) / 1000)) : 0,
    firstEmailMs: Math.round(firstAt - t0),
    seconds: round((lastAt - t0) / 1000, 2),
    cpuMsPer1000: round(Object.values(cpuMsPer1000ByProcess).reduce((a, b) => a + b, 0)),
    cpuMsPer1000ByProcess,
    peakRssMbByProcess,
    appPeakRssMb: round(names.filter((n) => n !== 'PostgreSQL').reduce((sum, n) => sum + peakRssMbByProcess[n]!, 0)),
    postgresPeakRssMb: round(postgresPeakRssMb),
    postgresProcesses,
    sink,
    exactlyOnce: sink.messages === o.expected && sink.uniqueRecipients === o.expected && sink.uniqueMessageIds === o.expected,
    status,
    loadAverageAtStart,
    loadAverageAtEnd,
    window: { fromMs: t0, toMs: lastAt },
  };
}

const describe = (s: ListmonkSettings) =>
  `${s.concurrency} workers, message rate ${s.messageRate.toLocaleString('en-US')}/s per worker, batch ${s.batchSize.toLocaleString('en-US')}, ${s.maxConns} SMTP connections`;

/** listmonk with these settings on a fresh PostgreSQL, one campaign to `recipients`. */
async function runListmonk(binary: ListmonkBinary, tmp: string, sink: SmtpSink, label: string, settings: ListmonkSettings, recipients: number): Promise<RowResult> {
  const dir = path.join(tmp, label);
  process.stderr.write(`${label}: PostgreSQL, install, ${recipients.toLocaleString('en-US')} subscribers…\n`);
  const pg = await startEmbeddedPostgres({ dataDir: dir, port: await findFreePort(), database: 'listmonk', postgresFlags: benchPostgresFlags() });
  onCleanup(`stop ${label}'s PostgreSQL`, () => pg.stop());
  const listmonk = await startListmonk(binary, dir, {
    databaseUrl: pg.databaseUrl,
    smtpPort: sink.port,
    settings,
    recipients,
    subject: SUBJECT,
    html: LISTMONK_HTML,
    fromEmail: `Bench <${FROM}>`,
  });
  process.stderr.write(`${label}: sending…\n`);
  const measured = await measureCampaign({
    sink,
    expected: recipients,
    processes: { listmonk: listmonk.pid, PostgreSQL: await postmasterPid(path.join(dir, 'pg')) },
    start: () => listmonk.startCampaign(),
    status: () => listmonk.campaignStatus(),
    finished: (s) => ['finished', 'paused', 'cancelled'].includes(s),
  });
  return { system: 'listmonk', settings: `${label.replace('listmonk-', '')}: ${describe(settings)}`, ...measured };
}

/** What measureCampaign counts messages at: the SMTP sink, or the fake Resend. */
type MessageCounter = Pick<SmtpSink, 'stats' | 'reset'>;

/**
 * The fake Resend (in this process, so its CPU counts for no system) counted like the sink: accepted
 * emails, distinct recipients, and when the first and last arrived.
 */
function resendCounter(fake: FakeResend): MessageCounter {
  let firstAt: number | null = null;
  let lastAt: number | null = null;
  const recipients = new Set<string>();
  const push = fake.emails.push.bind(fake.emails);
  fake.emails.push = (...emails) => {
    const now = monotonicMs();
    firstAt ??= now;
    lastAt = now;
    for (const e of emails) recipients.add(String(Array.isArray(e.payload.to) ? e.payload.to[0] : e.payload.to).toLowerCase());
    return push(...emails);
  };
  return {
    async reset() {
      fake.reset();
      recipients.clear();
      firstAt = lastAt = null;
    },
    async stats() {
      const messages = fake.emails.length;
      // Resend has no Message-ID of ours: one email per recipient is what exactly once means here.
      return { messages, connections: 0, maxOpenConnections: 0, uniqueRecipients: recipients.size, uniqueMessageIds: recipients.size, withoutMessageId: 0, dataBytes: 0, firstAt, lastAt };
    },
  };
}

/**
 * Tidings (API and worker apart, Temporal dev server, PostgreSQL) with an smtp sending config to the
 * sink, or (`resend`) a Resend config to the bench's fake Resend, batch calls of 100.
 */
async function runTidings(tmp: string, sink: SmtpSink, recipients: number, provider: 'smtp' | 'resend' = 'smtp'): Promise<RowResult> {
  const dir = path.join(tmp, provider === 'smtp' ? 'tidings' : 'tidings-resend');
  process.stderr.write(`tidings: PostgreSQL, Temporal, ${recipients.toLocaleString('en-US')} contacts…\n`);
  const { pg, temporal, fake, apiPort } = await startManagedBenchServices(dir);
  const database = createDatabase(pg.databaseUrl, { max: 2 });
  onCleanup('close the Tidings pool', () => database.close());
  const { db } = database;
  await runMigrations(db);
  const { site } = await ensureDefaultSite(db);
  await ensureApiKey(db, site.id, API_KEY);
  const listId = await seedBenchList(db, site.id, { name: 'Everyone', count: recipients, prefix: 'reader', firstName: 'Reader' });
  await db.execute(sql`analyze`);

  const common = benchTidingsEnv({ databaseUrl: pg.databaseUrl, temporalAddress: temporal.address, fake, secret: SECRET, apiKey: API_KEY });
  const apiProc = startManagedRole('api', { ...common, PORT: String(apiPort), HOST: '127.0.0.1', TIDINGS_DATA_DIR: path.join(dir, 'api') });
  const profileDir = path.join(dir, 'worker-profile');
  const profiled = { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-interval=${PROFILE_INTERVAL_US}`] };
  const workerProc = startManagedRole('worker', { ...common, TIDINGS_DATA_DIR: path.join(dir, 'worker') }, PROFILE ? profiled : {});
  const base = `http://127.0.0.1:${apiPort}`;
  await waitForRole('API', apiProc, async () => (await fetch(`${base}/readyz`)).ok);
  await waitForRole('worker', workerProc, async () => workerProc.output().includes('Tidings is running'));
  const api = <T>(method: string, url: string, body?: unknown) => apiCall<T>(base, API_KEY, method, url, body);

  // The SMTP pool size is a credential field only from the commit that added it: sent when listed.
  const providers = await api<{ name: string; credentialFields: { name: string }[] }[]>('GET', '/providers');
  const poolField = providers.find((p) => p.name === 'smtp')?.credentialFields.some((f) => f.name === 'maxConnections') ?? false;
  const config = await api<{ id: number }>('POST', '/sending-configs', {
    name: provider === 'smtp' ? 'Sink' : 'Fake Resend',
    provider,
    fromEmail: FROM,
    fromName: 'Bench',
    credentials:
      provider === 'smtp'
        ? { host: '127.0.0.1', port: sink.port, secure: false, ...(poolField ? { maxConnections: TIDINGS_SMTP_CONNECTIONS } : {}) }
        : { apiKey: fake.apiKey },
    trackOpens: true,
    trackClicks: true,
  });
  process.stderr.write('tidings: sending…\n');
  let campaignId = 0;
  const measured = await measureCampaign({
    sink: provider === 'smtp' ? sink : resendCounter(fake),
    expected: recipients,
    processes: { API: apiProc.child.pid!, worker: workerProc.child.pid!, 'Temporal dev server': temporal.pid, PostgreSQL: await postmasterPid(path.join(dir, 'pg', 'pg')) },
    start: async () => {
      const created = await api<{ id: number }>('POST', '/campaigns', {
        name: 'Bench',
        listId,
        subject: SUBJECT,
        html: TIDINGS_HTML,
        sendingConfigId: config.id,
        scheduledAt: new Date().toISOString(),
      });
      campaignId = created.id;
    },
    status: async () => (await api<{ status: string }>('GET', `/campaigns/${campaignId}`)).status,
    finished: (s) => ['sent', 'failed', 'cancelled', 'paused'].includes(s),
  });
  const pool = poolField ? `${TIDINGS_SMTP_CONNECTIONS} SMTP connections` : 'SMTP pool at its default (no maxConnections credential yet)';
  const how = provider === 'smtp' ? `smtp sending config, ${pool}` : 'resend sending config to the local fake Resend (in the bench process, not counted), batch calls of 100';
  const settings = `${how}, no maxPerSecond, opens and clicks tracked${PROFILE ? ', worker under --cpu-prof' : ''}`;
  if (!PROFILE) return { system: 'Tidings', settings, ...measured };
  // The profile is written when the worker exits.
  const exited = new Promise((resolve) => workerProc.child.once('exit', resolve));
  workerProc.child.kill('SIGTERM');
  await exited;
  const profiles = (await loadProfiles(profileDir, CAMPAIGN_CPU_RULES)).filter((p) => p.pid === workerProc.child.pid);
  const workerCpu = campaignCpuSplit(profiles, measured.window.fromMs * 1000, measured.window.toMs * 1000);
  return { system: 'Tidings', settings, ...measured, workerCpu };
}

function printTable(rows: RowResult[]): void {
  const n = (v: number) => v.toLocaleString('en-US');
  const header = ['system', 'settings', 'recipients', 'emails/s (start → last)', 'emails/s (first → last)', 'first email', 'CPU ms / 1,000', 'SMTP connections', 'peak RSS (app)', 'peak RSS (PostgreSQL, summed)', 'delivered / unique'];
  const lines = rows.map((r) => [
    r.system,
    r.settings,
    n(r.recipients),
    n(r.emailsPerSecond),
    n(r.emailsPerSecondFirstToLast),
    `${n(r.firstEmailMs)} ms`,
    n(r.cpuMsPer1000),
    n(r.sink.connections),
    `${n(Math.round(r.appPeakRssMb))} MB`,
    `${n(Math.round(r.postgresPeakRssMb))} MB`,
    `${n(r.sink.messages)} / ${n(r.sink.uniqueRecipients)} / ${n(r.sink.uniqueMessageIds)}${r.exactlyOnce ? '' : ' (NOT exactly once)'}`,
  ]);
  console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => ' --- |').join('')}`);
  for (const l of lines) console.log(`| ${l.join(' | ')} |`);
  console.log('\nCPU ms per 1,000 emails and peak RSS (MB) by process:');
  for (const r of rows) {
    const parts = Object.keys(r.cpuMsPer1000ByProcess).map((p) => `${p} ${r.cpuMsPer1000ByProcess[p]} ms, ${r.peakRssMbByProcess[p]} MB`);
    console.log(`  ${r.system} (${r.settings.split(':')[0]}): ${parts.join('; ')}; load ${r.loadAverageAtStart[0]} → ${r.loadAverageAtEnd[0]}`);
  }
  for (const r of rows.filter((row) => row.workerCpu)) {
    const split = r.workerCpu!;
    console.log(`\nTidings worker CPU from the campaign's start to its last email (--cpu-prof, ${n(Math.round(split.busyMs))} ms busy):`);
    console.log('| part | ms | share | µs per email |\n| --- | ---: | ---: | ---: |');
    for (const p of split.parts) console.log(`| ${p.label} | ${n(Math.round(p.ms))} | ${Math.round(p.share * 100)}% | ${n(Math.round((p.ms * 1000) / r.sink.messages))} |`);
    console.log('\nTop functions by self time:');
    for (const f of split.topFrames) console.log(`  ${Math.round(f.ms)} ms  ${f.bucket}  ${f.frame}`);
  }
}

async function main() {
  const machine = machineInfo();
  const unknown = SYSTEMS.filter((s) => !['listmonk-default', 'listmonk-tuned', 'tidings', 'tidings-resend'].includes(s));
  if (unknown.length) throw new Error(`unknown SYSTEMS ${unknown.join(', ')}: use listmonk-default, listmonk-tuned, tidings, tidings-resend`);
  const binary = listmonkBinary();
  if (binary) process.stderr.write(`listmonk: ${binary.bin} — ${binary.version}\n`);
  else process.stderr.write(`${LISTMONK_HOWTO}\n`);
  const systems = SYSTEMS.filter((s) => binary || s.startsWith('tidings'));

  const tmp = await tempDir('listmonk');
  const sink = await startSmtpSink();
  const ceiling = await measureSinkCeiling(sink, SINK_CEILING);
  process.stderr.write(
    `SMTP sink ceiling: ${ceiling.messagesPerSecond.toLocaleString('en-US')} messages/s over ${ceiling.connections} connections, ` +
      `the sink at ${ceiling.sinkCpuPercentOfOneCore}% of one core (the load generator shares the machine); ` +
      `${ceiling.messagesPerSecondOnOneCore.toLocaleString('en-US')} messages/s with a core of its own\n`,
  );

  const rows: RowResult[] = [];
  for (const system of systems) {
    rows.push(
      await withCleanupScope(() =>
        system === 'tidings' || system === 'tidings-resend'
          ? runTidings(tmp, sink, RECIPIENTS, system === 'tidings' ? 'smtp' : 'resend')
          : system === 'listmonk-default'
            ? runListmonk(binary!, tmp, sink, system, LISTMONK_DEFAULTS, LISTMONK_DEFAULT_RECIPIENTS)
            : runListmonk(binary!, tmp, sink, system, LISTMONK_TUNED, RECIPIENTS),
      ),
    );
    process.stderr.write(`${system}: ${JSON.stringify(rows.at(-1))}\n`);
  }
  printTable(rows);

  const key = (r: RowResult) => (r.system === 'Tidings' ? (r.settings.startsWith('resend') ? 'tidings_resend' : 'tidings') : `listmonk_${r.settings.split(':')[0]}`);
  const figures: Figure[] = [
    { key: 'sink_ceiling_per_s', label: `SMTP sink ceiling (${ceiling.connections} raw SMTP clients, ~2 KB messages, no pipelining)`, value: ceiling.messagesPerSecond, unit: 'messages/s' },
    { key: 'sink_ceiling_one_core_per_s', label: 'SMTP sink ceiling with a core of its own (from its CPU per message)', value: ceiling.messagesPerSecondOnOneCore, unit: 'messages/s' },
  ];
  for (const r of rows) {
    const name = `${r.system}${r.system === 'listmonk' ? ` ${r.settings.split(':')[0]}` : ''}, ${r.recipients.toLocaleString('en-US')} recipients`;
    const at = { loadAverage: r.loadAverageAtStart };
    figures.push(
      { key: `${key(r)}.emails_per_s`, label: `${name}: emails/s (campaign start → last email)`, value: r.emailsPerSecond, unit: 'emails/s', ...at },
      { key: `${key(r)}.first_email_ms`, label: `${name}: time to first email`, value: r.firstEmailMs, unit: 'ms', ...at },
      { key: `${key(r)}.cpu_ms_per_1000`, label: `${name}: CPU per 1,000 emails, every process of the system`, value: r.cpuMsPer1000, unit: 'ms', ...at },
      { key: `${key(r)}.smtp_connections`, label: `${name}: SMTP connections opened`, value: r.sink.connections, unit: 'connections', ...at },
      { key: `${key(r)}.app_peak_rss_mb`, label: `${name}: peak RSS of the system's processes but PostgreSQL`, value: r.appPeakRssMb, unit: 'MB', ...at },
      ...(r.workerCpu?.parts ?? []).map((p) => ({
        key: `${key(r)}.worker_cpu.${p.part}_us_per_email`,
        label: `${name}: worker CPU per email, ${p.label} (under --cpu-prof)`,
        value: Math.round((p.ms * 1000) / r.sink.messages),
        unit: 'µs',
        ...at,
      })),
      { key: `${key(r)}.exactly_once`, label: `${name}: every recipient got exactly one email (delivered = unique recipients = unique Message-IDs)`, value: r.exactlyOnce ? 1 : 0, unit: 'yes = 1', ...at },
    );
  }
  await writeResult({
    // A profiled run goes to a file of its own, so the comparison table keeps the run without a profiler.
    bench: process.env.BENCH_RESULT ?? (PROFILE ? 'listmonk-profile' : 'listmonk'),
    machine,
    command: 'LISTMONK_BIN=/path/to/listmonk npm run bench:listmonk',
    parameters: {
      setup: `one system at a time, each on its own fresh embedded PostgreSQL (${benchPgFsync}); one SMTP sink process on loopback (not counted in either system)`,
      listmonk: binary ? { version: binary.version, defaults: LISTMONK_DEFAULTS, tuned: LISTMONK_TUNED } : 'not run (no LISTMONK_BIN)',
      recipients: RECIPIENTS,
      listmonkDefaultRecipients: LISTMONK_DEFAULT_RECIPIENTS,
      systems,
      sinkCeiling: ceiling,
      htmlBytes: { listmonkSource: LISTMONK_HTML.length, tidingsSource: TIDINGS_HTML.length },
    },
    figures,
    details: { rows },
  });
  const failed = rows.filter((r) => !r.exactlyOnce);
  if (failed.length) throw new Error(`not exactly once: ${failed.map((r) => `${r.system} ${r.settings}`).join('; ')}`);
}

await runBench('bench:listmonk', main, { timeoutMs: 90 * 60_000 });
