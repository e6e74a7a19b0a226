import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/embedded/ports.js';
import { startEmbeddedPostgres } from '../../src/embedded/postgres.js';
import { isAlive } from '../../src/embedded/processes.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tidings-pg-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * Starts PostgreSQL in a child process (fixtures/hold-postgres.ts, run from `checkout`) and resolves
 * once it is up; the child's stderr is in the error if it dies first.
 */
async function holdPostgres(dataDir: string, port: number, o: { checkout?: string; nodeFlags?: string[] } = {}) {
  const checkout = o.checkout ?? path.resolve(import.meta.dirname, '../..');
  const fixture = path.join(checkout, 'test', 'embedded', 'fixtures', 'hold-postgres.ts');
  const holder = spawn(process.execPath, [...(o.nodeFlags ?? []), '--import', 'tsx', fixture, dataDir, String(port)], { cwd: checkout, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  holder.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('READY') && resolve());
    holder.once('exit', (code) => {
      const lines = stderr.trim().split('\n');
      reject(new Error(`holder exited with ${code}: ${lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.at(-1)}`));
    });
  });
  return holder;
}

/** Kills the holder as a crash would, and waits until its PostgreSQL has gone too. */
async function killHolder(holder: ReturnType<typeof spawn>, dataDir: string): Promise<void> {
  const postgresPid = Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  await expect.poll(() => isAlive(postgresPid), { timeout: 15_000 }).toBe(false);
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  it('starts a server with a tidings database that answers queries', async () => {
    const port = await findFreePort();
    const server = await startEmbeddedPostgres({ dataDir: path.join(root, 'fresh'), port });
    try {
      expect(server.databaseUrl).toMatch(new RegExp(`^postgres://postgres:[0-9a-f]+@127\\.0\\.0\\.1:${port}/tidings$`));
      const [row] = await query<{ db: string; version: string }>(server.databaseUrl, 'select current_database() as db, version()');
      expect(row?.db).toBe('tidings');
      expect(row?.version).toMatch(/^PostgreSQL \d+/);
    } finally {
      await server.stop();
    }
  });

  it('keeps the data across a stop and a start on the same data dir', async () => {
    const dataDir = path.join(root, 'persist');
    const first = await startEmbeddedPostgres({ dataDir, port: await findFreePort() });
    await query(first.databaseUrl, 'create table notes (body text)');
    await query(first.databaseUrl, `insert into notes values ('still here')`);
    await first.stop();

    // Another port on purpose: the cluster, not the port, carries the data.
    const second = await startEmbeddedPostgres({ dataDir, port: await findFreePort() });
    try {
      await expect(query(second.databaseUrl, 'select body from notes')).resolves.toEqual([{ body: 'still here' }]);
    } finally {
      await second.stop();
    }
  });

  it('reports a port that is already taken in one line that says what to do', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const error = await startEmbeddedPostgres({ dataDir: path.join(root, 'busy'), port }).catch((err: unknown) => err as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(
        `Port ${port} is already in use (embedded PostgreSQL): stop whatever listens there, set TIDINGS_PG_PORT to a free port, ` +
          'or set DATABASE_URL to use your own PostgreSQL',
      );
    } finally {
      blocker.close();
    }
  });

  it('starts despite a postmaster.pid left behind by a crash', async () => {
    const dataDir = path.join(root, 'stale');
    const first = await startEmbeddedPostgres({ dataDir, port: await findFreePort() });
    await first.stop();
    // A pid file whose process is long gone, as after a power cut.
    await writeFile(path.join(dataDir, 'pg', 'postmaster.pid'), `999999\n${path.join(dataDir, 'pg')}\n0\n5488\n`);
    const second = await startEmbeddedPostgres({ dataDir, port: await findFreePort() });
    try {
      await expect(query(second.databaseUrl, 'select 1 as ok')).resolves.toEqual([{ ok: 1 }]);
    } finally {
      await second.stop();
    }
  });

  it('stops PostgreSQL when the process that started it is killed, and starts again on its data', async () => {
    const dataDir = path.join(root, 'killed');
    const port = await findFreePort();
    const holder = await holdPostgres(dataDir, port);
    await killHolder(holder, dataDir);

    const server = await startEmbeddedPostgres({ dataDir, port });
    try {
      await expect(query(server.databaseUrl, 'select 1 as ok')).resolves.toEqual([{ ok: 1 }]);
    } finally {
      await server.stop();
    }
  });

  it('starts from a checkout inside a directory other users cannot enter', async () => {
    // Like a clone under /root: as root, PostgreSQL runs as the postgres user, who must still reach the
    // binaries in node_modules. A symlink to this checkout from a 0700 directory, followed with
    // --preserve-symlinks, puts the binaries' path through that directory without copying anything.
    const locked = path.join(root, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o700);
    const checkout = path.join(locked, 'tidings');
    await symlink(path.resolve(import.meta.dirname, '../..'), checkout);
    const dataDir = path.join(root, 'locked-checkout');
    const port = await findFreePort();

    const holder = await holdPostgres(dataDir, port, { checkout, nodeFlags: ['--preserve-symlinks', '--preserve-symlinks-main'] });
    try {
      const password = (await readFile(path.join(dataDir, 'pg.password'), 'utf8')).trim();
      await expect(query(`postgres://postgres:${password}@127.0.0.1:${port}/tidings`, 'select 1 as ok')).resolves.toEqual([{ ok: 1 }]);
    } finally {
      await killHolder(holder, dataDir);
    }
  });

  it('takes over a data dir whose PostgreSQL is still running from an earlier start', async () => {
    const dataDir = path.join(root, 'leftover');
    const leftover = await startEmbeddedPostgres({ dataDir, port: await findFreePort() });
    const leftoverPid = Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const server = await startEmbeddedPostgres({ dataDir, port: await findFreePort() });
    try {
      expect(isAlive(leftoverPid)).toBe(false);
      await expect(query(server.databaseUrl, 'select 1 as ok')).resolves.toEqual([{ ok: 1 }]);
    } finally {
      await server.stop();
      await leftover.stop();
    }
  });
});
