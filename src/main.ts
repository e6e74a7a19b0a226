/**
 * `npm start`: the whole product in one process. Embedded PostgreSQL and Temporal dev server unless
 * DATABASE_URL / TEMPORAL_ADDRESS point elsewhere, then migrations, the default site and its first
 * key, and the roles asked for by TIDINGS_ROLE (worker, API, or both). Ctrl-C stops everything in
 * reverse order; a second Ctrl-C stops at once.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { createApiKey, ensureApiKey, listApiKeys } from './db/repositories/api-keys.js';
import { ensureLogSendingConfig } from './db/repositories/sending-configs.js';
import { createSetupToken } from './db/repositories/setup-tokens.js';
import { ensureDefaultSite } from './db/repositories/sites.js';
import { countUsers } from './db/repositories/users.js';
import { createSecretBox } from './crypto/secret-box.js';
import { StartupError } from './embedded/errors.js';
import { startEmbeddedPostgres } from './embedded/postgres.js';
import { readRuntimeInfo, removeRuntimeInfo, writeRuntimeInfo } from './embedded/runtime.js';
import { startEmbeddedTemporal } from './embedded/temporal.js';
import type { startApi as StartApi } from './server.js';
import { createLinks } from './mail/links.js';
import { setupUrl } from './services/users.js';
import { createLogger, type Logger } from './logger.js';
import { connectTemporal, registerSearchAttributes } from './temporal/client.js';
import { ensureOutboxRelays } from './temporal/relays.js';

type Stop = { name: string; stop: () => Promise<void> };

/** Things started so far, stopped in reverse order on shutdown. */
class Lifecycle {
  private readonly stops: Stop[] = [];
  stopping = false;

  constructor(private readonly logger: Logger) {}

  add(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
    // Started while we were already shutting down (Ctrl-C during start-up): stop it right away.
    if (this.stopping) void this.stopAll();
  }

  private running: Promise<void> | undefined;
  stopAll(): Promise<void> {
    this.stopping = true;
    this.running = (this.running ?? Promise.resolve()).then(async () => {
      while (this.stops.length > 0) {
        const { name, stop } = this.stops.pop()!;
        try {
          await stop();
          this.logger.debug({ component: name }, 'stopped');
        } catch (err) {
          this.logger.warn({ component: name, err }, 'failed to stop cleanly');
        }
      }
    });
    return this.running;
  }
}

/** TIDINGS_SECRET for embedded mode: generated once into the data dir, reused on every start. */
async function loadOrCreateSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'secret');
  try {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = (await readFile(file, 'utf8')).trim();
  if (secret.length < 32) throw new StartupError(`${file} holds a secret shorter than 32 characters: delete it or set TIDINGS_SECRET`);
  return secret;
}

async function start(config: Config, logger: Logger, life: Lifecycle): Promise<void> {
  const { dataDir } = config;
  const embedDb = !config.DATABASE_URL;
  const embedTemporal = !config.TEMPORAL_ADDRESS;
  await mkdir(dataDir, { recursive: true });
  if (embedDb || embedTemporal) {
    const other = await readRuntimeInfo(dataDir);
    if (other && other.pid !== process.pid) {
      throw new StartupError(
        `Tidings is already running on ${dataDir} (pid ${other.pid}): stop it first, or set TIDINGS_DATA_DIR to another directory`,
      );
    }
  }
  config.TIDINGS_SECRET ??= await loadOrCreateSecret(dataDir);
  // Tracking and unsubscribe links point here; unset, at this process's own API (fine on one machine;
  // loadConfig refuses production without it).
  config.PUBLIC_URL ??= `http://localhost:${config.PORT}`;

  // PostgreSQL and Temporal do not depend on each other: start them side by side.
  const [pgResult, temporalResult] = await Promise.allSettled([
    embedDb
      ? startEmbeddedPostgres({
          dataDir,
          port: config.TIDINGS_PG_PORT,
          log: (msg) => logger.info({ component: 'postgres' }, msg),
        }).then((pg) => {
          life.add('postgres', pg.stop);
          return pg.databaseUrl;
        })
      : Promise.resolve(config.DATABASE_URL!),
    embedTemporal
      ? startEmbeddedTemporal({
          dataDir,
          port: config.TEMPORAL_PORT,
          uiPort: config.TEMPORAL_UI_PORT,
          namespace: config.TEMPORAL_NAMESPACE,
          cliPath: config.TEMPORAL_CLI_PATH,
          log: (msg) => logger.info({ component: 'temporal' }, msg),
        }).then((temporal) => {
          life.add('temporal dev server', temporal.stop);
          return temporal;
        })
      : Promise.resolve(null),
  ]);
  if (pgResult.status === 'rejected') throw pgResult.reason;
  if (temporalResult.status === 'rejected') throw temporalResult.reason;
  if (life.stopping) return;
  const embeddedTemporal = temporalResult.value;
  config.DATABASE_URL = pgResult.value;
  config.TEMPORAL_ADDRESS = embeddedTemporal?.address ?? config.TEMPORAL_ADDRESS!;
  config.TEMPORAL_UI_URL ??= embeddedTemporal?.uiUrl ?? undefined;

  const database = createDatabase(config.DATABASE_URL);
  life.add('database pool', database.close);
  await runMigrations(database.db);
  const { site, created } = await ensureDefaultSite(database.db);
  let newKey: string | null = null;
  if (config.TIDINGS_API_KEY) {
    const ensured = await ensureApiKey(database.db, site.id, config.TIDINGS_API_KEY).catch((err: Error) => {
      throw new StartupError(`TIDINGS_API_KEY: ${err.message}`);
    });
    if (ensured.apiKey.revokedAt) logger.warn('TIDINGS_API_KEY has been revoked: requests with it get 401; set a new key');
  } else if (created || (await listApiKeys(database.db, site.id)).length === 0) {
    // First start (or a first start that died before minting its key): the user needs one key.
    newKey = (await createApiKey(database.db, { siteId: site.id, name: 'first key' })).key;
  }
  // The dashboard needs a first owner. While the site has none, each API start prints a fresh one-time
  // sign-up link and voids the earlier ones, so only the link last printed works (a worker prints none).
  const firstOwnerUrl =
    config.TIDINGS_ROLE !== 'worker' && (await countUsers(database.db, site.id)) === 0
      ? setupUrl(config.PUBLIC_URL, (await createSetupToken(database.db, { siteId: site.id, role: 'owner', replaceUnused: true })).token)
      : null;
  // A new site can send at once: the `log` provider records every message in the send log.
  const logConfig = created
    ? (await ensureLogSendingConfig(database.db, createSecretBox(config.TIDINGS_SECRET), site.id)).config
    : null;
  if (life.stopping) return;

  Runtime.install({
    // Ctrl-C is ours: the SDK's default handlers would stop the workers while the API still serves.
    shutdownSignals: [],
    // SDK logs (worker state, webpack's bundle report) join ours as JSON; INFO only when debugging.
    logger: new DefaultLogger(['debug', 'trace'].includes(config.LOG_LEVEL) ? 'INFO' : 'WARN', ({ level, message, meta }) => {
      const log = level === 'ERROR' ? logger.error : level === 'WARN' ? logger.warn : logger.info;
      log.call(logger, { component: 'temporal-sdk', ...meta }, message);
    }),
  });
  const temporal = await connectTemporal({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE });
  life.add('temporal client', () => temporal.connection.close());
  try {
    await registerSearchAttributes(temporal.connection, config.TEMPORAL_NAMESPACE);
  } catch (err) {
    // An external cluster may not let us use the operator service; its admin registers them instead.
    if (embedTemporal) throw err;
    logger.warn({ err }, 'could not register search attributes; register them on the cluster (see docker-compose.yml)');
  }

  const runApi = config.TIDINGS_ROLE !== 'worker';
  const runWorker = config.TIDINGS_ROLE !== 'api';
  // The workers' connection. With both roles in one process the API starts transactional sends over it
  // too, eagerly: the server answers the start with the first workflow task for this process's own
  // transactional worker, so a send skips the task-queue round trip (see AppDeps.eagerStart).
  const workerConnection = runWorker ? await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS }) : null;
  if (workerConnection) life.add('worker connection', () => workerConnection.close());
  const apiTemporal = runApi && workerConnection ? new Client({ connection: workerConnection, namespace: config.TEMPORAL_NAMESPACE }) : temporal.client;
  // The dashboard builds (first start, or after a change) while everything else starts; /app answers
  // 503 until it is ready, and a failed build leaves the API serving.
  const webApp = runApi ? startWebAppBuild(config, logger) : undefined;
  // The API answers while the workers bundle workflow code (the slow part of a cold start).
  const [apiResult, workersResult] = await Promise.allSettled([
    runApi
      ? startApiRole({ db: database.db, temporal: apiTemporal, eagerStart: apiTemporal !== temporal.client, config, logger, webApp }, { port: config.PORT, host: config.HOST })
      : Promise.resolve(null),
    workerConnection ? startWorkers(config, database.db, workerConnection, logger) : Promise.resolve(null),
  ]);
  // Registered workers-then-API so that shutdown stops the API first, then drains the workers.
  if (workersResult.status === 'fulfilled' && workersResult.value) {
    const workers = workersResult.value;
    life.add('workers', workers.stop);
    workers.running.catch((err: unknown) => {
      if (life.stopping) return;
      logger.fatal({ err }, 'worker failed');
      void shutdown(1);
    });
  }
  const api = apiResult.status === 'fulfilled' ? apiResult.value : null;
  if (api) life.add('api', api.close);
  if (apiResult.status === 'rejected') throw apiResult.reason;
  if (workersResult.status === 'rejected') throw workersResult.reason;
  if (life.stopping) return;

  // runtime.json describes the instance that owns the embedded services of this data dir; a process
  // pointed at external ones (e.g. a second worker) must not overwrite or later delete it.
  if (embedDb || embedTemporal) {
    await writeRuntimeInfo(dataDir, {
      pid: process.pid,
      databaseUrl: config.DATABASE_URL,
      temporalAddress: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      apiUrl: api?.url ?? null,
      uiUrl: config.TEMPORAL_UI_URL ?? null,
    }).catch((err: unknown) => logger.warn({ err }, 'could not write runtime.json; the CLI will need explicit settings'));
    life.add('runtime.json', () => removeRuntimeInfo(dataDir));
  }

  // Not awaited: the relays start in the background and a failure is only logged.
  if (runWorker) void ensureOutboxRelays(temporal.client, logger);

  printBanner({ config, apiUrl: api?.url ?? null, roles: config.TIDINGS_ROLE, newKey, logConfigId: logConfig?.id ?? null, firstOwnerUrl });
}

// Each role's modules load only in a process that runs it: the API's (express, OpenAPI) are dead
// weight in a worker's memory, the activities' (mail SDKs, rendering) in an API's.

async function startApiRole(...args: Parameters<typeof StartApi>) {
  const { startApi } = await import('./server.js');
  return startApi(...args).catch((err: Error) => {
    // startApi's only failure is listen(): its message already says which port and what to do.
    throw new StartupError(err.message, { cause: err });
  });
}

function startWebAppBuild(config: Config, logger: Logger): Promise<string> {
  const built = import('./web/build.js').then(({ ensureWebApp }) => ensureWebApp({ webDir: config.TIDINGS_WEB_DIR, log: (msg) => logger.info(msg) }));
  built.catch((err: unknown) => logger.error({ err }, 'the dashboard could not be built; /app answers 503 (the API is unaffected)'));
  return built;
}

async function startWorkers(
  config: Config,
  db: ReturnType<typeof createDatabase>['db'],
  connection: NativeConnection,
  logger: Logger,
) {
  // The secret is always set by now (generated into the data dir when TIDINGS_SECRET is unset).
  const secretBox = createSecretBox(config.TIDINGS_SECRET!);
  const links = createLinks({ secret: config.TIDINGS_SECRET!, publicUrl: config.PUBLIC_URL! });
  const { createWorkers, runWorkers } = await import('./worker.js');
  // The relay's journeys start over the workers' own connection, eagerly: each first workflow task comes
  // back with the start and runs in this process, without a task-queue round trip.
  const relayClient = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const workers = await createWorkers({ connection, namespace: config.TEMPORAL_NAMESPACE, db, logger, secretBox, links, temporal: relayClient, eagerStart: true });
  const running = runWorkers(workers);
  // Marked handled now; main() reacts to a failure once start-up has registered the workers.
  running.catch(() => {});
  return {
    running,
    stop: async () => {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => {});
    },
  };
}

function printBanner(o: {
  config: Config;
  apiUrl: string | null;
  roles: string;
  newKey: string | null;
  logConfigId: number | null;
  firstOwnerUrl: string | null;
}): void {
  const lines = ['', `Tidings is running (${o.roles === 'all' ? 'API and worker' : o.roles}).`];
  if (o.apiUrl) {
    lines.push(`  Dashboard:    ${o.apiUrl}/app/`, `  API:          ${o.apiUrl}/api/v1`, `  API docs:     ${o.apiUrl}/docs`);
  }
  if (o.config.TEMPORAL_UI_URL) lines.push(`  Temporal UI:  ${o.config.TEMPORAL_UI_URL}`);
  lines.push(`  Data:         ${o.config.dataDir}`);
  if (o.newKey) {
    lines.push(
      '',
      '  Your API key (save it, it is shown once):',
      '',
      `      ${o.newKey}`,
      '',
      `  Try: curl -H "Authorization: Bearer ${o.newKey}" ${o.apiUrl ?? 'http://localhost:3000'}/api/v1/contacts`,
    );
  } else if (o.config.TIDINGS_API_KEY) {
    lines.push('  API key:      the one in TIDINGS_API_KEY');
  }
  if (o.firstOwnerUrl) {
    lines.push('', `  Create the first owner: ${o.firstOwnerUrl}`, '  (a one-time link for the web dashboard; or: npx tidings users create --role owner …)');
  }
  if (o.logConfigId !== null) {
    lines.push(
      '',
      `  Sending config ${o.logConfigId} uses the \`log\` provider: emails are recorded in GET /api/v1/sends, not delivered.`,
      '  Add a Resend or SMTP config with POST /api/v1/sending-configs to deliver for real.',
    );
  }
  lines.push('', 'Press Ctrl-C to stop.', '');
  console.log(lines.join('\n'));
}

let life: Lifecycle | undefined;
let shuttingDown: Promise<void> | undefined;

function shutdown(code: number): Promise<void> {
  shuttingDown ??= (async () => {
    await life?.stopAll();
    process.exit(code);
  })();
  return shuttingDown;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  life = new Lifecycle(logger);

  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // A signal sent to the whole process group (npm, tsx and us: supervisors do that) arrives more than
    // once within milliseconds; only a second Ctrl-C a moment later means "force".
    if (firstSignalAt && Date.now() - firstSignalAt < 1000) return;
    if (firstSignalAt) {
      // The exit handlers of the embedded servers still kill them on the way out.
      console.error(`\n${signal} again: stopping immediately`);
      process.exit(130);
    }
    firstSignalAt = Date.now();
    console.error(`\n${signal}: shutting down (press Ctrl-C again to force)`);
    void shutdown(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await start(config, logger, life);
  } catch (err) {
    if (life.stopping) return;
    if (err instanceof StartupError) console.error(`tidings: ${err.message}`);
    else logger.fatal({ err }, 'start-up failed');
    await shutdown(1);
  }
}

void main();
