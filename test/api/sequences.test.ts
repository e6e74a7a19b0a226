import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactEvents, emailEvents, enrollmentSteps, enrollments, enrollmentOutbox, segments, sends, sequenceSteps } from '../../src/db/schema.js';
import { enrollStagedTriggers } from '../../src/db/repositories/enrollment-outbox.js';
import { startTestApi, type TestApi } from './support.js';

// Temporal is unreachable in these tests: everything here either never needs it or is about what
// happens when it is down. Journeys that really run are in test/e2e/sequences.test.ts.

let api: TestApi;
let configA: number;
let configB: number;

// Tests read JSON loosely; the assertions are the type check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

beforeAll(async () => {
  api = await startTestApi({ TIDINGS_SECRET: 'sequences-test-secret-0123456789abcdef', TEMPORAL_UI_URL: 'http://temporal-ui.test:8233/' });
  configA = await sendingConfig();
  configB = await sendingConfig(api.siteB.key);
});
afterAll(async () => {
  await api?.close();
});

async function sendingConfig(key?: string): Promise<number> {
  const res = await api.call('POST', '/api/v1/sending-configs', { key, body: { name: 'Log', provider: 'log', fromEmail: 'hello@example.test' } });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

async function createSequence(body: Record<string, unknown> = {}, key?: string): Promise<Json> {
  const res = await api.call('POST', '/api/v1/sequences', { key, body: { name: 'Onboarding Flow', sendingConfigId: key ? configB : configA, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body.data;
}

async function addStep(sequenceId: number, body: Record<string, unknown>, key?: string): Promise<Json> {
  const res = await api.call('POST', `/api/v1/sequences/${sequenceId}/steps`, { key, body });
  expect(res.status, res.text).toBe(201);
  return res.body.data;
}

async function createContact(email: string, extra: Record<string, unknown> = {}, key?: string): Promise<number> {
  const res = await api.call('POST', '/api/v1/contacts', { key, body: { email, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

/** An enrollment row as the workflow leaves it (these tests have no workflow). */
async function insertEnrollment(sequenceId: number, contactId: number, status: 'active' | 'completed', run = 1) {
  const [row] = await api.db
    .insert(enrollments)
    .values({ siteId: api.siteA.id, sequenceId, contactId, run, status, workflowId: `enrollment:${sequenceId}:${contactId}${run > 1 ? `:${run}` : ''}` })
    .returning();
  return row!;
}

/**
 * What the enrollment-outbox relay does before it starts workflows: turns every staged row into an
 * enrollment or sets it aside, counting each on its job (none here needs a workflow start).
 */
async function drainStagedRows(): Promise<void> {
  while ((await enrollStagedTriggers(api.db, { limit: 500 })).claimed > 0);
}

const welcome = { subject: 'Welcome!', html: '<p>Hi {{ firstName | default: "there" }}</p>', delayValue: 0, delayUnit: 'minutes' };

describe('sequences and steps', () => {
  it('accepts the seed calls verbatim and returns the sequence with its three steps in order', async () => {
    const created = await api.call('POST', '/api/v1/sequences', { body: { name: 'Onboarding Flow', sendingConfigId: configA } });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      name: 'Onboarding Flow',
      sendingConfigId: configA,
      status: 'active',
      trigger: { type: 'manual' },
      allowReenrollment: false,
      sendWindow: null,
      exitOn: {},
      steps: [],
    });
    const id = created.body.data.id;
    await addStep(id, { subject: 'Welcome!', html: '...', delayValue: 0, delayUnit: 'minutes' });
    await addStep(id, { subject: 'Getting started', html: '...', delayValue: 1, delayUnit: 'days' });
    await addStep(id, { subject: 'Pro tips', html: '...', delayValue: 3, delayUnit: 'days' });

    const got = await api.call('GET', `/api/v1/sequences/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.data.steps.map((s: Json) => [s.position, s.type, s.subject, s.delayValue, s.delayUnit])).toEqual([
      [1, 'email', 'Welcome!', 0, 'minutes'],
      [2, 'email', 'Getting started', 1, 'days'],
      [3, 'email', 'Pro tips', 3, 'days'],
    ]);
    const listed = await api.call('GET', '/api/v1/sequences?limit=100');
    expect(listed.body.data.find((s: Json) => s.id === id).steps).toHaveLength(3);
  });

  it('updates sequence options and validates the send window, trigger and exit rules', async () => {
    const seq = await createSequence();
    const patched = await api.call('PATCH', `/api/v1/sequences/${seq.id}`, {
      body: {
        name: 'Renamed',
        allowReenrollment: true,
        sendWindow: { days: [1, 2, 3, 4, 5], startHour: 9, endHour: 17, timezone: 'europe/paris' },
        exitOn: { events: ['purchased'] },
        trigger: { type: 'event', name: 'signed_up' },
      },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.data).toMatchObject({
      name: 'Renamed',
      allowReenrollment: true,
      sendWindow: { days: [1, 2, 3, 4, 5], startHour: 9, endHour: 17, timezone: 'Europe/Paris' },
      exitOn: { events: ['purchased'] },
      trigger: { type: 'event', name: 'signed_up' },
    });

    const bad = await api.call('PATCH', `/api/v1/sequences/${seq.id}`, {
      body: { sendWindow: { days: [0, 8], startHour: 18, endHour: 9 }, trigger: { type: 'list_add' } },
    });
    expect(bad.status).toBe(400);
    const paths = bad.body.error.details.map((d: Json) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['sendWindow.days.0', 'sendWindow.days.1', 'trigger.listId']));
  });

  it('inserts a step at a position, shifting the later ones, and reorders steps', async () => {
    const seq = await createSequence();
    const a = await addStep(seq.id, { ...welcome, subject: 'A' });
    const b = await addStep(seq.id, { ...welcome, subject: 'B' });
    const first = await addStep(seq.id, { ...welcome, subject: 'First', position: 1 });
    expect(first.position).toBe(1);
    const order = async () => (await api.call('GET', `/api/v1/sequences/${seq.id}/steps`)).body.data.map((s: Json) => [s.position, s.subject]);
    expect(await order()).toEqual([[1, 'First'], [2, 'A'], [3, 'B']]);

    const reordered = await api.call('POST', `/api/v1/sequences/${seq.id}/steps/reorder`, { body: { stepIds: [b.id, first.id, a.id] } });
    expect(reordered.status).toBe(200);
    expect(reordered.body.data.map((s: Json) => s.subject)).toEqual(['B', 'First', 'A']);
    expect(await order()).toEqual([[1, 'B'], [2, 'First'], [3, 'A']]);

    const moved = await api.call('PATCH', `/api/v1/sequences/${seq.id}/steps/${a.id}`, { body: { position: 1, subject: 'A2' } });
    expect(moved.status).toBe(200);
    expect(await order()).toEqual([[1, 'A2'], [2, 'B'], [3, 'First']]);

    const missing = await api.call('POST', `/api/v1/sequences/${seq.id}/steps/reorder`, { body: { stepIds: [b.id, a.id] } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0].message).toMatch(/missing steps: \d+/);
    const foreign = await api.call('POST', `/api/v1/sequences/${seq.id}/steps/reorder`, { body: { stepIds: [b.id, a.id, first.id, 999999] } });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.details[0].message).toBe('not steps of this sequence: 999999');
  });

  it('soft-deletes a step: it leaves the sequence but its row stays for running journeys', async () => {
    const seq = await createSequence();
    const a = await addStep(seq.id, { ...welcome, subject: 'A' });
    const b = await addStep(seq.id, { ...welcome, subject: 'B' });
    expect((await api.call('DELETE', `/api/v1/sequences/${seq.id}/steps/${a.id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/sequences/${seq.id}/steps/${a.id}`)).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/sequences/${seq.id}/steps/${a.id}`)).status).toBe(404);
    const steps = (await api.call('GET', `/api/v1/sequences/${seq.id}/steps`)).body.data;
    expect(steps.map((s: Json) => [s.id, s.position])).toEqual([[b.id, 1]]);
    const [row] = await api.db.select().from(sequenceSteps).where(eq(sequenceSteps.id, a.id));
    expect(row!.deletedAt).toBeInstanceOf(Date);
  });

  it('stores condition and wait_for_event steps whose branches point at steps of the same sequence', async () => {
    const seq = await createSequence();
    const email = await addStep(seq.id, welcome);
    const later = await addStep(seq.id, { ...welcome, subject: 'Later', delayValue: 2, delayUnit: 'hours' });
    const condition = await addStep(seq.id, { type: 'condition', condition: { kind: 'opened', stepId: email.id }, then: later.id, else: null });
    expect(condition).toMatchObject({ type: 'condition', condition: { kind: 'opened', stepId: email.id }, then: later.id, else: null, subject: null });
    const wait = await addStep(seq.id, { type: 'wait_for_event', event: 'purchased', timeoutValue: 3, timeoutUnit: 'days', then: null, else: later.id });
    expect(wait).toMatchObject({ type: 'wait_for_event', event: 'purchased', timeoutValue: 3, timeoutUnit: 'days', then: null, else: later.id });

    const other = await createSequence();
    const foreignStep = await addStep(other.id, welcome);
    const bad = await api.call('POST', `/api/v1/sequences/${seq.id}/steps`, {
      body: { type: 'condition', condition: { kind: 'has_tag', tag: 'vip' }, then: foreignStep.id, else: 999999 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([
      { path: 'then', message: `step ${foreignStep.id} is not a step of this sequence` },
      { path: 'else', message: 'step 999999 is not a step of this sequence' },
    ]);
    const self = await api.call('PATCH', `/api/v1/sequences/${seq.id}/steps/${condition.id}`, { body: { then: condition.id } });
    expect(self.status).toBe(400);
    expect(self.body.error.details).toEqual([{ path: 'then', message: 'a step cannot point at itself' }]);
  });

  it('rejects invalid steps with 400 naming the problem, and bad Liquid with its line and column', async () => {
    const seq = await createSequence();
    const cases: [Record<string, unknown>, string][] = [
      [{ subject: 'No body', delayValue: 0, delayUnit: 'minutes' }, 'html'],
      [{ ...welcome, delayUnit: 'fortnights' }, 'delayUnit'],
      [{ ...welcome, delayValue: -1 }, 'delayValue'],
      [{ ...welcome, delayValue: 1.5 }, 'delayValue'],
      [{ ...welcome, delayValue: 100, delayUnit: 'weeks' }, 'delayValue'],
      [{ type: 'condition' }, 'condition'],
      [{ type: 'condition', condition: { kind: 'sometimes' } }, 'condition.kind'],
      [{ type: 'wait_for_event', event: 'purchased' }, 'timeoutValue'],
      [{ type: 'teleport' }, 'type'],
    ];
    for (const [body, path] of cases) {
      const res = await api.call('POST', `/api/v1/sequences/${seq.id}/steps`, { body });
      expect({ body, status: res.status, paths: res.body.error?.details?.map((d: Json) => d.path) }).toEqual({
        body,
        status: 400,
        paths: expect.arrayContaining([path]),
      });
    }
    const liquid = await api.call('POST', `/api/v1/sequences/${seq.id}/steps`, {
      body: { subject: 'Hi', html: '<p>line one</p>\n<p>{% if firstName %}unclosed</p>', delayValue: 0, delayUnit: 'minutes' },
    });
    expect(liquid.status).toBe(400);
    expect(liquid.body.error.code).toBe('template_syntax');
    expect(liquid.body.error.details[0]).toMatchObject({ field: 'html', line: 2, column: expect.any(Number) });
    expect((await api.call('GET', `/api/v1/sequences/${seq.id}/steps`)).body.data).toEqual([]);
  });

  it('switches a step to a template and back, and refuses another site’s template', async () => {
    const seq = await createSequence();
    const step = await addStep(seq.id, welcome);
    const template = await api.call('POST', '/api/v1/templates', { body: { name: 'T', subject: 'From template', html: '<p>T</p>' } });
    const toTemplate = await api.call('PATCH', `/api/v1/sequences/${seq.id}/steps/${step.id}`, { body: { templateId: template.body.data.id } });
    expect(toTemplate.body.data).toMatchObject({ templateId: template.body.data.id, subject: null, html: null });
    const back = await api.call('PATCH', `/api/v1/sequences/${seq.id}/steps/${step.id}`, { body: { subject: 'Inline', html: '<p>I</p>' } });
    expect(back.body.data).toMatchObject({ templateId: null, subject: 'Inline', html: '<p>I</p>' });
    const theirs = await api.call('POST', '/api/v1/templates', { key: api.siteB.key, body: { name: 'B', subject: 'B', html: 'B' } });
    const refused = await api.call('PATCH', `/api/v1/sequences/${seq.id}/steps/${step.id}`, { body: { templateId: theirs.body.data.id } });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('template_not_found');
  });

  it('refuses a sending config, trigger list or tag of another site with 404, and bad bodies with 400', async () => {
    const foreignConfig = await api.call('POST', '/api/v1/sequences', { body: { name: 'X', sendingConfigId: configB } });
    expect(foreignConfig.status).toBe(404);
    expect(foreignConfig.body.error.code).toBe('sending_config_not_found');
    const list = await api.call('POST', '/api/v1/lists', { key: api.siteB.key, body: { name: 'B list' } });
    const foreignList = await api.call('POST', '/api/v1/sequences', {
      body: { name: 'X', sendingConfigId: configA, trigger: { type: 'list_add', listId: list.body.data.id } },
    });
    expect(foreignList.status).toBe(404);
    expect(foreignList.body.error.code).toBe('list_not_found');
    const foreignTag = await api.call('POST', '/api/v1/sequences', { body: { name: 'X', sendingConfigId: configA, trigger: { type: 'tag_add', tagId: 999999 } } });
    expect(foreignTag.status).toBe(404);
    expect(foreignTag.body.error.code).toBe('tag_not_found');

    const noName = await api.call('POST', '/api/v1/sequences', { body: { sendingConfigId: configA } });
    expect(noName.status).toBe(400);
    expect(noName.body.error.details.map((d: Json) => d.path)).toContain('name');
    const malformed = await api.call('POST', '/api/v1/sequences', { raw: '{"name": "x",' });
    expect(malformed.status).toBe(400);
  });

  it('hides another site’s sequence behind 404 on every route', async () => {
    const seq = await createSequence();
    const step = await addStep(seq.id, welcome);
    const key = api.siteB.key;
    const calls: [string, string, unknown?][] = [
      ['GET', `/api/v1/sequences/${seq.id}`],
      ['PATCH', `/api/v1/sequences/${seq.id}`, { name: 'mine' }],
      ['DELETE', `/api/v1/sequences/${seq.id}`],
      ['GET', `/api/v1/sequences/${seq.id}/steps`],
      ['POST', `/api/v1/sequences/${seq.id}/steps`, welcome],
      ['GET', `/api/v1/sequences/${seq.id}/steps/${step.id}`],
      ['PATCH', `/api/v1/sequences/${seq.id}/steps/${step.id}`, { subject: 'mine' }],
      ['DELETE', `/api/v1/sequences/${seq.id}/steps/${step.id}`],
      ['POST', `/api/v1/sequences/${seq.id}/steps/reorder`, { stepIds: [step.id] }],
      ['GET', `/api/v1/sequences/${seq.id}/stats`],
      ['POST', `/api/v1/sequences/${seq.id}/enroll`, { contactId: 1 }],
      ['POST', `/api/v1/sequences/${seq.id}/unenroll`, { contactId: 1 }],
      ['GET', `/api/v1/sequences/${seq.id}/enrollments`],
    ];
    for (const [method, path, body] of calls) {
      const res = await api.call(method, path, { key, body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
    const listed = await api.call('GET', '/api/v1/sequences?limit=100', { key });
    expect(listed.body.data.map((s: Json) => s.id)).not.toContain(seq.id);
    expect((await api.call('GET', `/api/v1/sequences/${seq.id}/steps`)).body.data).toHaveLength(1);
  });

  it('deletes a sequence nobody was enrolled in, and archives one with enrollments', async () => {
    const unused = await createSequence();
    const gone = await api.call('DELETE', `/api/v1/sequences/${unused.id}`);
    expect(gone.body.data).toEqual({ id: unused.id, outcome: 'deleted' });
    expect((await api.call('GET', `/api/v1/sequences/${unused.id}`)).status).toBe(404);

    const used = await createSequence();
    await insertEnrollment(used.id, await createContact('archived-journey@example.com'), 'completed');
    const archived = await api.call('DELETE', `/api/v1/sequences/${used.id}`);
    expect(archived.body.data).toEqual({ id: used.id, outcome: 'archived' });
    expect((await api.call('GET', `/api/v1/sequences/${used.id}`)).body.data.status).toBe('archived');
  });
});

describe('enrollment without Temporal', () => {
  it('reports already-active, unknown, unsubscribed and suppressed contacts without enrolling anyone twice', async () => {
    const seq = await createSequence();
    await addStep(seq.id, welcome);
    const active = await createContact('already@example.com');
    const unsubscribed = await createContact('gone@example.com', { status: 'unsubscribed' });
    const suppressed = await createContact('blocked@example.com');
    await api.call('POST', '/api/v1/suppressions', { body: { email: 'blocked@example.com', reason: 'manual' } });
    const theirs = await createContact('theirs@example.com', {}, api.siteB.key);
    await insertEnrollment(seq.id, active, 'active');

    const res = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { contactIds: [active, unsubscribed, suppressed, theirs, 999999] } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual({
      enrolled: 0,
      alreadyActive: 1,
      alreadyEnrolled: 0,
      notFound: 2,
      skipped: 2,
      ids: {
        enrolled: [],
        alreadyActive: [active],
        alreadyEnrolled: [],
        notFound: [theirs, 999999],
        skipped: [
          { contactId: unsubscribed, reason: 'unsubscribed' },
          { contactId: suppressed, reason: 'suppressed' },
        ],
      },
    });
    const rows = await api.db.select().from(enrollments).where(eq(enrollments.sequenceId, seq.id));
    expect(rows).toHaveLength(1);
  });

  it('enrolls a segment’s and a tag’s contacts as jobs, through the same checks', async () => {
    const seq = await createSequence();
    const active = await createContact('segment-active@example.com', { tags: ['seg-test'] });
    const gone = await createContact('segment-gone@example.com', { status: 'bounced', tags: ['seg-test'] });
    await createContact('not-in-segment@example.com');
    await insertEnrollment(seq.id, active, 'active');
    const [segment] = await api.db
      .insert(segments)
      .values({ siteId: api.siteA.id, name: 'S', rules: { operator: 'AND', conditions: [{ type: 'attribute', field: 'email', op: 'starts_with', value: 'segment-' }] } })
      .returning();
    const bySegment = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { segmentId: segment!.id } });
    expect(bySegment.status, bySegment.text).toBe(202);
    expect(bySegment.headers.get('location')).toBe(`/api/v1/enrollment-jobs/${bySegment.body.data.id}`);
    expect(bySegment.body.data).toMatchObject({ sequenceId: seq.id, source: { kind: 'segment', id: segment!.id }, status: 'running', total: 2, enrolled: 0, progress: 0 });
    await drainStagedRows();
    const segmentJob = await api.call('GET', `/api/v1/enrollment-jobs/${bySegment.body.data.id}`);
    expect(segmentJob.body.data).toMatchObject({ status: 'completed', total: 2, enrolled: 0, started: 0, alreadyActive: 1, skipped: 1, notFound: 0, progress: 1 });
    expect(segmentJob.body.data.completedAt).not.toBeNull();
    // The bounced contact was set aside, the active one not enrolled twice.
    const rows = await api.db.select().from(enrollments).where(eq(enrollments.sequenceId, seq.id));
    expect(rows.map((r) => r.contactId)).toEqual([active]);
    expect(rows.some((r) => r.contactId === gone)).toBe(false);

    const tag = (await api.call('GET', '/api/v1/tags?limit=100')).body.data.find((t: Json) => t.name === 'seg-test');
    const byTag = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { tagId: tag.id } });
    expect(byTag.status).toBe(202);
    await drainStagedRows();
    expect((await api.call('GET', `/api/v1/enrollment-jobs/${byTag.body.data.id}`)).body.data).toMatchObject({ status: 'completed', alreadyActive: 1, skipped: 1 });
    expect((await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { segmentId: 999999 } })).status).toBe(404);
    // Another site's key sees no job of this one.
    expect((await api.call('GET', `/api/v1/enrollment-jobs/${byTag.body.data.id}`, { key: api.siteB.key })).status).toBe(404);
  });

  it('stages a list larger than one batch as one job at once, and the job counts every member once drained', async () => {
    const seq = await createSequence();
    const list = await api.call('POST', '/api/v1/lists', { body: { name: 'Big list' } });
    const listId = list.body.data.id;
    // Unsubscribed members are read and judged like any others but need no workflow.
    const members = Array.from({ length: 1100 }, (_, i) => ({ email: `big${i}@example.com`, status: 'unsubscribed', lists: [listId] }));
    for (const chunk of [members.slice(0, 1000), members.slice(1000)]) {
      expect((await api.call('POST', '/api/v1/contacts/bulk', { body: { contacts: chunk } })).status).toBe(200);
    }
    const res = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { listId } });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ status: 'running', total: 1100, progress: 0 });
    // A second drain takes over from where the first stopped: the batches are disjoint.
    await drainStagedRows();
    const job = await api.call('GET', `/api/v1/enrollment-jobs/${res.body.data.id}`);
    expect(job.body.data).toMatchObject({ status: 'completed', total: 1100, enrolled: 0, started: 0, alreadyActive: 0, alreadyEnrolled: 0, notFound: 0, skipped: 1100, progress: 1 });
  });

  it('replays the first answer for a retried enroll with the same Idempotency-Key', async () => {
    const seq = await createSequence();
    const contact = await createContact('idempotent-enroll@example.com');
    await insertEnrollment(seq.id, contact, 'active');
    const headers = { 'idempotency-key': `enroll-${seq.id}` };
    const first = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { contactId: contact }, headers });
    const retry = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { contactId: contact }, headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
  });

  it('reports a contact who finished the journey when re-enrollment is off', async () => {
    const seq = await createSequence();
    const done = await createContact('finished@example.com');
    await insertEnrollment(seq.id, done, 'completed');
    const res = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { contactId: done } });
    expect(res.body.data).toMatchObject({ enrolled: 0, alreadyEnrolled: 1, ids: { alreadyEnrolled: [done] } });
  });

  it('refuses to enroll into a paused or archived sequence with 422', async () => {
    const seq = await createSequence({ status: 'paused' });
    const contact = await createContact('paused@example.com');
    const res = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { contactId: contact } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'sequence_not_active', message: `Sequence ${seq.id} is paused; only an active sequence enrolls contacts` });
  });

  it('rejects enroll bodies without exactly one audience, or with more than 1,000 ids', async () => {
    const seq = await createSequence();
    for (const body of [{}, { contactId: 1, listId: 2 }, { contactIds: [] }, { contactIds: Array.from({ length: 1001 }, (_, i) => i + 1) }, { contactId: 'abc' }]) {
      const res = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body });
      expect({ body: JSON.stringify(body).slice(0, 40), status: res.status }).toEqual({ body: JSON.stringify(body).slice(0, 40), status: 400 });
    }
    const unknownList = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { listId: 999999 } });
    expect(unknownList.status).toBe(404);
  });

  it('answers 503 when Temporal is down and leaves no active enrollment behind, so a retry can enroll', async () => {
    const seq = await createSequence();
    await addStep(seq.id, welcome);
    const contact = await createContact('temporal-down@example.com');
    const res = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { contactId: contact } });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('service_unavailable');
    const rows = await api.db.select().from(enrollments).where(eq(enrollments.sequenceId, seq.id));
    expect(rows.map((r) => [r.status, r.exitReason?.startsWith('workflow_start_failed')])).toEqual([['failed', true]]);
    const active = await api.call('GET', `/api/v1/sequences/${seq.id}/enrollments?status=active`);
    expect(active.body.pagination.total).toBe(0);
    // A failed start does not count as "enrolled before": the retry is judged like the first try.
    const retry = await api.call('POST', `/api/v1/sequences/${seq.id}/enroll`, { body: { contactId: contact } });
    expect(retry.status).toBe(503);
  });

  it('still adds a contact to a list when the list’s trigger cannot reach Temporal', async () => {
    const list = await api.call('POST', '/api/v1/lists', { body: { name: 'Trigger list' } });
    const seq = await createSequence({ trigger: { type: 'list_add', listId: list.body.data.id } });
    await addStep(seq.id, welcome);
    const contact = await createContact('list-trigger-down@example.com');
    const added = await api.call('POST', `/api/v1/contacts/${contact}/lists`, { body: { listId: list.body.data.id } });
    expect(added.status).toBe(200);
    expect(added.body.data.lists).toEqual([list.body.data.id]);
    // The journey is made and kept for the enrollment-outbox relay, which starts it once Temporal answers.
    const rows = await api.db.select().from(enrollments).where(eq(enrollments.sequenceId, seq.id));
    expect(rows.map((r) => [r.contactId, r.status])).toEqual([[contact, 'active']]);
    const staged = await api.db.select().from(enrollmentOutbox).where(eq(enrollmentOutbox.sequenceId, seq.id));
    expect(staged.map((r) => r.enrollmentId)).toEqual([rows[0]!.id]);
  });

  it('answers 404 when unenrolling a contact with no active enrollment', async () => {
    const seq = await createSequence();
    const contact = await createContact('not-enrolled@example.com');
    const res = await api.call('POST', `/api/v1/sequences/${seq.id}/unenroll`, { body: { contactId: contact } });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('enrollment_not_found');
  });

  it('shows a finished enrollment from the database with its recorded history, and lists enrollments by status', async () => {
    const seq = await createSequence();
    const step = await addStep(seq.id, welcome);
    const contact = await createContact('history@example.com');
    const row = await insertEnrollment(seq.id, contact, 'completed');
    await api.db.insert(enrollmentSteps).values({ enrollmentId: row.id, seq: 1, stepId: step.id, outcome: 'sent', at: new Date('2026-01-01T10:00:00Z') });

    const res = await api.call('GET', `/api/v1/enrollments/${row.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      id: row.id,
      sequenceId: seq.id,
      contactId: contact,
      contactEmail: 'history@example.com',
      run: 1,
      workflowId: `enrollment:${seq.id}:${contact}`,
      status: 'completed',
      history: [{ stepId: step.id, outcome: 'sent', sendId: null, at: '2026-01-01T10:00:00.000Z' }],
      source: 'database',
      temporalUiUrl: `http://temporal-ui.test:8233/namespaces/default/workflows/enrollment%3A${seq.id}%3A${contact}`,
    });
    expect((await api.call('GET', `/api/v1/enrollments/${row.id}`, { key: api.siteB.key })).status).toBe(404);

    const completed = await api.call('GET', `/api/v1/sequences/${seq.id}/enrollments?status=completed`);
    expect(completed.body.data.map((e: Json) => e.id)).toEqual([row.id]);
    expect(completed.body.data[0].temporalUiUrl).toBe(res.body.data.temporalUiUrl);
    expect((await api.call('GET', `/api/v1/sequences/${seq.id}/enrollments?status=active`)).body.data).toEqual([]);
    expect((await api.call('GET', `/api/v1/sequences/${seq.id}/enrollments?status=sleeping`)).status).toBe(400);
  });
});

describe('sequence stats', () => {
  it('counts per step the emails sent and the distinct sends opened and clicked', async () => {
    const seq = await createSequence();
    const one = await addStep(seq.id, welcome);
    const two = await addStep(seq.id, { ...welcome, subject: 'Two' });
    const contacts = await Promise.all([1, 2, 3].map((i) => createContact(`stats${i}@example.com`)));
    const send = async (stepId: number, contactId: number, status: 'sent' | 'failed') => {
      const [row] = await api.db
        .insert(sends)
        .values({
          siteId: api.siteA.id,
          kind: 'sequence',
          contactId,
          toEmail: `c${contactId}@example.com`,
          subject: 's',
          html: 'h',
          text: 't',
          sendingConfigId: configA,
          sequenceId: seq.id,
          stepId,
          status,
          idempotencyKey: `stats:${stepId}:${contactId}`,
        })
        .returning({ id: sends.id });
      return row!.id;
    };
    const s1 = await send(one.id, contacts[0]!, 'sent');
    const s2 = await send(one.id, contacts[1]!, 'sent');
    await send(one.id, contacts[2]!, 'failed');
    const s4 = await send(two.id, contacts[0]!, 'sent');
    const event = (sendId: number, stepId: number, type: string, n: number) => ({
      siteId: api.siteA.id,
      type,
      sendId,
      sequenceId: seq.id,
      stepId,
      dedupeKey: `${type}:${sendId}:${n}`,
    });
    // Two opens of the same send count once.
    await api.db.insert(emailEvents).values([event(s1, one.id, 'opened', 1), event(s1, one.id, 'opened', 2), event(s2, one.id, 'opened', 1), event(s1, one.id, 'clicked', 1), event(s4, two.id, 'opened', 1)]);

    // The funnel: three journeys reached step one, one went on to step two; one waits after step one,
    // one was unenrolled after it, and the one past step two completed (not an early exit).
    const journeys = await Promise.all(contacts.map((c) => insertEnrollment(seq.id, c, 'active')));
    await api.db.insert(enrollmentSteps).values([
      ...journeys.map((j) => ({ enrollmentId: j.id, seq: 1, stepId: one.id, outcome: 'sent' })),
      { enrollmentId: journeys[0]!.id, seq: 2, stepId: two.id, outcome: 'sent' },
    ]);
    await api.db.update(enrollments).set({ currentStepId: two.id, status: 'completed' }).where(eq(enrollments.id, journeys[0]!.id));
    await api.db.update(enrollments).set({ currentStepId: one.id, status: 'unenrolled' }).where(eq(enrollments.id, journeys[1]!.id));
    await api.db.update(enrollments).set({ currentStepId: one.id }).where(eq(enrollments.id, journeys[2]!.id));

    const res = await api.call('GET', `/api/v1/sequences/${seq.id}/stats`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      { stepId: one.id, position: 1, type: 'email', subject: 'Welcome!', entered: 3, sent: 2, opened: 2, clicked: 1, active: 1, exited: 1 },
      { stepId: two.id, position: 2, type: 'email', subject: 'Two', entered: 1, sent: 1, opened: 1, clicked: 0, active: 0, exited: 0 },
    ]);
  });
});

describe('contact events', () => {
  it('records an event for a contact and lists it; nothing to enroll or signal needs no Temporal', async () => {
    const contact = await createContact('events@example.com');
    const res = await api.call('POST', `/api/v1/contacts/${contact}/events`, { body: { name: 'purchased', data: { plan: 'pro' } } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toMatchObject({ event: { contactId: contact, name: 'purchased', data: { plan: 'pro' } }, enrolledInto: [], signalled: 0 });
    const listed = await api.call('GET', `/api/v1/contacts/${contact}/events?name=purchased`);
    expect(listed.body.data.map((e: Json) => e.name)).toEqual(['purchased']);
    const rows = await api.db.select().from(contactEvents).where(and(eq(contactEvents.contactId, contact), eq(contactEvents.name, 'purchased')));
    expect(rows).toHaveLength(1);
  });

  it('answers 503 and records nothing when an event-triggered sequence cannot be reached', async () => {
    const seq = await createSequence({ trigger: { type: 'event', name: 'trial_started' } });
    await addStep(seq.id, welcome);
    const contact = await createContact('event-down@example.com');
    const res = await api.call('POST', `/api/v1/contacts/${contact}/events`, { body: { name: 'trial_started' } });
    expect(res.status).toBe(503);
    expect(await api.db.select().from(contactEvents).where(eq(contactEvents.contactId, contact))).toEqual([]);
  });

  it('refuses events for unknown or another site’s contacts, and events without a name', async () => {
    const theirs = await createContact('their-events@example.com', {}, api.siteB.key);
    expect((await api.call('POST', `/api/v1/contacts/${theirs}/events`, { body: { name: 'x' } })).status).toBe(404);
    expect((await api.call('GET', `/api/v1/contacts/${theirs}/events`)).status).toBe(404);
    const mine = await createContact('nameless@example.com');
    const bad = await api.call('POST', `/api/v1/contacts/${mine}/events`, { body: { data: {} } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: Json) => d.path)).toContain('name');
  });
});
