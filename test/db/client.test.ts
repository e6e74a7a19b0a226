import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

let testDb: TestDb;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDb();
  database = createDatabase(testDb.url, { max: 2 });
});
afterAll(async () => {
  await database?.close();
  await testDb?.close();
});

describe('createDatabase', () => {
  it('survives the server dropping a connection in the middle of a transaction: the transaction fails, the process lives on and the pool recovers', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const outcome = await database.db
        .transaction(async (tx) => {
          const { rows } = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
          // What a database restart does to a busy connection, between two queries of the transaction.
          await testDb.db.execute(sql`select pg_terminate_backend(${rows[0]!.pid})`);
          await new Promise((resolve) => setTimeout(resolve, 200));
          await tx.execute(sql`select 1`);
        })
        .then(
          () => 'committed',
          (err: Error) => `failed: ${err.message}`,
        );
      expect(outcome).toMatch(/^failed/);
      expect(uncaught).toEqual([]);
      const { rows } = await database.db.execute<{ one: number }>(sql`select 1 as one`);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
