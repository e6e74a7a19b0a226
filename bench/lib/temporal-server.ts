/**
 * A real Temporal server on PostgreSQL, for benches that measure the production shape (what
 * docker-compose.yml runs: `temporalio/server` on the same PostgreSQL as Tidings) instead of the dev
 * server's SQLite.
 *
 * No prebuilt server can be downloaded here (only package registries are reachable), so the server is
 * built from its Go module, `go.temporal.io/server`, through the Go module proxy: `cmd/server`
 * (temporal-server) and `cmd/tools/sql` (temporal-sql-tool), plus the PostgreSQL schema files of the
 * same module version. They are cached in the git-ignored tools dir
 * (`.tools/temporal-server/<version>/`, or under TIDINGS_TOOLS_DIR), built once and reused; a
 * `.complete` marker written last tells a finished build from an interrupted one.
 *
 * Then, given a running PostgreSQL, {@link startTemporalServer} does what the compose file's one-shot
 * jobs and server do: creates the `temporal` and `temporal_visibility` databases, brings both schemas
 * up to this version with the sql tool (setup-schema, then update-schema over the versioned dir),
 * writes a minimal single-host server config, starts the server, creates the namespace and registers
 * Tidings' search attributes with the Temporal CLI (src/embedded/tools.ts finds or provisions it),
 * and waits until the namespace serves with them.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { stringify as toYaml } from 'yaml';
import { StartupError } from '../../src/embedded/errors.js';
import { withLock } from '../../src/embedded/lock.js';
import { assertPortFree, canConnect } from '../../src/embedded/ports.js';
import { spawnTied, terminate } from '../../src/embedded/processes.js';
import { lastLogError } from '../../src/embedded/temporal.js';
import { findOnPath, findTemporalCli, toolsDir } from '../../src/embedded/tools.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { searchAttributeCliArgs } from '../../src/temporal/search-attributes.js';
import { sleep } from './proc.js';

const execFileAsync = promisify(execFile);

/**
 * The server release built (`go list -m -versions go.temporal.io/server`). The same minor as the
 * compose file's `temporalio/server:1.32.0` image, so the same schema versions; the latest patch.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
const MODULE = 'go.temporal.io/server';
/** Written last by a successful build; a changed layout bumps the revision so caches rebuild. */
const MARKER = `${MODULE}@${TEMPORAL_SERVER_VERSION} layout 1\n`;
/** The SQL plugin and schema folder of PostgreSQL 12+ (the embedded PostgreSQL is 17). */
const PLUGIN = 'postgres12';
const SCHEMA_SUBDIR = path.join('schema', 'postgresql', 'v12');

export interface TemporalServerBuild {
  version: string;
  dir: string;
  server: string;
  sqlTool: string;
  /** `<dir>/schema/postgresql/v12`, holding `temporal/` and `visibility/` (each with `versioned/`). */
  schemaDir: string;
}

function buildPaths(env: NodeJS.ProcessEnv = process.env): TemporalServerBuild {
  const dir = path.join(toolsDir(env), 'temporal-server', TEMPORAL_SERVER_VERSION);
  return {
    version: TEMPORAL_SERVER_VERSION,
    dir,
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    schemaDir: path.join(dir, SCHEMA_SUBDIR),
  };
}

/** Output of a failed command, for an error that shows exactly what the tool said. */
function commandOutput(err: unknown): string {
  const e = err as { stderr?: string; stdout?: string; message?: string };
  return `${e.stderr ?? ''}\n${e.stdout ?? ''}`.trim() || e.message || String(err);
}

/** Copies a directory tree (the module cache's files and folders are read-only; the copies' folders are not). */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const [src, dst] = [path.join(from, entry.name), path.join(to, entry.name)];
    if (entry.isDirectory()) await copyTree(src, dst);
    else await copyFile(src, dst);
  }
}

/**
 * The built server, sql tool and schema: from the cache, or built now with `go` (a few minutes to a
 * quarter of an hour on 2 cores; progress goes to `log`).
 *
 * GOTOOLCHAIN is taken from the environment, else `auto`: the server's go.mod asks for a newer Go than
 * many machines have, and `auto` lets `go` fetch that toolchain through the module proxy (a machine
 * whose go env says GOTOOLCHAIN=local would otherwise stop at "go.mod requires go >= …").
 * TEMPORAL_BUILD_JOBS sets `go build -p` (default 2, the size of the machines these benches run on).
 */
export async function ensureTemporalServer(opts: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): Promise<TemporalServerBuild> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const paths = buildPaths(env);
  const done = async () => (await readFile(path.join(paths.dir, '.complete'), 'utf8').catch(() => '')) === MARKER;
  if (await done()) return paths;
  await mkdir(path.dirname(paths.dir), { recursive: true });
  return withLock(`${paths.dir}.lock`, async () => {
    // Another process may have finished the build while we waited for the lock.
    if (await done()) return paths;
    const go = await findOnPath('go', env);
    if (!go) throw new StartupError(`go not found: install Go (https://go.dev/dl, or apt-get install golang-go) to build ${MODULE}@${TEMPORAL_SERVER_VERSION}`);
    const goEnv = { ...env, GOTOOLCHAIN: env.GOTOOLCHAIN || 'auto' };
    const jobs = env.TEMPORAL_BUILD_JOBS || '2';

    // 1. The module's source, into the Go module cache (its Dir is read-only there).
    log(`downloading ${MODULE}@${TEMPORAL_SERVER_VERSION} through the Go module proxy…`);
    let moduleDir: string;
    try {
      const { stdout } = await execFileAsync(go, ['mod', 'download', '-json', `${MODULE}@${TEMPORAL_SERVER_VERSION}`], {
        cwd: path.dirname(paths.dir),
        env: goEnv,
        maxBuffer: 16 * 1024 * 1024,
      });
      moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
    } catch (err) {
      throw new StartupError(`go mod download ${MODULE}@${TEMPORAL_SERVER_VERSION} failed:\n${commandOutput(err)}`, { cause: err });
    }

    // 2. Both binaries into a scratch folder, renamed into place when all is there: an interrupted
    //    build never leaves something that looks finished.
    const scratch = `${paths.dir}.partial-${process.pid}`;
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    try {
      for (const [pkg, out] of [['./cmd/server', 'temporal-server'], ['./cmd/tools/sql', 'temporal-sql-tool']] as const) {
        log(`go build -p ${jobs} ${pkg} (${MODULE}@${TEMPORAL_SERVER_VERSION}) → ${path.join(paths.dir, out)}…`);
        const started = Date.now();
        try {
          // Built inside the module's own folder, so its go.mod and go.sum pin every dependency.
          await execFileAsync(go, ['build', '-p', jobs, '-o', path.join(scratch, out), pkg], { cwd: moduleDir, env: goEnv, maxBuffer: 64 * 1024 * 1024 });
        } catch (err) {
          throw new StartupError(`go build ${pkg} of ${MODULE}@${TEMPORAL_SERVER_VERSION} failed:\n${commandOutput(err)}`, { cause: err });
        }
        log(`built ${out} in ${Math.round((Date.now() - started) / 1000)} s`);
      }
      // 3. The PostgreSQL schemas of the same version (setup files and versioned upgrades).
      await copyTree(path.join(moduleDir, SCHEMA_SUBDIR), path.join(scratch, SCHEMA_SUBDIR));
      await writeFile(path.join(scratch, '.complete'), MARKER);
      await rm(paths.dir, { recursive: true, force: true });
      await rename(scratch, paths.dir);
    } catch (err) {
      await rm(scratch, { recursive: true, force: true });
      throw err;
    }
    return paths;
  });
}

export interface TemporalServerOptions {
  /** Holds the server's config, its dynamic config and its log. */
  dataDir: string;
  /** `postgres://user:password@host:port/any`: the server the `temporal` databases go into. */
  postgresUrl: string;
  namespace?: string;
  /** Fixed when the cluster is first created (compose: 128). Few shards suit a 2-core machine. */
  numHistoryShards?: number;
  /** Dynamic config values on top of the compose file's (deploy/temporal-dynamicconfig.yaml). */
  dynamicConfig?: Record<string, unknown>;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface TemporalServer {
  address: string;
  namespace: string;
  pid: number;
  version: string;
  logFile: string;
  stop(): Promise<void>;
}

/** Runs the sql tool against one database; the password goes through the environment, not argv. */
async function sqlTool(build: TemporalServerBuild, pg: URL, database: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(build.sqlTool, ['--plugin', PLUGIN, '--ep', pg.hostname, '--port', pg.port || '5432', '--user', decodeURIComponent(pg.username), '--db', database, ...args], {
      env: { ...process.env, SQL_PASSWORD: decodeURIComponent(pg.password) },
    });
  } catch (err) {
    throw new StartupError(`temporal-sql-tool --db ${database} ${args.join(' ')} failed:\n${commandOutput(err)}`, { cause: err });
  }
}

/**
 * Creates (if missing) and migrates the two Temporal databases, as the compose file's
 * temporal-admin-tools job does: setup-schema only versions an empty database (version 0.0), then
 * update-schema applies every versioned step up to this server's.
 */
async function setupSchemas(build: TemporalServerBuild, pg: URL): Promise<void> {
  for (const [database, schema] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    // PostgreSQL has no CREATE DATABASE IF NOT EXISTS: an existing one fails here and is fine.
    await sqlTool(build, pg, database, ['create-database']).catch(() => {});
    await sqlTool(build, pg, database, ['setup-schema', '-v', '0.0']);
    await sqlTool(build, pg, database, ['update-schema', '-d', path.join(build.schemaDir, schema, 'versioned')]);
  }
}

/** A one-host config in the shape of the module's config/development-postgres12.yaml. */
function serverConfig(o: { pg: URL; ports: Record<string, number>; numHistoryShards: number; dynamicConfigFile: string }): string {
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: PLUGIN,
      databaseName,
      connectAddr: `${o.pg.hostname}:${o.pg.port || '5432'}`,
      connectProtocol: 'tcp',
      user: decodeURIComponent(o.pg.username),
      password: decodeURIComponent(o.pg.password),
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (name: string) => ({
    rpc: {
      grpcPort: o.ports[`${name}Grpc`],
      membershipPort: o.ports[`${name}Membership`],
      bindOnLocalHost: true,
      ...(name === 'frontend' ? { httpPort: o.ports.frontendHttp } : {}),
    },
  });
  const config = {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: o.numHistoryShards,
      datastores: { 'postgres-default': sql('temporal', 20), 'postgres-visibility': sql('temporal_visibility', 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: Object.fromEntries(['frontend', 'history', 'matching', 'worker'].map((name) => [name, service(name)])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${o.ports.frontendGrpc}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: o.dynamicConfigFile, pollInterval: '10s' },
  };
  return `# Written by bench/lib/temporal-server.ts.\n${toYaml(config)}`;
}

/**
 * A free port below 32768. The server records its hosts' ports in a SMALLINT column
 * (cluster_membership.rpc_port), so a port from the usual ephemeral range (32768–60999, what
 * findFreePort hands out) fails at start with `value "38799" is out of range for type smallint`.
 * Below that range bind(0) never picks a port either, so nothing else races us for the one found.
 */
async function freeLowPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await assertPortFree(port, 'Temporal server', '').then(() => true, () => false);
    if (free) return port;
  }
  throw new StartupError('no free port between 20000 and 31999 for the Temporal server');
}

/** Runs the Temporal CLI against the server; fails with what it printed. */
async function temporalCli(cli: string, address: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cli, [...args, '--address', address]);
    return stdout;
  } catch (err) {
    throw new Error(`temporal ${args.join(' ')} failed: ${commandOutput(err)}`, { cause: err });
  }
}

/**
 * Starts the built server (building it first if it is missing) on the given PostgreSQL, with the
 * namespace and Tidings' search attributes in place; the caller stops it.
 */
export async function startTemporalServer(opts: TemporalServerOptions): Promise<TemporalServer> {
  const log = opts.log ?? (() => {});
  const namespace = opts.namespace ?? 'default';
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const [build, cli] = await Promise.all([ensureTemporalServer({ log }), findTemporalCli({ log }).then((t) => t.path)]);
  const pg = new URL(opts.postgresUrl);

  log('creating the temporal and temporal_visibility databases and their schemas…');
  await setupSchemas(build, pg);

  // Free ports for the four services (gRPC and membership each, plus the frontend's HTTP API).
  const ports: Record<string, number> = {};
  for (const name of ['frontendGrpc', 'frontendMembership', 'frontendHttp', 'historyGrpc', 'historyMembership', 'matchingGrpc', 'matchingMembership', 'workerGrpc', 'workerMembership']) {
    ports[name] = await freeLowPort(new Set(Object.values(ports)));
  }
  const dynamicConfigFile = path.join(dataDir, 'dynamicconfig.yaml');
  const dynamicConfig = {
    // What the compose deployment sets (deploy/temporal-dynamicconfig.yaml) and the dev server gets.
    'system.enableActivityEagerExecution': [{ value: true }],
    ...Object.fromEntries(Object.entries(opts.dynamicConfig ?? {}).map(([key, value]) => [key, [{ value }]])),
  };
  await writeFile(dynamicConfigFile, `# Written by bench/lib/temporal-server.ts.\n${toYaml(dynamicConfig)}`);
  const configFile = path.join(dataDir, 'temporal-server.yaml');
  await writeFile(configFile, serverConfig({ pg, ports, numHistoryShards: opts.numHistoryShards ?? 4, dynamicConfigFile }), { mode: 0o600 });

  const logFile = path.join(dataDir, 'temporal-server.log');
  const logFd = openSync(logFile, 'a');
  // Its own process group and killed with us (setpriv --pdeathsig), as the dev server is.
  const child = await spawnTied(build.server, ['--config-file', configFile, '--allow-no-auth', 'start'], { logFd, deathSignal: 'TERM' }).finally(() => closeSync(logFd));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (!exited) await terminate(child.pid!, 'SIGTERM', 20_000);
      await exit;
    })());

  const address = `127.0.0.1:${ports.frontendGrpc}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 180_000);
  /** Retries `step` until it succeeds, the server exits (with the reason from its log) or time runs out. */
  const until = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    let last: unknown;
    for (;;) {
      if (exited) {
        const reason = await lastLogError(logFile);
        throw new StartupError(`Temporal server ${build.version} exited while ${what}${reason ? `: ${reason}` : ''} (log: ${logFile})`);
      }
      if (Date.now() > deadline) throw new StartupError(`Temporal server: timed out ${what} (${(last as Error)?.message ?? 'no answer'}; log: ${logFile})`);
      try {
        return await step();
      } catch (err) {
        last = err;
        await sleep(500);
      }
    }
  };
  try {
    log(`starting temporal-server ${build.version} on ${address}…`);
    await until('starting', async () => {
      if (!(await canConnect(ports.frontendGrpc!))) throw new Error('frontend not listening yet');
      const health = await temporalCli(cli, address, ['operator', 'cluster', 'health']);
      if (!/SERVING/.test(health)) throw new Error(health.trim());
    });
    // As the compose file's temporal-namespace job: create the namespace (idempotently), wait until the
    // frontend's namespace cache has it, then register each search attribute (re-adding is a no-op).
    await until('creating the namespace', async () => {
      const exists = await temporalCli(cli, address, ['operator', 'namespace', 'describe', '--namespace', namespace]).then(() => true, () => false);
      if (!exists) await temporalCli(cli, address, ['operator', 'namespace', 'create', '--namespace', namespace, '--retention', '24h']);
    });
    await until('waiting for the namespace', () => temporalCli(cli, address, ['operator', 'search-attribute', 'list', '--namespace', namespace]));
    for (const pair of searchAttributeCliArgs) {
      const [name, type] = pair.split('=') as [string, string];
      await until(`registering search attribute ${name}`, () =>
        temporalCli(cli, address, ['operator', 'search-attribute', 'create', '--namespace', namespace, '--name', name, '--type', type]),
      );
    }
    // The frontend validates queries against its namespace cache, refreshed every few seconds: a
    // count filtering on every attribute succeeds once workflows can be started with them too.
    const connection = await until('connecting', () => Connection.connect({ address, connectTimeout: 2000 }));
    try {
      const query = Object.values(SEARCH_ATTRIBUTES)
        .map((key) => `${key.name} = ${key.type === 'INT' ? '0' : "'0'"}`)
        .join(' AND ');
      await until('waiting for the search attributes', () => connection.workflowService.countWorkflowExecutions({ namespace, query }));
    } finally {
      await connection.close();
    }
    // The history service refreshes its own copy on its own timer (system.namespaceCacheRefreshInterval,
    // 10 s): wait one interval so a workflow that upserts them does not meet a stale copy.
    await sleep(11_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, namespace, pid: child.pid!, version: build.version, logFile, stop };
}
