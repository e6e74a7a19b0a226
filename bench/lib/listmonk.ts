import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { findFreePort } from '../../src/embedded/ports.js';
import { sleep } from './proc.js';
import { benchAborted, onCleanup } from './run.js';
import { stopOnCleanup } from './services.js';

/*
 * listmonk (https://listmonk.app) driven from outside, for bench/listmonk.ts. This file only runs a
 * listmonk binary the user supplies (LISTMONK_BIN: a release binary from listmonk's GitHub releases,
 * or their own build); it never fetches or builds listmonk. Everything is set up the way an operator
 * would: `--install`, the settings table, then a list, subscribers and a campaign, all in its own
 * PostgreSQL database.
 */

/** listmonk's campaign settings that the bench varies (the `app.*` and `smtp` rows of its settings table). */
export interface ListmonkSettings {
  /** app.concurrency: campaign worker goroutines. */
  concurrency: number;
  /** app.message_rate: per worker, messages before it sleeps a second. */
  messageRate: number;
  /** app.batch_size: subscribers fetched from the database per query. */
  batchSize: number;
  /** smtp[0].max_conns: the SMTP pool size. */
  maxConns: number;
}

/** v6.2.0's defaults, from its schema.sql settings rows (app.concurrency 10, app.message_rate 10, app.batch_size 1000, smtp max_conns 10). */
export const LISTMONK_DEFAULTS: ListmonkSettings = { concurrency: 10, messageRate: 10, batchSize: 1000, maxConns: 10 };

/**
 * A tuned setup: twice the workers and connections, 10× the batch, and a message rate no worker
 * reaches (each worker sleeps a second after `messageRate` messages; 100,000 over 20 workers is
 * 5,000 each). listmonk sizes its message queue as concurrency × rate × 2, so the rate is not
 * raised further than that needs.
 */
export const LISTMONK_TUNED: ListmonkSettings = { concurrency: 20, messageRate: 10_000, batchSize: 10_000, maxConns: 20 };

export interface ListmonkBinary {
  bin: string;
  /** Working directory: a plain `go build` finds its assets (queries, schema, i18n, static, frontend/dist) relative to it. */
  dir: string;
  /** What `listmonk --version` printed. */
  version: string;
}

/** The listmonk binary named by LISTMONK_BIN (and LISTMONK_DIR), or null when none is set. */
export function listmonkBinary(): ListmonkBinary | null {
  const bin = process.env.LISTMONK_BIN;
  if (!bin) return null;
  const dir = path.resolve(process.env.LISTMONK_DIR ?? path.dirname(bin));
  const version = execFileSync(path.resolve(bin), ['--version'], { cwd: dir, encoding: 'utf8', env: listmonkEnv() }).trim();
  return { bin: path.resolve(bin), dir, version: version || '(a build without a version string)' };
}

/** What to tell a user who did not set LISTMONK_BIN. */
export const LISTMONK_HOWTO = [
  'LISTMONK_BIN is not set: running the Tidings side only.',
  'To compare with listmonk, download a release binary of listmonk v6.2.0 for your platform from',
  "listmonk's GitHub releases (github.com/knadh/listmonk/releases: listmonk_6.2.0_linux_amd64.tar.gz), unpack it",
  'and run again with LISTMONK_BIN=/path/to/listmonk. A binary you built yourself works too: if it does not embed',
  'its assets, set LISTMONK_DIR to the source directory it reads them from.',
].join('\n');

/** Our environment without LISTMONK_* (listmonk reads every such variable as configuration). */
function listmonkEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LISTMONK_')));
}

/** Connection settings of the PostgreSQL database listmonk uses. */
function dbConfig(databaseUrl: string) {
  const url = new URL(databaseUrl);
  return {
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
  };
}

export interface ListmonkCampaignInput {
  databaseUrl: string;
  smtpPort: number;
  settings: ListmonkSettings;
  recipients: number;
  subject: string;
  /** The campaign body in listmonk's template language. */
  html: string;
  fromEmail: string;
}

export interface ListmonkProcess {
  child: ChildProcess;
  pid: number;
  output: () => string;
  /** Marks the campaign running, as the dashboard's Start button does; listmonk's scanner picks it up within 5 s. */
  startCampaign(): Promise<void>;
  campaignStatus(): Promise<string>;
}

/**
 * Installs listmonk's schema into the database, writes its settings (SMTP to the sink on loopback, no
 * update checks), loads `recipients` subscribers into one list (set-based, not timed) and a draft
 * campaign to it on a bare template, then starts listmonk on a free loopback port. Stopped by the
 * run's cleanup.
 */
export async function startListmonk(binary: ListmonkBinary, workDir: string, input: ListmonkCampaignInput): Promise<ListmonkProcess> {
  const db = dbConfig(input.databaseUrl);
  const port = await findFreePort();
  const config = path.join(workDir, 'config.toml');
  await writeFile(
    config,
    [
      '[app]',
      `address = "127.0.0.1:${port}"`,
      '[db]',
      `host = "${db.host}"`,
      `port = ${db.port}`,
      `user = "${db.user}"`,
      `password = "${db.password}"`,
      `database = "${db.database}"`,
      'ssl_mode = "disable"',
      // config.toml.sample's pool.
      'max_open = 25',
      'max_idle = 25',
      'max_lifetime = "300s"',
      '',
    ].join('\n'),
  );
  const run = (args: string[]) => execFileSync(binary.bin, ['--config', config, ...args], { cwd: binary.dir, env: listmonkEnv(), encoding: 'utf8', stdio: 'pipe' });
  run(['--install', '--idempotent', '--yes']);

  const client = new pg.Client({ connectionString: input.databaseUrl });
  await client.connect();
  onCleanup('close the listmonk database client', () => client.end());
  const campaignId = await seed(client, port, input);

  let output = '';
  const child = spawn(binary.bin, ['--config', config], { cwd: binary.dir, env: listmonkEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  stopOnCleanup('stop listmonk', child);
  const deadline = Date.now() + 60_000;
  while (!(await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status < 500, () => false))) {
    benchAborted.throwIfAborted();
    if (child.exitCode !== null) throw new Error(`listmonk exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`listmonk did not answer on port ${port}:\n${output}`);
    await sleep(200);
  }

  return {
    child,
    pid: child.pid!,
    output: () => output,
    async startCampaign() {
      await client.query(`update campaigns set status = 'running', updated_at = now() where id = $1`, [campaignId]);
    },
    async campaignStatus() {
      return (await client.query<{ status: string }>('select status from campaigns where id = $1', [campaignId])).rows[0]!.status;
    },
  };
}

/** Settings, subscribers, list, template and draft campaign; answers the campaign's id. */
async function seed(client: pg.Client, port: number, input: ListmonkCampaignInput): Promise<number> {
  const s = input.settings;
  const smtp = [
    {
      enabled: true,
      host: '127.0.0.1',
      port: input.smtpPort,
      auth_protocol: 'none',
      username: '',
      password: '',
      hello_hostname: '',
      max_conns: s.maxConns,
      // The rest as in v6.2.0's default SMTP row.
      idle_timeout: '15s',
      wait_timeout: '5s',
      max_msg_retries: 2,
      msg_retry_delay: '10ms',
      tls_type: 'none',
      tls_skip_verify: false,
      email_headers: [],
      from_addresses: [],
    },
  ];
  const settings: Record<string, unknown> = {
    'app.root_url': `http://127.0.0.1:${port}`,
    'app.from_email': input.fromEmail,
    // No calls out of the machine.
    'app.check_updates': false,
    'app.concurrency': s.concurrency,
    'app.message_rate': s.messageRate,
    'app.batch_size': s.batchSize,
    smtp,
  };
  for (const [key, value] of Object.entries(settings)) {
    await client.query('update settings set value = $2::jsonb, updated_at = now() where key = $1', [key, JSON.stringify(value)]);
  }

  const list = await client.query<{ id: number }>(
    `insert into lists (uuid, name, type, optin) values (gen_random_uuid(), 'Everyone', 'private', 'single') returning id`,
  );
  const listId = list.rows[0]!.id;
  await client.query(
    `insert into subscribers (uuid, email, name, status)
     select gen_random_uuid(), 'reader' || g || '@example.com', 'Reader ' || g, 'enabled' from generate_series(1, $1::int) g`,
    [input.recipients],
  );
  await client.query(
    `insert into subscriber_lists (subscriber_id, list_id, status)
     select id, $1, 'confirmed' from subscribers where email like 'reader%@example.com'`,
    [listId],
  );
  // The body alone, as Tidings sends it: the default template would wrap it in listmonk's own layout.
  const template = await client.query<{ id: number }>(
    `insert into templates (name, type, subject, body, is_default) values ('Bare', 'campaign', '', '{{ template "content" . }}', false) returning id`,
  );
  const campaign = await client.query<{ id: number }>(
    `insert into campaigns (uuid, name, subject, from_email, body, content_type, type, status, messenger, template_id)
     values (gen_random_uuid(), 'Bench', $1, $2, $3, 'html', 'regular', 'draft', 'email', $4) returning id`,
    [input.subject, input.fromEmail, input.html, template.rows[0]!.id],
  );
  const campaignId = campaign.rows[0]!.id;
  await client.query(`insert into campaign_lists (campaign_id, list_id, list_name) values ($1, $2, 'Everyone')`, [campaignId, listId]);
  await client.query('analyze');
  return campaignId;
}
