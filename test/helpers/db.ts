import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type Db } from '../../src/db/client.js';

export interface TestDb {
  db: Db;
  url: string;
  /** Closes the pool and drops the database. */
  close(): Promise<void>;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database of its own in the run's shared PostgreSQL (a copy of the template that
 * global setup migrated once), so test files never see each other's rows and can run in parallel.
 */
export async function createTestDb(): Promise<TestDb> {
  const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(async (client) => {
    const sql = `create database ${client.escapeIdentifier(name)} template ${client.escapeIdentifier(inject('pgTemplateDb'))}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(sql);
        return;
      } catch (err) {
        // Two clones of one template at the same instant can collide on the template's lock.
        if (attempt >= 10 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  });
  const url = new URL(inject('pgAdminUrl'));
  url.pathname = `/${name}`;
  const database = createDatabase(url.toString());
  let closed = false;
  return {
    db: database.db,
    url: url.toString(),
    close: async () => {
      if (closed) return;
      closed = true;
      await database.close();
      await withAdmin((client) => client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`));
    },
  };
}
