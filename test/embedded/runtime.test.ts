import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readRuntimeInfo, removeRuntimeInfo, runtimeFile, writeRuntimeInfo, type RuntimeInfo } from '../../src/embedded/runtime.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tidings-runtime-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const info = (pid: number): RuntimeInfo => ({
  pid,
  databaseUrl: 'postgres://postgres:pw@127.0.0.1:5488/tidings',
  temporalAddress: '127.0.0.1:7233',
  namespace: 'default',
  apiUrl: 'http://localhost:3000',
  uiUrl: 'http://localhost:8233',
});

it('lets the CLI read what a running instance wrote, readable by its owner only', async () => {
  await writeRuntimeInfo(dir, info(process.pid));
  await expect(readRuntimeInfo(dir)).resolves.toEqual(info(process.pid));
  expect((await stat(runtimeFile(dir))).mode & 0o777).toBe(0o600);
});

it('treats the file of a process that has died as no running instance', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  await writeFile(runtimeFile(dir), JSON.stringify(info(dead)));
  await expect(readRuntimeInfo(dir)).resolves.toBeNull();
});

it('reads a missing or corrupt file as no running instance', async () => {
  await expect(readRuntimeInfo(path.join(dir, 'nowhere'))).resolves.toBeNull();
  await writeFile(runtimeFile(dir), '{not json');
  await expect(readRuntimeInfo(dir)).resolves.toBeNull();
});

it('removes the file on shutdown only when this process wrote it', async () => {
  await writeRuntimeInfo(dir, info(1));
  await removeRuntimeInfo(dir);
  expect(JSON.parse(await readFile(runtimeFile(dir), 'utf8')).pid).toBe(1);
  await writeRuntimeInfo(dir, info(process.pid));
  await removeRuntimeInfo(dir);
  await expect(stat(runtimeFile(dir))).rejects.toThrow(/ENOENT/);
});
