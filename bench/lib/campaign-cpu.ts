import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { summarizeWindow, type BucketRules, type ThreadProfile } from './cpu-profile.js';

/**
 * Where a campaign's worker CPU goes, in the parts issue #18 names: rendering, tracking-link rewriting,
 * MIME building, provider I/O, PostgreSQL bookkeeping and Temporal. Rules match a frame's script
 * (first match wins); Node's own modules and native code count for their nearest caller that matches
 * (see bench/lib/cpu-profile.ts), so a socket write of the SMTP client is provider I/O and one of the pg
 * driver is PostgreSQL.
 */
export const CAMPAIGN_CPU_PARTS = [
  ['rendering', 'rendering (liquidjs, html-to-text, the render and copy code)'],
  ['tracking', 'tracking links (link tokens and signing, HTML parsing for links)'],
  ['mime', 'MIME building (the message bytes, header encoding, quoted-printable)'],
  ['provider_io', 'provider I/O (SMTP client and pool, Resend SDK and HTTP, sockets)'],
  ['postgres', 'PostgreSQL bookkeeping (pg driver, drizzle, the repositories)'],
  ['temporal', 'Temporal (SDK, workflow sandbox, payloads and protobuf)'],
  ['tidings', 'Tidings code (the campaign activity, the rest of src)'],
  ['gc', 'garbage collection'],
  ['other', 'everything else (logging, module loading, Node with no caller above)'],
] as const;
export type CampaignCpuPart = (typeof CAMPAIGN_CPU_PARTS)[number][0];

const repo = `${pathToFileURL(REPO_ROOT).href}/`;
const ours = (files: string) => new RegExp(`^${repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(${files})$`);
const pkg = (names: string) => new RegExp(`/node_modules/(${names})/`);
const nodemailer = (dirs: string) => new RegExp(`/node_modules/nodemailer/dist/(cjs|esm)/(${dirs})/`);

export const CAMPAIGN_CPU_RULES: BucketRules<CampaignCpuPart> = [
  ['temporal', (url) => pkg('@temporalio/[^/]+|protobufjs|@protobufjs/[^/]+|long|@grpc/[^/]+|nexus-rpc|heap-js|rxjs|ms').test(url) || /workflow-bundle|^evalmachine/.test(url)],
  ['mime', (url) => ours('src/mail/mime\\.ts').test(url) || nodemailer('mime-funcs|qp|mime-node|mail-composer|addressparser|punycode|base64').test(url)],
  ['provider_io', (url) => ours('src/mail/(smtp|smtp-pool|resend)\\.ts').test(url) || nodemailer('smtp-connection|smtp-pool|smtp-transport|mailer|shared').test(url) || pkg('resend|undici').test(url)],
  ['postgres', (url) => ours('src/db/.*').test(url) || pkg('pg|pg-[a-z-]+|postgres-[a-z-]+|pgpass|split2|drizzle-orm').test(url)],
  ['tracking', (url) => ours('src/mail/links\\.ts|src/crypto/signing\\.ts').test(url) || pkg('htmlparser2|entities').test(url)],
  ['rendering', (url) => ours('src/mail/(render|compose|campaign-copy)\\.ts').test(url) || pkg('liquidjs|html-to-text|selderee|@selderee/[^/]+|parseley|leac|peberminta|deepmerge|domhandler|domutils|dom-serializer|domelementtype').test(url)],
  ['tidings', (url) => ours('(src|activities|workflows)/.*').test(url)],
];

export interface CampaignCpuSplit {
  busyMs: number;
  parts: { part: CampaignCpuPart; label: string; ms: number; share: number }[];
  topFrames: { frame: string; bucket: string; ms: number }[];
}

/** The worker's busy time in [fromUs, toUs) (monotonic µs, the profiles' clock), by part. */
export function campaignCpuSplit(profiles: readonly ThreadProfile[], fromUs: number, toUs: number): CampaignCpuSplit {
  const window = summarizeWindow(profiles, fromUs, toUs, 20);
  const byBucket = window.byBucket as Record<string, number>;
  const partOf = (bucket: string): CampaignCpuPart => (CAMPAIGN_CPU_PARTS.some(([p]) => p === bucket) ? (bucket as CampaignCpuPart) : 'other');
  const ms = new Map<CampaignCpuPart, number>();
  for (const [bucket, value] of Object.entries(byBucket)) ms.set(partOf(bucket), (ms.get(partOf(bucket)) ?? 0) + value);
  return {
    busyMs: window.busyMs,
    parts: CAMPAIGN_CPU_PARTS.map(([part, label]) => ({ part, label, ms: ms.get(part) ?? 0, share: window.busyMs ? (ms.get(part) ?? 0) / window.busyMs : 0 })),
    topFrames: window.topFrames,
  };
}
