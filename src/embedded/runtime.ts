import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlive } from './processes.js';

/**
 * What a running `npm start` tells other local processes (the CLI) about itself, in
 * `$TIDINGS_DATA_DIR/runtime.json`, so `tidings contacts import` reaches the embedded database and
 * Temporal without the user copying URLs around.
 */
export interface RuntimeInfo {
  pid: number;
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  /** Null when this process runs no API (TIDINGS_ROLE=worker). */
  apiUrl: string | null;
  uiUrl: string | null;
}

export const runtimeFile = (dataDir: string) => path.join(dataDir, 'runtime.json');

/** Writes runtime.json atomically (mode 600: it holds the database password). */
export async function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): Promise<void> {
  const file = runtimeFile(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/**
 * The info of the instance running on this data dir, or null when none is: no file, an unreadable
 * one, or one left behind by a process that has since died.
 */
export async function readRuntimeInfo(dataDir: string): Promise<RuntimeInfo | null> {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(await readFile(runtimeFile(dataDir), 'utf8')) as RuntimeInfo;
  } catch {
    return null;
  }
  return typeof info?.pid === 'number' && isAlive(info.pid) ? info : null;
}

/** Removes runtime.json if it is ours (called on shutdown). */
export async function removeRuntimeInfo(dataDir: string): Promise<void> {
  try {
    const info = JSON.parse(await readFile(runtimeFile(dataDir), 'utf8')) as RuntimeInfo;
    if (info.pid !== process.pid) return;
  } catch {
    return;
  }
  await rm(runtimeFile(dataDir), { force: true });
}
