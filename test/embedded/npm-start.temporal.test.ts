import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { findFreePort } from '../../src/embedded/ports.js';
import { isAlive } from '../../src/embedded/processes.js';
import { readRuntimeInfo } from '../../src/embedded/runtime.js';

/** `npm start` as a user runs it (tsx src/main.ts), on its own data dir and free ports. */
interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let dataDir: string;
let env: NodeJS.ProcessEnv;
const running: ChildProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tidings-start-'));
  env = {
    ...process.env,
    NODE_ENV: 'development',
    TIDINGS_DATA_DIR: dataDir,
    PORT: String(await findFreePort()),
    HOST: '127.0.0.1',
    TIDINGS_PG_PORT: String(await findFreePort()),
    TEMPORAL_PORT: String(await findFreePort()),
    TEMPORAL_UI_PORT: String(await findFreePort()),
    ...(inject('temporalCliPath') ? { TEMPORAL_CLI_PATH: inject('temporalCliPath') } : {}),
  };
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TIDINGS_API_KEY', 'TIDINGS_SECRET', 'TIDINGS_ROLE']) delete env[name];
});
afterAll(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start was not ready within 90 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { child, output: () => output, exited };
}

const pidOf = async (file: string) => Number((await readFile(path.join(dataDir, file), 'utf8')).split('\n')[0]);

/** The one-time first-owner link of the banner, which must point at the dashboard under PUBLIC_URL. */
function firstOwnerToken(output: string): string | undefined {
  const pattern = new RegExp(`Create the first owner: http://localhost:${env.PORT}/app/setup\\?token=([A-Za-z0-9_-]{43})`);
  return pattern.exec(output)?.[1];
}

it('starts everything, prints a first API key once, stops every child on Ctrl-C and keeps the data for the next start', async () => {
  const first = await start();
  const key = /Your API key \(save it, it is shown once\):\s+(tk_live_[A-Za-z0-9_-]{32})/.exec(first.output())?.[1];
  expect(key).toBeDefined();
  const info = await readRuntimeInfo(dataDir);
  expect(info).toMatchObject({ pid: first.child.pid, namespace: 'default', apiUrl: `http://127.0.0.1:${env.PORT}` });
  expect(first.output()).toContain(`Temporal UI:  http://localhost:${env.TEMPORAL_UI_PORT}`);
  expect((await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/`)).status).toBe(200);

  const api = `http://127.0.0.1:${env.PORT}/api/v1`;
  const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const created = await fetch(`${api}/contacts`, { method: 'POST', headers: auth, body: JSON.stringify({ email: 'kept@example.com' }) });
  expect(created.status).toBe(201);
  const firstLink = firstOwnerToken(first.output());
  expect(firstLink).toBeDefined();
  const link = await fetch(`${api}/auth/setup/${firstLink}`);
  expect(await link.json()).toEqual({ siteName: 'Default site', role: 'owner' });

  const postgresPid = await pidOf('pg/postmaster.pid');
  const temporalPid = await pidOf('temporal.pid');
  first.child.kill('SIGINT');
  expect(await first.exited).toBe(0);
  expect(isAlive(postgresPid)).toBe(false);
  expect(isAlive(temporalPid)).toBe(false);
  await expect(stat(path.join(dataDir, 'runtime.json'))).rejects.toThrow(/ENOENT/);

  const second = await start();
  try {
    expect(second.output()).not.toContain('Your API key');
    // Still no user: a new first-owner link, and the earlier one no longer works.
    const secondLink = firstOwnerToken(second.output());
    expect(secondLink).toBeDefined();
    expect((await fetch(`${api}/auth/setup/${firstLink}`)).status).toBe(404);
    const owner = await fetch(`${api}/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: secondLink, email: 'owner@example.com', name: 'Owner', password: 'a long enough password' }),
    });
    expect(owner.status).toBe(200);
    expect(((await owner.json()) as { user: { role: string } }).user.role).toBe('owner');
    const listed = await fetch(`${api}/contacts`, { headers: auth });
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { data: { email: string }[] };
    expect(body.data.map((c) => c.email)).toEqual(['kept@example.com']);
    expect(await readFile(path.join(dataDir, 'secret'), 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  } finally {
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }
});

it('refuses to start a second instance on the same data dir, in one line', async () => {
  const first = await start();
  try {
    const other = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'main.ts')], { cwd: REPO_ROOT, env });
    let stderr = '';
    other.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => other.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `tidings: Tidings is already running on ${dataDir} (pid ${first.child.pid}): stop it first, or set TIDINGS_DATA_DIR to another directory`,
    );
  } finally {
    first.child.kill('SIGINT');
    await first.exited;
  }
});
