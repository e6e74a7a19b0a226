import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../src/embedded/tools.js';

/**
 * Reading the `.cpuprofile` files that `node --cpu-prof` writes when a process (or one of its worker
 * threads) exits, and cutting them into time windows and buckets of code.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The V8 CPU profile format (Chrome DevTools protocol `Profiler.Profile`); times in microseconds. */
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One thread's profile: `CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile`, thread 0 being the main thread. */
export interface ThreadProfile {
  file: string;
  pid: number;
  threadId: number;
  /** Monotonic clock (CLOCK_MONOTONIC, as process.hrtime) in microseconds, like `sampleAt`. */
  startUs: number;
  endUs: number;
  /** Per sample: when it was taken, how long it stands for (the gap to the next one) and its bucket. */
  sampleAt: Float64Array;
  sampleUs: Float64Array;
  sampleBucket: string[];
  sampleFrame: string[];
}

/** Where a sample's own (self) time goes. `idle` is the thread waiting for work and is not CPU. */
export const CPU_BUCKETS = [
  'temporal_sdk',
  'workflow_sandbox',
  'pg_drizzle',
  'rendering',
  'http',
  'serialization',
  'validation',
  'logging',
  'tidings_code',
  'node_internals',
  'gc',
  'program',
  'other',
] as const;
export type CpuBucket = (typeof CPU_BUCKETS)[number];

export const BUCKET_LABELS: Record<CpuBucket, string> = {
  temporal_sdk: 'Temporal SDK in JS (worker, client, grpc-js, calls into the core bridge)',
  workflow_sandbox: 'workflow sandbox (vm contexts, the workflow bundle, the SDK\'s vm glue)',
  pg_drizzle: 'pg driver + drizzle',
  rendering: 'rendering (liquidjs, html-to-text, htmlparser2)',
  http: 'HTTP (express, node:http, fetch/undici, the Resend SDK)',
  serialization: 'JSON / protobuf serialization',
  validation: 'validation (zod)',
  logging: 'logging (pino)',
  tidings_code: 'Tidings code (src, activities)',
  node_internals: 'Node internals with no library caller (event loop, timers, microtasks)',
  gc: 'garbage collection',
  program: 'native, outside JS (program)',
  other: 'other',
};

const REPO_URL = `${pathToFileURL(REPO_ROOT).href}/`;

const pkg = (names: string) => new RegExp(`/node_modules/(${names})/`);
/** Buckets of code by script URL, first match wins; Node's own modules and native code are not here (see bucketOf). */
/** Buckets by script URL, first match wins (see bucketsOf for what has no URL). */
export type BucketRules<B extends string> = [B, (url: string) => boolean][];

const RULES: BucketRules<CpuBucket> = [
  // The workflow bundle runs in a vm context under its own file name, driven by the SDK's vm glue.
  ['workflow_sandbox', (url) => /workflow-bundle|^evalmachine|^node:vm$/.test(url) || /\/@temporalio\/worker\/lib\/workflow\//.test(url)],
  ['serialization', (url) => pkg('protobufjs|@protobufjs/[^/]+|long|@temporalio/proto').test(url) || /\/@temporalio\/common\/lib\/converter\//.test(url)],
  ['temporal_sdk', (url) => pkg('@temporalio/[^/]+|nexus-rpc|@grpc/[^/]+|rxjs|abort-controller|ms|heap-js').test(url)],
  ['pg_drizzle', (url) => pkg('pg|pg-[a-z-]+|postgres-[a-z-]+|pgpass|split2|drizzle-orm').test(url)],
  [
    'rendering',
    (url) =>
      pkg('liquidjs|html-to-text|htmlparser2|domhandler|domutils|dom-serializer|domelementtype|entities|selderee|@selderee/[^/]+|parseley|leac|peberminta|deepmerge').test(url) ||
      /\/src\/mail\/(render|compose|links)\.ts$/.test(url),
  ],
  [
    'http',
    (url) =>
      pkg(
        'express|router|body-parser|raw-body|finalhandler|send|serve-static|on-finished|content-type|type-is|accepts|negotiator|mime-types|mime-db|qs|cookie|iconv-lite|path-to-regexp|depd|http-errors|statuses|encodeurl|escape-html|etag|fresh|range-parser|vary|proxy-addr|forwarded|ipaddr\\.js|parseurl|media-typer|content-disposition|resend|svix|undici|isbot|swagger-ui-dist',
      ).test(url) || /^node:(_http_[a-z_]+|http|https|internal\/http[^/]*|internal\/deps\/undici\/undici)$/.test(url),
  ],
  ['validation', (url) => pkg('zod|@asteasolutions/[^/]+').test(url)],
  ['logging', (url) => pkg('pino|pino-[a-z-]+|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|on-exit-leak-free|atomic-sleep|safe-stable-stringify|real-require').test(url)],
  ['tidings_code', (url) => /^file:\/\/.*\/(src|activities|workflows)\//.test(url) && !url.includes('/node_modules/')],
  ['node_internals', (url) => pkg('tsx|get-tsconfig|esbuild').test(url)],
];

/**
 * The bucket of a profile node's self time. V8's pseudo-frames are buckets of their own; JSON.parse and
 * JSON.stringify are serialization wherever they are called from. Any other native function (a socket
 * write, postMessage, vm's runInContext) and any frame of Node's own modules (streams, timers, net,
 * buffers) counts for its nearest caller in a library or in Tidings' code, so a socket write of the pg
 * driver is pg's cost and one of an HTTP response is HTTP's; with no such caller it is Node's.
 */
function bucketsOf<B extends string>(profile: CpuProfile, rules: BucketRules<B>): Map<number, B | 'gc' | 'program' | 'serialization' | 'node_internals' | 'other' | 'idle'> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  type Bucket = B | 'gc' | 'program' | 'serialization' | 'node_internals' | 'other' | 'idle';
  const own = (frame: CallFrame): Bucket | null => {
    switch (frame.functionName) {
      case '(idle)':
        return 'idle';
      case '(garbage collector)':
        return 'gc';
      case '(program)':
        return 'program';
      case '(root)':
        return null;
    }
    if (frame.url === '') return /^(parse|stringify)$/.test(frame.functionName) ? 'serialization' : null;
    for (const [bucket, test] of rules) if (test(frame.url)) return bucket;
    return frame.url.startsWith('node:') ? null : 'other';
  };
  const memo = new Map<number, Bucket>();
  const resolve = (id: number): Bucket => {
    const known = memo.get(id);
    if (known) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const bucket = (node && own(node.callFrame)) ?? (up === undefined ? 'node_internals' : resolve(up));
    memo.set(id, bucket);
    return bucket;
  };
  for (const node of profile.nodes) resolve(node.id);
  return memo;
}

/** `fn package/file.js:line`, with paths relative to node_modules or the repository (never this machine's). */
function frameName(frame: CallFrame): string {
  let where = frame.url;
  if (where.includes('/node_modules/')) where = where.slice(where.lastIndexOf('/node_modules/') + '/node_modules/'.length);
  else if (where.startsWith(REPO_URL)) where = where.slice(REPO_URL.length);
  else if (where.startsWith('file://')) where = path.basename(where);
  return `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`.trim();
}

/** Loads every profile in `dir` (one per thread that exited cleanly). */
export async function loadProfiles(dir: string, rules: BucketRules<string> = RULES): Promise<ThreadProfile[]> {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.cpuprofile')).sort();
  const profiles: ThreadProfile[] = [];
  for (const file of files) {
    const [, pid, threadId] = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(file) ?? [];
    const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const buckets = bucketsOf(profile, rules);
    const n = profile.samples.length;
    const sampleAt = new Float64Array(n);
    const sampleUs = new Float64Array(n);
    let t = profile.startTime;
    for (let i = 0; i < n; i++) {
      t += profile.timeDeltas[i] ?? 0;
      sampleAt[i] = t;
    }
    for (let i = 0; i < n; i++) sampleUs[i] = i + 1 < n ? sampleAt[i + 1]! - sampleAt[i]! : Math.max(0, profile.endTime - sampleAt[i]!);
    const frames = profile.samples.map((id) => byId.get(id) ?? { functionName: '(unknown)', url: '', lineNumber: 0 });
    profiles.push({
      file,
      pid: Number(pid ?? 0),
      threadId: Number(threadId ?? 0),
      startUs: profile.startTime,
      endUs: profile.endTime,
      sampleAt,
      sampleUs,
      sampleBucket: profile.samples.map((id) => buckets.get(id) ?? 'other'),
      sampleFrame: frames.map(frameName),
    });
  }
  return profiles;
}

export interface WindowSummary {
  /** Sampled milliseconds that were not idle: the thread ran JS, GC or native code (or was descheduled). */
  busyMs: number;
  idleMs: number;
  byBucket: Record<CpuBucket, number>;
  /** The functions with the most self time, for whoever wants to know what "other" is. */
  topFrames: { frame: string; bucket: string; ms: number }[];
}

/** Self time by bucket of the samples taken in [fromUs, toUs) (monotonic microseconds) over the given threads. */
export function summarizeWindow(profiles: readonly ThreadProfile[], fromUs: number, toUs: number, top = 15): WindowSummary {
  const byBucket = Object.fromEntries(CPU_BUCKETS.map((b) => [b, 0])) as Record<CpuBucket, number>;
  const byFrame = new Map<string, { bucket: string; us: number }>();
  let busyUs = 0;
  let idleUs = 0;
  for (const p of profiles) {
    for (let i = 0; i < p.sampleAt.length; i++) {
      const at = p.sampleAt[i]!;
      if (at < fromUs || at >= toUs) continue;
      const us = p.sampleUs[i]!;
      const bucket = p.sampleBucket[i]!;
      if (bucket === 'idle') {
        idleUs += us;
        continue;
      }
      busyUs += us;
      // Buckets of another rule set (loadProfiles' rules) are added as they come.
      const all = byBucket as Record<string, number>;
      all[bucket] = (all[bucket] ?? 0) + us;
      const key = p.sampleFrame[i]!;
      const entry = byFrame.get(key) ?? { bucket, us: 0 };
      entry.us += us;
      byFrame.set(key, entry);
    }
  }
  for (const b of Object.keys(byBucket) as CpuBucket[]) byBucket[b] /= 1000;
  const topFrames = [...byFrame]
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, top)
    .map(([frame, { bucket, us }]) => ({ frame, bucket, ms: us / 1000 }));
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, byBucket, topFrames };
}
