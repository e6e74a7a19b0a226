import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../src/embedded/ports.js';
import { startEmbeddedPostgres } from '../../src/embedded/postgres.js';
import { startEmbeddedTemporal } from '../../src/embedded/temporal.js';
import { startFakeResend } from '../../test/helpers/fake-resend.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A throwaway embedded PostgreSQL (database `bench`) and Temporal dev server under `tmp`, and the fake
 * Resend server in this process, started at once; plus a free port for the API. The caller stops them.
 */
export async function startBenchServices(tmp: string) {
  const [pgPort, temporalPort, apiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const [pg, temporal, fake] = await Promise.all([
    startEmbeddedPostgres({
      dataDir: path.join(tmp, 'pg'),
      port: pgPort,
      database: 'bench',
      // Throwaway cluster: durability would only slow the bench down.
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    }),
    startEmbeddedTemporal({ dataDir: path.join(tmp, 'temporal'), port: temporalPort, uiPort: false }),
    startFakeResend(),
  ]);
  return { pg, temporal, fake, apiPort };
}

/** A Tidings process (`src/main.ts` in one role) with its stdout and stderr kept for error messages. */
export interface RoleProcess {
  child: ChildProcess;
  output: () => string;
}

/** Spawns `src/main.ts` with TIDINGS_ROLE=`role` on top of this environment; the caller stops it. */
export function spawnTidingsRole(role: 'api' | 'worker', env: Record<string, string>): RoleProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'main.ts')], {
    cwd: root,
    env: { ...process.env, ...env, TIDINGS_ROLE: role, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}
