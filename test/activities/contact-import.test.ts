import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContactImportActivities, type ContactImportActivities, type PreparedImport } from '../../activities/contact-import.js';
import { getImport, listImportErrors } from '../../src/db/repositories/imports.js';
import { contacts } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { contactsOf, seedList, seedSite, storeImport } from '../workflows/import-fixtures.js';

let testDb: TestDb;
let activities: ContactImportActivities;
// Expected failures (InvalidCsv) would otherwise be logged as warnings in the test report.
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

beforeAll(async () => {
  testDb = await createTestDb();
  activities = createContactImportActivities({ db: testDb.db, logger: createLogger('silent') });
});
afterAll(() => testDb?.close());

/** Runs the whole import the way the workflow does: prepare, every batch in order, complete. */
async function runImport(importId: number, batchSize?: number) {
  const prepared: PreparedImport = await env.run(activities.prepareContactImport, { importId, batchSize });
  for (let seq = prepared.nextBatch; seq < prepared.batchCount; seq++) {
    await env.run(activities.importContactBatch, { importId, seq });
  }
  return env.run(activities.completeContactImport, { importId });
}

describe('contact import activities', () => {
  it('creates contacts with their fields, tags from the tags column and the import options, and lists', async () => {
    const siteId = await seedSite(testDb.db);
    const listId = await seedList(testDb.db, siteId);
    const csv =
      'Email,First Name,lastName,timezone,tags,cf_plan,customFields.seats\n' +
      'Ada@Example.com,Ada,Lovelace,europe/london,vip;beta,pro,3\n' +
      'grace@example.com,Grace,Hopper,,,free,\n';
    const row = await storeImport(testDb.db, siteId, csv, { listIds: [listId], tags: ['imported'] });

    const progress = await runImport(row.id);

    expect(progress).toEqual({ status: 'completed', totalRows: 2, processedRows: 2, created: 2, updated: 0, errors: 0 });
    expect(await contactsOf(testDb.db, siteId)).toEqual([
      {
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        timezone: 'Europe/London',
        status: 'subscribed',
        customFields: { plan: 'pro', seats: '3' },
        tags: ['beta', 'imported', 'vip'],
        lists: [listId],
      },
      {
        email: 'grace@example.com',
        firstName: 'Grace',
        lastName: 'Hopper',
        timezone: null,
        status: 'subscribed',
        customFields: { plan: 'free' },
        tags: ['imported'],
        lists: [listId],
      },
    ]);
  });

  it('updates existing contacts without blanking fields, merges custom fields and never re-subscribes', async () => {
    const siteId = await seedSite(testDb.db);
    await testDb.db.insert(contacts).values({
      siteId,
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      status: 'unsubscribed',
      customFields: { plan: 'pro', team: 'math' },
    });
    const row = await storeImport(testDb.db, siteId, 'email,first_name,last_name,status,cf_plan\nada@example.com,,Byron,subscribed,enterprise\n');

    const progress = await runImport(row.id);

    expect(progress).toMatchObject({ processedRows: 1, created: 0, updated: 1, errors: 0 });
    const [ada] = await contactsOf(testDb.db, siteId);
    expect(ada).toMatchObject({
      firstName: 'Ada',
      lastName: 'Byron',
      status: 'unsubscribed',
      customFields: { plan: 'enterprise', team: 'math' },
    });
  });

  it('records an unsubscribe from the file on an existing subscribed contact', async () => {
    const siteId = await seedSite(testDb.db);
    await testDb.db.insert(contacts).values({ siteId, email: 'ada@example.com' });
    const row = await storeImport(testDb.db, siteId, 'email,status\nada@example.com,unsubscribed\n');
    await runImport(row.id);
    expect((await contactsOf(testDb.db, siteId))[0]?.status).toBe('unsubscribed');
  });

  it('counts a repeated email as one contact created and then updated, the later row winning', async () => {
    const siteId = await seedSite(testDb.db);
    const row = await storeImport(testDb.db, siteId, 'email,first_name,tags\nada@example.com,Ada,a\nADA@example.com,Augusta,b\n');

    const progress = await runImport(row.id);

    expect(progress).toMatchObject({ processedRows: 2, created: 1, updated: 1 });
    expect(await contactsOf(testDb.db, siteId)).toMatchObject([{ email: 'ada@example.com', firstName: 'Augusta', tags: ['a', 'b'] }]);
  });

  it('records invalid rows with their line numbers and the unknown columns once on row 1, importing the rest', async () => {
    const siteId = await seedSite(testDb.db);
    const csv =
      'email,first_name,shoe_size\n' + // line 1
      'ada@example.com,Ada,38\n' + // 2
      'not-an-email,Bob,44\n' + // 3
      '"grace@example.com","Grace\nBrewster",39\n' + // 4-5
      '\n' + // 6 (blank: skipped, not counted)
      ',NoEmail,40\n'; // 7
    const row = await storeImport(testDb.db, siteId, csv);

    const progress = await runImport(row.id, 2);

    expect(progress).toEqual({ status: 'completed', totalRows: 4, processedRows: 4, created: 2, updated: 0, errors: 3 });
    const { rows, total } = await listImportErrors(testDb.db, row.id, { limit: 50, offset: 0 });
    expect(total).toBe(3);
    expect(rows.map(({ row: r, message }) => ({ row: r, message }))).toEqual([
      { row: 1, message: expect.stringMatching(/^Unknown column "shoe_size" ignored/) },
      { row: 3, message: 'Invalid email "not-an-email"' },
      { row: 7, message: 'Missing email' },
    ]);
    expect(rows[1]?.raw).toEqual({ email: 'not-an-email', first_name: 'Bob', shoe_size: '44' });
    expect((await contactsOf(testDb.db, siteId)).map((c) => [c.email, c.firstName])).toEqual([
      ['ada@example.com', 'Ada'],
      ['grace@example.com', 'Grace\nBrewster'],
    ]);
  });

  it('changes nothing and counts nothing when a committed batch runs again', async () => {
    const siteId = await seedSite(testDb.db);
    const row = await storeImport(testDb.db, siteId, 'email,tags\na@example.com,x\nb@example.com,y\nbad,z\n', { tags: ['t'] });
    const prepared = await env.run(activities.prepareContactImport, { importId: row.id, batchSize: 2 });
    expect(prepared).toMatchObject({ batchCount: 2, nextBatch: 0 });

    const first = await env.run(activities.importContactBatch, { importId: row.id, seq: 0 });
    const again = await env.run(activities.importContactBatch, { importId: row.id, seq: 0 });
    const preparedAgain = await env.run(activities.prepareContactImport, { importId: row.id, batchSize: 2 });

    expect(again).toEqual(first);
    expect(first).toMatchObject({ processedRows: 2, created: 2, updated: 0 });
    expect(preparedAgain).toMatchObject({ batchCount: 2, nextBatch: 1 });
    await env.run(activities.importContactBatch, { importId: row.id, seq: 1 });
    await env.run(activities.importContactBatch, { importId: row.id, seq: 1 });
    const done = await env.run(activities.completeContactImport, { importId: row.id });
    expect(done).toEqual({ status: 'completed', totalRows: 3, processedRows: 3, created: 2, updated: 0, errors: 1 });
    expect((await contactsOf(testDb.db, siteId)).map((c) => c.tags)).toEqual([
      ['t', 'x'],
      ['t', 'y'],
    ]);
  });

  it('refuses a batch ahead of the cursor as a non-retryable failure', async () => {
    const siteId = await seedSite(testDb.db);
    const row = await storeImport(testDb.db, siteId, 'email\na@example.com\nb@example.com\n');
    await env.run(activities.prepareContactImport, { importId: row.id, batchSize: 1 });
    const err = await env.run(activities.importContactBatch, { importId: row.id, seq: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'ImportBatchOutOfOrder', nonRetryable: true });
  });

  it('fails a file without an email column or with a broken quote as InvalidCsv, storing nothing', async () => {
    const siteId = await seedSite(testDb.db);
    for (const csv of ['name,phone\nAda,1\n', 'email,name\na@example.com,"Ada\n']) {
      const row = await storeImport(testDb.db, siteId, csv);
      const err = await env.run(activities.prepareContactImport, { importId: row.id }).catch((e: unknown) => e);
      expect(err).toMatchObject({ type: 'InvalidCsv', nonRetryable: true });
      expect((await getImport(testDb.db, siteId, row.id))?.batchCount).toBeNull();
    }
    expect(await contactsOf(testDb.db, siteId)).toEqual([]);
  });

  it('ignores list ids of another site', async () => {
    const siteId = await seedSite(testDb.db);
    const otherList = await seedList(testDb.db, await seedSite(testDb.db, 'Other'));
    const row = await storeImport(testDb.db, siteId, 'email\na@example.com\n', { listIds: [otherList] });
    await runImport(row.id);
    expect((await contactsOf(testDb.db, siteId))[0]?.lists).toEqual([]);
  });
});
