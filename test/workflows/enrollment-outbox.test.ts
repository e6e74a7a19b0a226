import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContact, updateContact, upsertContacts } from '../../src/db/repositories/contacts.js';
import { insertEnrollments, markEnrollmentEnded } from '../../src/db/repositories/enrollments.js';
import { stageEnrollmentStarts } from '../../src/db/repositories/enrollment-outbox.js';
import { addContactsToLists, tagContacts } from '../../src/db/repositories/imports.js';
import { createList } from '../../src/db/repositories/lists.js';
import { ensureLogSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { ensureTags } from '../../src/db/repositories/tags.js';
import { enrollments, enrollmentOutbox, sequences } from '../../src/db/schema.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createLogger } from '../../src/logger.js';
import { drainEnrollmentOutbox } from '../../src/services/enrollment-outbox.js';
import { ensureOutboxRelays } from '../../src/temporal/relays.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { createDevServerEnv } from '../helpers/temporal.js';
import { startTestWorkers, type RunningTestWorkers } from '../helpers/workers.js';
import { createSequence, eventually } from './enrollment-fixtures.js';

// The enrollment outbox against real PostgreSQL (its triggers stage the rows) and a Temporal dev
// server (the enrollment workflows are really started; their first step waits a day, so none sends).

const SECRET = 'enrollment-outbox-test-secret-0123456789abcdef';
const secretBox = createSecretBox(SECRET);

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let workers: RunningTestWorkers;
/** A client whose every call fails: Temporal "down" (nothing listens on port 1). */
let unreachable: Client;

beforeAll(async () => {
  [env, testDb] = await Promise.all([createDevServerEnv(), createTestDb()]);
  workers = await startTestWorkers({ env, db: testDb.db, resendBaseUrl: 'http://127.0.0.1:9', secret: SECRET });
  unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
});

afterAll(async () => {
  await unreachable?.connection.close().catch(() => {});
  await workers?.stop();
  await env?.teardown();
  await testDb?.close();
});

async function seedSite(name: string) {
  const site = await createSite(testDb.db, { name });
  const { config } = await ensureLogSendingConfig(testDb.db, secretBox, site.id);
  const list = await createList(testDb.db, site.id, { name: 'Signups' });
  const sequence = async (trigger: typeof sequences.$inferInsert.trigger, status: 'active' | 'paused' = 'active') => {
    const { sequenceId } = await createSequence(testDb.db, site.id, config.id, { welcome: { subject: 'Welcome', delay: [1, 'days'] } }, { status });
    await testDb.db.update(sequences).set({ trigger }).where(eq(sequences.id, sequenceId));
    return sequenceId;
  };
  return { siteId: site.id, listId: list.id, sequence };
}

const staged = (siteId: number) =>
  testDb.db.select().from(enrollmentOutbox).where(eq(enrollmentOutbox.siteId, siteId)).orderBy(asc(enrollmentOutbox.id));

const enrollmentsOf = (sequenceId: number) =>
  testDb.db.select().from(enrollments).where(eq(enrollments.sequenceId, sequenceId)).orderBy(asc(enrollments.contactId));

/** How many runs Temporal has of a workflow id (visibility is eventually consistent: poll). */
async function runsOf(workflowId: string): Promise<number> {
  let runs = 0;
  for await (const _ of env.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs += 1;
  return runs;
}

describe('enrollment outbox', () => {
  it('stages a journey whichever way a contact joins a list or gets a tag, and starts each once', async () => {
    const { siteId, listId, sequence } = await seedSite('every way in');
    const [vip] = [...(await ensureTags(testDb.db, siteId, ['vip'])).values()];
    const byList = await sequence({ type: 'list_add', listId });
    const byTag = await sequence({ type: 'tag_add', tagId: vip! });
    const paused = await sequence({ type: 'list_add', listId }, 'paused');

    const created = await createContact(testDb.db, siteId, { email: 'api@example.com', lists: [listId] });
    const bulk = await upsertContacts(testDb.db, siteId, [
      { email: 'bulk@example.com', lists: [listId], tags: ['vip'] },
      { email: 'bulk-tag@example.com', tags: ['vip'] },
    ]);
    // The CSV import's batch writes (one statement per batch, as activities/contact-import.ts does).
    const imported = await upsertContacts(testDb.db, siteId, [{ email: 'csv@example.com' }]);
    await testDb.db.transaction(async (tx) => {
      await addContactsToLists(tx, siteId, [listId], imported.ids);
      await tagContacts(tx, siteId, [{ contactId: imported.ids[0]!, tag: 'vip' }]);
    });
    const rows = await staged(siteId);
    expect(rows.map((r) => [r.sequenceId, r.contactId, r.source])).toEqual([
      [byList, created.id, 'list_add'],
      [byTag, bulk.ids[0], 'tag_add'],
      [byTag, bulk.ids[1], 'tag_add'],
      [byList, bulk.ids[0], 'list_add'],
      [byList, imported.ids[0], 'list_add'],
      [byTag, imported.ids[0], 'tag_add'],
    ]);
    expect(rows.some((r) => r.sequenceId === paused)).toBe(false);

    // Keeping a list or tag while replacing the set stages nothing; re-adding a member is a no-op.
    await updateContact(testDb.db, siteId, created.id, { lists: [listId], tags: [] });
    await upsertContacts(testDb.db, siteId, [{ email: 'bulk@example.com', lists: [listId], tags: ['vip'] }]);
    expect(await staged(siteId)).toHaveLength(rows.length);

    const drained = await drainEnrollmentOutbox({ db: testDb.db, temporal: env.client });
    expect(drained).toEqual({ claimed: 6, started: 6, ended: 0, failedStarts: 0, more: false });
    expect(await staged(siteId)).toEqual([]);
    const listJourneys = await enrollmentsOf(byList);
    expect(listJourneys.map((e) => [e.contactId, e.status])).toEqual([
      [created.id, 'active'],
      [bulk.ids[0], 'active'],
      [imported.ids[0], 'active'],
    ]);
    expect((await enrollmentsOf(byTag)).map((e) => e.contactId)).toEqual([bulk.ids[0], bulk.ids[1], imported.ids[0]]);
    for (const e of listJourneys) {
      const description = await env.client.workflow.getHandle(e.workflowId).describe();
      expect(description.status.name).toBe('RUNNING');
    }

    expect(await drainEnrollmentOutbox({ db: testDb.db, temporal: env.client })).toEqual({ claimed: 0, started: 0, ended: 0, failedStarts: 0, more: false });
    expect(await enrollmentsOf(byList)).toHaveLength(3);
  });

  it('keeps a journey staged while Temporal is unreachable and starts it exactly once when it answers', async () => {
    const { siteId, listId, sequence } = await seedSite('temporal down');
    const sequenceId = await sequence({ type: 'list_add', listId });
    const contact = await createContact(testDb.db, siteId, { email: 'patient@example.com', lists: [listId] });

    const down = await drainEnrollmentOutbox({ db: testDb.db, temporal: unreachable, logger: createLogger('silent') });
    expect(down).toEqual({ claimed: 1, started: 0, ended: 0, failedStarts: 1, more: false });
    const [journey] = await enrollmentsOf(sequenceId);
    expect(journey).toMatchObject({ contactId: contact.id, status: 'active' });
    expect((await staged(siteId)).map((r) => r.enrollmentId)).toEqual([journey!.id]);

    // A request's drain only takes fresh rows; the relay's (strandedAfterMs) restarts this one.
    expect(await drainEnrollmentOutbox({ db: testDb.db, temporal: env.client })).toMatchObject({ claimed: 0, started: 0 });
    expect(await drainEnrollmentOutbox({ db: testDb.db, temporal: env.client, logger: createLogger('silent') }, { strandedAfterMs: 0 })).toEqual({
      claimed: 0,
      started: 1,
      ended: 0,
      failedStarts: 0,
      more: false,
    });
    expect(await staged(siteId)).toEqual([]);
    const handle = env.client.workflow.getHandle(journey!.workflowId);
    expect((await handle.describe()).status.name).toBe('RUNNING');

    // A drain killed after starting but before forgetting the row starts it again: that attaches to
    // the running journey, and once the journey has finished it is refused; never a second run.
    const replay = () => testDb.db.insert(enrollmentOutbox).values({ siteId, sequenceId, contactId: contact.id, source: 'list_add', enrollmentId: journey!.id });
    await replay();
    expect(await drainEnrollmentOutbox({ db: testDb.db, temporal: env.client }, { strandedAfterMs: 0 })).toMatchObject({ started: 1, failedStarts: 0 });
    await handle.terminate('test: the journey ended');
    await replay();
    expect(await drainEnrollmentOutbox({ db: testDb.db, temporal: env.client }, { strandedAfterMs: 0 })).toMatchObject({ started: 1, failedStarts: 0 });
    expect(await staged(siteId)).toEqual([]);
    expect((await handle.describe()).status.name).toBe('TERMINATED');
    expect(await eventually(async () => ((await runsOf(journey!.workflowId)) === 1 ? 1 : undefined))).toBe(1);
    expect(await enrollmentsOf(sequenceId)).toHaveLength(1);
  });

  it('starts the journey of an enroll request whose process died between the commit and the workflow start', async () => {
    const { siteId, sequence } = await seedSite('enroll request cut short');
    const sequenceId = await sequence({ type: 'manual' });
    const contact = await createContact(testDb.db, siteId, { email: 'cut-short@example.com' });
    // What enrollContacts commits before it starts anything: the active row and its staged start.
    const [journey] = await insertEnrollments(testDb.db, siteId, sequenceId, [{ contactId: contact.id, run: 1 }]);
    await stageEnrollmentStarts(testDb.db, [{ siteId, sequenceId, contactId: contact.id, enrollmentId: journey!.id }]);

    // A request's drain leaves it (it is not that request's); the relay starts it once it is stranded.
    expect(await drainEnrollmentOutbox({ db: testDb.db, temporal: env.client }, { contactIds: [contact.id] })).toMatchObject({ started: 0 });
    expect(await drainEnrollmentOutbox({ db: testDb.db, temporal: env.client }, { strandedAfterMs: 0 })).toMatchObject({ started: 1, failedStarts: 0 });
    expect((await env.client.workflow.getHandle(journey!.workflowId).describe()).status.name).toBe('RUNNING');
    expect(await staged(siteId)).toEqual([]);
  });

  it('starts nothing for a staged journey that was unenrolled before its workflow could start', async () => {
    const { siteId, listId, sequence } = await seedSite('ended early');
    const sequenceId = await sequence({ type: 'list_add', listId });
    await createContact(testDb.db, siteId, { email: 'gone@example.com', lists: [listId] });
    await drainEnrollmentOutbox({ db: testDb.db, temporal: unreachable, logger: createLogger('silent') });
    const [journey] = await enrollmentsOf(sequenceId);
    await markEnrollmentEnded(testDb.db, journey!.id, 'unenrolled', 'unenrolled');

    expect(await drainEnrollmentOutbox({ db: testDb.db, temporal: env.client }, { strandedAfterMs: 0 })).toMatchObject({ started: 0, ended: 1, failedStarts: 0 });
    expect(await staged(siteId)).toEqual([]);
    await expect(env.client.workflow.getHandle(journey!.workflowId).describe()).rejects.toThrow(/not found/i);
  });

  it('lets the relay workflow start the journeys of a 1,200-contact import batch no request drained', async () => {
    const { siteId, listId, sequence } = await seedSite('relay');
    const sequenceId = await sequence({ type: 'list_add', listId });
    const contacts = await upsertContacts(
      testDb.db,
      siteId,
      Array.from({ length: 1200 }, (_, i) => ({ email: `imported-${i}@example.com` })),
    );
    await testDb.db.transaction((tx) => addContactsToLists(tx, siteId, [listId], contacts.ids));
    expect(await staged(siteId)).toHaveLength(1200);

    await ensureOutboxRelays(env.client, createLogger('silent'), { triggers: { everyMs: 200 } });
    await eventually(async () => (await staged(siteId)).length === 0, 90_000);
    const journeys = await enrollmentsOf(sequenceId);
    expect(journeys).toHaveLength(1200);
    expect(new Set(journeys.map((e) => e.contactId))).toEqual(new Set(contacts.ids));
    expect(journeys.every((e) => e.status === 'active')).toBe(true);
    await env.client.workflow.getHandle('enrollment-outbox').terminate('test over');
  }, 120_000);
});
