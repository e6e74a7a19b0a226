import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateApiKey } from '../../src/domain/api-keys.js';
import { findFreePort } from '../../src/embedded/ports.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';

export interface RunningStack {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The API key of the default site (TIDINGS_API_KEY). */
  key: string;
  /** Everything the process printed, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * `npm start` as a user runs it (tsx src/main.ts): embedded PostgreSQL, the Temporal dev server, the
 * worker and the API in one process, on a throwaway data dir and free ports. The default site gets
 * the `log` sending config, so sends are recorded rather than delivered. The rate limit is raised so
 * that 429s cannot hide the answers the fuzzer is checking.
 */
export async function startStack(): Promise<RunningStack> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tidings-fuzz-'));
  const port = await findFreePort();
  const { key } = generateApiKey();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.FUZZ_LOG_LEVEL ?? 'warn',
    TIDINGS_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    TIDINGS_PG_PORT: String(await findFreePort()),
    TEMPORAL_PORT: String(await findFreePort()),
    TEMPORAL_UI_PORT: String(await findFreePort()),
    TIDINGS_API_KEY: key,
    RATE_LIMIT_PER_MINUTE: '1000000',
  };
  // An outer deployment's settings would point the stack at someone else's services.
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TIDINGS_SECRET', 'TIDINGS_ROLE', 'PUBLIC_URL']) delete env[name];

  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGINT is Ctrl-C: main.ts stops the API, the workers, Temporal and PostgreSQL in order.
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      // The data dir goes with stop(), so the Temporal log is read first: CI keeps only what we print.
      const temporalLog = await tail(path.join(dataDir, 'temporal.log'));
      await stop();
      throw new Error(`npm start exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}${temporalLog}`);
    }
    if (Date.now() > deadline) {
      const temporalLog = await tail(path.join(dataDir, 'temporal.log'));
      await stop();
      throw new Error(`npm start was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${output}${temporalLog}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url: `http://127.0.0.1:${port}`, key, output: () => output, stop };
}

/** The last lines of a log file, headed by its name, or '' when there is none. */
async function tail(file: string, lines = 60): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text ? `\n--- last ${lines} lines of ${file} ---\n${text.trimEnd().split('\n').slice(-lines).join('\n')}\n` : '';
}
