import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { Db } from './client.js';

export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/** Applies every committed migration in drizzle/; safe to run on every start and from many processes. */
export async function runMigrations(db: Db): Promise<void> {
  // drizzle's migrator is not safe against two processes migrating at once (api + worker in compose),
  // so serialise them on a session advisory lock.
  await db.transaction(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(727274)' as never);
    await migrate(tx as unknown as Db, { migrationsFolder });
  });
}
