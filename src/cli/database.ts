import { createDatabase, type Db } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { CliError } from './errors.js';
import { resolveDatabaseUrl } from './instance.js';

function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/** Runs `fn` with a migrated database and always closes the pool; connection failures become one line. */
export async function withDatabase<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const url = await resolveDatabaseUrl();
  const database = createDatabase(url, { max: 2 });
  try {
    try {
      // Same migrations as `npm start`, so the CLI also works on a DATABASE_URL nothing has started yet.
      await runMigrations(database.db);
    } catch (err) {
      const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
      const detail = e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
      throw new CliError(`Cannot use the database at ${where(url)}: ${detail}`);
    }
    return await fn(database.db);
  } finally {
    await database.close();
  }
}
