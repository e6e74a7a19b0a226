import path from 'node:path';
import { readRuntimeInfo, type RuntimeInfo } from '../embedded/runtime.js';
import { CliError } from './errors.js';

/** The data directory a local `npm start` uses (same default and variable as the server). */
export function dataDir(): string {
  return path.resolve(process.env.TIDINGS_DATA_DIR || '.data');
}

/** What the running `npm start` on this data dir published, or null. */
export async function runningInstance(): Promise<RuntimeInfo | null> {
  return readRuntimeInfo(dataDir());
}

/** DATABASE_URL, else the database of the running `npm start`, else a clear instruction. */
export async function resolveDatabaseUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const info = await runningInstance();
  if (info?.databaseUrl) return info.databaseUrl;
  throw new CliError(
    `No database to talk to: start Tidings with \`npm start\` (no instance is running on ${dataDir()}) or set DATABASE_URL`,
  );
}

/** --api-url / TIDINGS_API_URL, else the API of the running `npm start`, else a clear instruction. */
export async function resolveApiUrl(flag: string | undefined): Promise<string> {
  const explicit = flag ?? process.env.TIDINGS_API_URL;
  if (explicit) return explicit.replace(/\/+$/, '');
  const info = await runningInstance();
  if (info?.apiUrl) return info.apiUrl.replace(/\/+$/, '');
  throw new CliError(
    `No API to talk to: start Tidings with \`npm start\` (no instance is running on ${dataDir()}), or pass --api-url / set TIDINGS_API_URL`,
  );
}
