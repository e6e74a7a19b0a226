import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { createSite } from '../../src/db/repositories/sites.js';
import {
  contacts,
  contactTags,
  emailEvents,
  listMembers,
  lists,
  segments,
  sendingConfigs,
  sends,
  tags,
} from '../../src/db/schema.js';
import { countSegment, getSegmentRules, listSegmentContacts, segmentContactsSql } from '../../src/db/segments.js';
import { segmentRulesSchema, type SegmentCondition, type SegmentRules } from '../../src/domain/segment-rules.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

/**
 * The segment compiler against a real PostgreSQL. Site A has four contacts with distinct traits
 * (named by first letter: ada, bob, chloe, dan); site B has one contact, eve, who matches almost every
 * rule, so any leak across sites shows up as an "eve" in a result.
 */

let testDb: TestDb;
let db: Db;
let siteA: number;
let siteB: number;
const id: Record<string, number> = {};
let listNews: number;
let listPromo: number;
let listOfB: number;
const CAMPAIGN = 501;
const OTHER_CAMPAIGN = 502;
const SEQUENCE = 601;

const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);

beforeAll(async () => {
  testDb = await createTestDb();
  db = testDb.db;
  siteA = (await createSite(db, { name: 'A' })).id;
  siteB = (await createSite(db, { name: 'B' })).id;

  const rows = await db
    .insert(contacts)
    .values([
      {
        siteId: siteA,
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        city: 'Paris',
        country: 'FR',
        company: 'Analytical Engines',
        timezone: 'Europe/Paris',
        source: 'import',
        customFields: { plan: 'pro', age: 36, score: '42', signup: '2024-03-01T00:00:00Z', beta: true },
        status: 'subscribed',
        subscribedAt: new Date('2024-01-10T00:00:00Z'),
        createdAt: new Date('2024-01-10T00:00:00Z'),
      },
      {
        siteId: siteA,
        email: 'bob@example.com',
        firstName: 'Bob',
        city: 'London',
        country: 'GB',
        phone: '+44 20 7946 0000',
        customFields: { plan: 'free', age: 17, score: '7', signup: 'not a date' },
        status: 'unsubscribed',
        subscribedAt: new Date('2025-06-01T00:00:00Z'),
        createdAt: new Date('2025-06-01T00:00:00Z'),
      },
      {
        siteId: siteA,
        email: 'chloe@example.org',
        firstName: 'Chloé',
        city: 'paris',
        company: '50% Off',
        customFields: { plan: 'Pro', age: 'n/a', signup: '2025-10-01' },
        status: 'subscribed',
        subscribedAt: new Date('2025-11-01T00:00:00Z'),
        createdAt: new Date('2025-11-01T00:00:00Z'),
      },
      {
        siteId: siteA,
        email: 'dan@example.com',
        company: `O'Reilly, "Media" {x}`,
        city: '',
        source: 'api',
        customFields: { nested: { a: 1 } },
        status: 'bounced',
        createdAt: new Date('2025-12-01T00:00:00Z'),
      },
      {
        siteId: siteB,
        email: 'eve@example.com',
        firstName: 'Eve',
        city: 'Paris',
        country: 'FR',
        company: 'Analytical Engines',
        customFields: { plan: 'pro', age: 50, score: '99', signup: '2024-01-01' },
        status: 'subscribed',
        subscribedAt: new Date('2020-01-01T00:00:00Z'),
        createdAt: new Date('2020-01-01T00:00:00Z'),
      },
    ])
    .returning({ id: contacts.id, email: contacts.email });
  for (const r of rows) id[r.email.split('@')[0]!] = r.id;

  const [vip, beta, vipB] = await db
    .insert(tags)
    .values([
      { siteId: siteA, name: 'vip' },
      { siteId: siteA, name: 'beta' },
      { siteId: siteB, name: 'vip' },
    ])
    .returning({ id: tags.id });
  await db.insert(contactTags).values([
    { contactId: id.ada!, tagId: vip!.id },
    { contactId: id.ada!, tagId: beta!.id },
    { contactId: id.bob!, tagId: beta!.id },
    { contactId: id.eve!, tagId: vipB!.id },
  ]);

  [listNews, listPromo, listOfB] = (
    await db
      .insert(lists)
      .values([
        { siteId: siteA, name: 'News' },
        { siteId: siteA, name: 'Promo' },
        { siteId: siteB, name: 'B news' },
      ])
      .returning({ id: lists.id })
  ).map((l) => l.id) as [number, number, number];
  await db.insert(listMembers).values([
    { listId: listNews, contactId: id.ada! },
    { listId: listNews, contactId: id.bob! },
    { listId: listPromo, contactId: id.bob! },
    { listId: listPromo, contactId: id.chloe! },
    { listId: listOfB, contactId: id.eve! },
  ]);

  const configs = await db
    .insert(sendingConfigs)
    .values([
      { siteId: siteA, name: 'log', provider: 'log', fromEmail: 'a@example.com', credentialsEncrypted: 'none' },
      { siteId: siteB, name: 'log', provider: 'log', fromEmail: 'b@example.com', credentialsEncrypted: 'none' },
    ])
    .returning({ id: sendingConfigs.id });
  const send = (siteId: number, contact: string, extra: Partial<typeof sends.$inferInsert>) => ({
    siteId,
    kind: 'campaign' as const,
    contactId: id[contact]!,
    toEmail: `${contact}@example.com`,
    subject: 's',
    html: 'h',
    text: 't',
    sendingConfigId: configs[siteId === siteA ? 0 : 1]!.id,
    idempotencyKey: `${contact}:${extra.campaignId ?? ''}:${extra.sequenceId ?? ''}`,
    ...extra,
  });
  const sent = await db
    .insert(sends)
    .values([
      send(siteA, 'ada', { campaignId: CAMPAIGN, status: 'sent' }),
      send(siteA, 'bob', { campaignId: CAMPAIGN, status: 'failed' }),
      send(siteA, 'chloe', { kind: 'sequence', sequenceId: SEQUENCE, status: 'delivered' }),
      send(siteA, 'dan', { campaignId: OTHER_CAMPAIGN, status: 'delivered' }),
      send(siteB, 'eve', { campaignId: CAMPAIGN, status: 'sent' }),
      send(siteB, 'eve', { kind: 'sequence', sequenceId: SEQUENCE, status: 'sent' }),
    ])
    .returning({ id: sends.id });
  const [adaSend, , chloeSend, , eveSend] = sent;

  await db.insert(emailEvents).values([
    // Ada opened campaign CAMPAIGN two days ago (the event names the campaign).
    { siteId: siteA, type: 'opened', contactId: id.ada!, sendId: adaSend!.id, campaignId: CAMPAIGN, occurredAt: daysAgo(2) },
    // Bob clicked something ten days ago.
    { siteId: siteA, type: 'clicked', contactId: id.bob!, occurredAt: daysAgo(10) },
    // Chloé opened the sequence email 100 days ago; the event knows only its send.
    { siteId: siteA, type: 'opened', contactId: id.chloe!, sendId: chloeSend!.id, occurredAt: daysAgo(100) },
    // An event whose contact was deleted: it must not make "not clicked" match nobody.
    { siteId: siteA, type: 'clicked', contactId: null, occurredAt: daysAgo(1) },
    // Eve (site B) opened and clicked yesterday.
    { siteId: siteB, type: 'opened', contactId: id.eve!, sendId: eveSend!.id, campaignId: CAMPAIGN, occurredAt: daysAgo(1) },
    { siteId: siteB, type: 'clicked', contactId: id.eve!, occurredAt: daysAgo(1) },
  ]);
});

afterAll(async () => {
  await testDb?.close();
});

const nameOf = (contactId: number) => Object.entries(id).find(([, v]) => v === contactId)![0];

/** Validates like the API does, then runs the compiled query; matching contacts by name, sorted. */
async function match(rules: SegmentRules, site = siteA): Promise<string[]> {
  const valid = segmentRulesSchema.parse(rules);
  const result = await db.execute<{ id: number }>(segmentContactsSql(site, valid));
  return result.rows.map((r) => nameOf(r.id)).sort();
}

const one = (condition: SegmentCondition) => match({ operator: 'AND', conditions: [condition] });
const attr = (field: string, op: string, value?: unknown) =>
  one({ type: 'attribute', field, op, ...(value === undefined ? {} : { value }) } as SegmentCondition);

function issuesOf(rules: unknown): { path: string; message: string }[] {
  const result = segmentRulesSchema.safeParse(rules);
  if (result.success) return [];
  return result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('attribute conditions on contact fields', () => {
  it('eq and neq compare text case-insensitively, and neq includes contacts without the field', async () => {
    expect(await attr('city', 'eq', 'PARIS')).toEqual(['ada', 'chloe']);
    expect(await attr('city', 'neq', 'paris')).toEqual(['bob', 'dan']);
    expect(await attr('email', 'eq', 'Ada@Example.com')).toEqual(['ada']);
    expect(await attr('country', 'neq', 'FR')).toEqual(['bob', 'chloe', 'dan']);
  });

  it('contains and starts_with match substrings and treat % and _ literally', async () => {
    expect(await attr('email', 'contains', 'example.org')).toEqual(['chloe']);
    expect(await attr('company', 'contains', '50%')).toEqual(['chloe']);
    expect(await attr('company', 'contains', '%')).toEqual(['chloe']);
    expect(await attr('company', 'contains', '_')).toEqual([]);
    expect(await attr('lastName', 'starts_with', 'love')).toEqual(['ada']);
    expect(await attr('phone', 'starts_with', '+44')).toEqual(['bob']);
  });

  it('in matches any of the values, including values with quotes, commas and braces', async () => {
    expect(await attr('firstName', 'in', ['ada', 'BOB', 'zed'])).toEqual(['ada', 'bob']);
    expect(await attr('email', 'in', ['DAN@example.com', 'eve@example.com'])).toEqual(['dan']);
    expect(await attr('company', 'in', [`O'Reilly, "Media" {x}`])).toEqual(['dan']);
  });

  it('exists and not_exists treat an empty string as missing', async () => {
    expect(await attr('firstName', 'exists')).toEqual(['ada', 'bob', 'chloe']);
    expect(await attr('city', 'not_exists')).toEqual(['dan']);
    expect(await attr('timezone', 'exists')).toEqual(['ada']);
    expect(await attr('source', 'exists')).toEqual(['ada', 'dan']);
  });

  it('status supports eq, neq and in', async () => {
    expect(await attr('status', 'eq', 'subscribed')).toEqual(['ada', 'chloe']);
    expect(await attr('status', 'neq', 'subscribed')).toEqual(['bob', 'dan']);
    expect(await attr('status', 'in', ['bounced', 'unsubscribed'])).toEqual(['bob', 'dan']);
  });

  it('dates compare as instants with gt, gte, lt and lte, from a date or a date-time', async () => {
    expect(await attr('createdAt', 'gt', '2025-01-01')).toEqual(['bob', 'chloe', 'dan']);
    expect(await attr('createdAt', 'gte', '2025-06-01T00:00:00Z')).toEqual(['bob', 'chloe', 'dan']);
    expect(await attr('createdAt', 'gt', '2025-06-01T02:00:00+02:00')).toEqual(['chloe', 'dan']);
    expect(await attr('createdAt', 'lt', '2025-06-01T00:00:00Z')).toEqual(['ada']);
    expect(await attr('createdAt', 'lte', '2025-06-01T00:00:00Z')).toEqual(['ada', 'bob']);
    expect(await attr('subscribedAt', 'lt', '2025-12-31')).toEqual(['ada', 'bob', 'chloe']);
    expect(await attr('subscribedAt', 'not_exists')).toEqual(['dan']);
  });
});

describe('attribute conditions on custom fields', () => {
  it('compares strings case-insensitively with eq, neq, contains, starts_with and in', async () => {
    expect(await attr('customFields.plan', 'eq', 'pro')).toEqual(['ada', 'chloe']);
    expect(await attr('customFields.plan', 'neq', 'pro')).toEqual(['bob', 'dan']);
    expect(await attr('customFields.plan', 'contains', 'RE')).toEqual(['bob']);
    expect(await attr('customFields.plan', 'starts_with', 'p')).toEqual(['ada', 'chloe']);
    expect(await attr('customFields.plan', 'in', ['free', 'enterprise'])).toEqual(['bob']);
  });

  it('compares numbers numerically, reading JSON numbers and numeric strings and skipping the rest', async () => {
    expect(await attr('customFields.age', 'gt', 18)).toEqual(['ada']);
    expect(await attr('customFields.age', 'gte', 17)).toEqual(['ada', 'bob']);
    expect(await attr('customFields.age', 'lt', 100)).toEqual(['ada', 'bob']);
    expect(await attr('customFields.age', 'eq', 36)).toEqual(['ada']);
    // "42" and "7" are strings in JSON: numeric order says 42 > 10 > 7 (text order would not).
    expect(await attr('customFields.score', 'gt', 10)).toEqual(['ada']);
    expect(await attr('customFields.score', 'lte', 10)).toEqual(['bob']);
    expect(await attr('customFields.score', 'in', [7, 8])).toEqual(['bob']);
    expect(await attr('customFields.age', 'in', [36, 'n/a'])).toEqual(['ada', 'chloe']);
    expect(await attr('customFields.nested', 'gt', 0)).toEqual([]);
  });

  it('compares date strings as instants and ignores values that are not dates', async () => {
    expect(await attr('customFields.signup', 'gt', '2024-06-01')).toEqual(['chloe']);
    expect(await attr('customFields.signup', 'lt', '2025-01-01T00:00:00Z')).toEqual(['ada']);
  });

  it('matches booleans by eq, exists and not_exists', async () => {
    expect(await attr('customFields.beta', 'eq', true)).toEqual(['ada']);
    expect(await attr('customFields.beta', 'neq', true)).toEqual(['bob', 'chloe', 'dan']);
    expect(await attr('customFields.age', 'exists')).toEqual(['ada', 'bob', 'chloe']);
    expect(await attr('customFields.nested', 'exists')).toEqual(['dan']);
    expect(await attr('customFields.missing', 'not_exists')).toEqual(['ada', 'bob', 'chloe', 'dan']);
  });
});

describe('tag, list, engagement and send history conditions', () => {
  it('tag has and not_has look only at the site’s tags', async () => {
    expect(await one({ type: 'tag', op: 'has', tag: 'vip' })).toEqual(['ada']);
    expect(await one({ type: 'tag', op: 'has', tag: 'beta' })).toEqual(['ada', 'bob']);
    expect(await one({ type: 'tag', op: 'not_has', tag: 'beta' })).toEqual(['chloe', 'dan']);
    expect(await one({ type: 'tag', op: 'has', tag: 'no such tag' })).toEqual([]);
  });

  it('list in and not_in', async () => {
    expect(await one({ type: 'list', op: 'in', listId: listNews })).toEqual(['ada', 'bob']);
    expect(await one({ type: 'list', op: 'not_in', listId: listPromo })).toEqual(['ada', 'dan']);
  });

  it('a list of another site matches nobody, and not_in it matches everybody of this site', async () => {
    expect(await one({ type: 'list', op: 'in', listId: listOfB })).toEqual([]);
    expect(await one({ type: 'list', op: 'not_in', listId: listOfB })).toEqual(['ada', 'bob', 'chloe', 'dan']);
  });

  it('engagement within_days and not_within_days read opened and clicked events', async () => {
    expect(await one({ type: 'engagement', metric: 'opened', op: 'within_days', days: 7 })).toEqual(['ada']);
    expect(await one({ type: 'engagement', metric: 'opened', op: 'within_days', days: 365 })).toEqual(['ada', 'chloe']);
    expect(await one({ type: 'engagement', metric: 'clicked', op: 'within_days', days: 30 })).toEqual(['bob']);
    expect(await one({ type: 'engagement', metric: 'clicked', op: 'within_days', days: 5 })).toEqual([]);
    expect(await one({ type: 'engagement', metric: 'opened', op: 'not_within_days', days: 30 })).toEqual(['bob', 'chloe', 'dan']);
    expect(await one({ type: 'engagement', metric: 'clicked', op: 'not_within_days', days: 30 })).toEqual(['ada', 'chloe', 'dan']);
  });

  it('send_history received counts only delivered sends, per campaign or sequence', async () => {
    expect(await one({ type: 'send_history', op: 'received', campaignId: CAMPAIGN })).toEqual(['ada']);
    expect(await one({ type: 'send_history', op: 'not_received', campaignId: CAMPAIGN })).toEqual(['bob', 'chloe', 'dan']);
    expect(await one({ type: 'send_history', op: 'received', sequenceId: SEQUENCE })).toEqual(['chloe']);
    expect(await one({ type: 'send_history', op: 'received', campaignId: OTHER_CAMPAIGN })).toEqual(['dan']);
  });

  it('send_history opened finds opens by the event’s campaign or through its send', async () => {
    expect(await one({ type: 'send_history', op: 'opened', campaignId: CAMPAIGN })).toEqual(['ada']);
    expect(await one({ type: 'send_history', op: 'not_opened', campaignId: CAMPAIGN })).toEqual(['bob', 'chloe', 'dan']);
    expect(await one({ type: 'send_history', op: 'opened', sequenceId: SEQUENCE })).toEqual(['chloe']);
    expect(await one({ type: 'send_history', op: 'opened', campaignId: OTHER_CAMPAIGN })).toEqual([]);
  });
});

describe('groups and site isolation', () => {
  it('combines conditions with AND and OR and nests groups', async () => {
    expect(
      await match({
        operator: 'OR',
        conditions: [
          { type: 'attribute', field: 'status', op: 'eq', value: 'bounced' },
          {
            type: 'group',
            operator: 'AND',
            conditions: [
              { type: 'attribute', field: 'city', op: 'eq', value: 'paris' },
              { type: 'group', operator: 'OR', conditions: [{ type: 'tag', op: 'has', tag: 'vip' }, { type: 'list', op: 'in', listId: listPromo }] },
            ],
          },
        ],
      }),
    ).toEqual(['ada', 'chloe', 'dan']);
    expect(
      await match({
        operator: 'AND',
        conditions: [
          { type: 'tag', op: 'has', tag: 'beta' },
          { type: 'group', operator: 'OR', conditions: [{ type: 'attribute', field: 'country', op: 'eq', value: 'GB' }, { type: 'engagement', metric: 'opened', op: 'within_days', days: 3 }] },
        ],
      }),
    ).toEqual(['ada', 'bob']);
  });

  it('answers a segment of 100 tag and list conditions at once, with the same contacts as a short one', async () => {
    // Each membership condition used to become a join of its own: 100 of them took seconds to plan.
    const many: SegmentCondition[] = Array.from({ length: 100 }, (_, i) =>
      i % 2 === 0 ? { type: 'tag', op: 'has', tag: 'beta' } : { type: 'list', op: 'in', listId: listNews },
    );
    const started = Date.now();
    const matched = await match({ operator: 'AND', conditions: many });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(matched).toEqual(await match({ operator: 'AND', conditions: many.slice(0, 2) }));
    expect(matched).toEqual(['ada', 'bob']);
    expect(await countSegment(db, siteA, { operator: 'AND', conditions: many })).toBe(2);
  });

  it('returns an empty result when nothing matches', async () => {
    const rules: SegmentRules = {
      operator: 'AND',
      conditions: [
        { type: 'tag', op: 'has', tag: 'vip' },
        { type: 'attribute', field: 'status', op: 'eq', value: 'bounced' },
      ],
    };
    expect(await match(rules)).toEqual([]);
    expect(await countSegment(db, siteA, rules)).toBe(0);
    expect(await listSegmentContacts(db, siteA, rules, { page: 1, limit: 10 })).toEqual({ rows: [], total: 0 });
  });

  it('never returns another site’s contacts, even when they match every condition', async () => {
    const rules: SegmentRules = {
      operator: 'AND',
      conditions: [
        { type: 'attribute', field: 'city', op: 'eq', value: 'Paris' },
        { type: 'attribute', field: 'customFields.plan', op: 'eq', value: 'pro' },
        { type: 'tag', op: 'has', tag: 'vip' },
        { type: 'engagement', metric: 'clicked', op: 'within_days', days: 7 },
        { type: 'send_history', op: 'received', campaignId: CAMPAIGN },
      ],
    };
    expect(await match(rules, siteB)).toEqual(['eve']);
    expect(await match(rules, siteA)).toEqual([]);
    // Site B's vip tag, events and sends do not count for site A, and vice versa.
    expect(await match({ operator: 'AND', conditions: [{ type: 'engagement', metric: 'clicked', op: 'within_days', days: 7 }] })).toEqual([]);
    expect(await match({ operator: 'AND', conditions: [{ type: 'send_history', op: 'opened', campaignId: CAMPAIGN }] }, siteB)).toEqual(['eve']);
  });

  it('counts and pages matching contacts with their tags and lists', async () => {
    const rules: SegmentRules = { operator: 'OR', conditions: [{ type: 'tag', op: 'has', tag: 'beta' }, { type: 'list', op: 'in', listId: listPromo }] };
    expect(await countSegment(db, siteA, rules)).toBe(3);
    const first = await listSegmentContacts(db, siteA, rules, { page: 1, limit: 2 });
    expect(first.total).toBe(3);
    expect(first.rows.map((r) => r.email)).toEqual(['ada@example.com', 'bob@example.com']);
    expect(first.rows[0]).toMatchObject({ tags: ['beta', 'vip'], lists: [listNews], customFields: { plan: 'pro' } });
    expect(first.rows[0]).not.toHaveProperty('siteId');
    const second = await listSegmentContacts(db, siteA, rules, { page: 2, limit: 2 });
    expect(second.rows.map((r) => r.email)).toEqual(['chloe@example.org']);
  });

  it('reads stored rules of the site’s segment and refuses another site’s segment with 404', async () => {
    const rules: SegmentRules = { operator: 'AND', conditions: [{ type: 'tag', op: 'has', tag: 'vip' }] };
    const [segment] = await db.insert(segments).values({ siteId: siteA, name: 'VIPs', rules: { ...rules } }).returning({ id: segments.id });
    expect(await getSegmentRules(db, siteA, segment!.id)).toEqual(rules);
    await expect(getSegmentRules(db, siteB, segment!.id)).rejects.toMatchObject({ kind: 'not_found', code: 'not_found' });
  });
});

describe('SQL injection', () => {
  const contactCount = async () => (await db.execute<{ n: number }>(sql`select count(*)::int as n from contacts`)).rows[0]!.n;

  it('binds hostile values as data: they match literally and the tables stay intact', async () => {
    const before = await contactCount();
    const hostile = `x'); drop table contacts; --`;
    expect(await attr('city', 'eq', hostile)).toEqual([]);
    expect(await attr('city', 'neq', `' or '1'='1`)).toEqual(['ada', 'bob', 'chloe', 'dan']);
    expect(await attr('company', 'contains', `'; delete from contacts where '' = '`)).toEqual([]);
    expect(await attr('firstName', 'in', [hostile, `"},{"`, 'Ada'])).toEqual(['ada']);
    expect(await attr('customFields.plan', 'eq', `pro' or 1=1 --`)).toEqual([]);
    expect(await one({ type: 'tag', op: 'has', tag: `vip' or '1'='1` })).toEqual([]);
    expect(await contactCount()).toBe(before);
  });

  it('puts no value, tag or custom field name into the SQL text, only into parameters', () => {
    const rules = segmentRulesSchema.parse({
      operator: 'AND',
      conditions: [
        { type: 'attribute', field: 'customFields.evil_name', op: 'eq', value: 'DROP-ME-1' },
        { type: 'attribute', field: 'city', op: 'in', value: ['DROP-ME-2'] },
        { type: 'tag', op: 'has', tag: 'DROP-ME-3' },
      ],
    });
    const query = new PgDialect().sqlToQuery(segmentContactsSql(siteA, rules));
    expect(query.sql).not.toMatch(/evil_name|DROP-ME/);
    expect(query.params).toEqual(expect.arrayContaining(['evil_name', 'DROP-ME-1', ['DROP-ME-2'], 'DROP-ME-3']));
  });

  it('rejects hostile field names at validation, naming the path', () => {
    for (const field of ['city; drop table contacts', 'customFields.plan\'); drop table contacts; --', 'c.id', 'customFields.', 'customFields.a.b', 'siteId']) {
      expect(issuesOf({ operator: 'AND', conditions: [{ type: 'attribute', field, op: 'exists' }] }).map((i) => i.path)).toEqual(['conditions.0.field']);
    }
  });

  it('refuses to compile an unvalidated field instead of interpolating it', () => {
    const rules = { operator: 'AND', conditions: [{ type: 'attribute', field: 'id = id or true', op: 'exists' }] } as unknown as SegmentRules;
    expect(() => segmentContactsSql(siteA, rules)).toThrow(/unknown field/);
  });
});

describe('rule validation', () => {
  it('names the path of a bad op inside nested groups', () => {
    const rules = {
      operator: 'AND',
      conditions: [
        { type: 'tag', op: 'has', tag: 'vip' },
        { type: 'list', op: 'in', listId: 1 },
        { type: 'group', operator: 'OR', conditions: [{ type: 'attribute', field: 'city', op: 'like', value: 'x' }] },
      ],
    };
    expect(issuesOf(rules)).toEqual([{ path: 'conditions.2.conditions.0.op', message: expect.stringContaining('op must be one of') }]);
  });

  it('checks the value each op needs', () => {
    const cases: [unknown, string][] = [
      [{ type: 'attribute', field: 'city', op: 'in', value: 'Paris' }, 'conditions.0.value'],
      [{ type: 'attribute', field: 'city', op: 'eq' }, 'conditions.0.value'],
      [{ type: 'attribute', field: 'city', op: 'exists', value: 'x' }, 'conditions.0.value'],
      [{ type: 'attribute', field: 'city', op: 'gt', value: 3 }, 'conditions.0.op'],
      [{ type: 'attribute', field: 'createdAt', op: 'gt', value: 'yesterday' }, 'conditions.0.value'],
      [{ type: 'attribute', field: 'createdAt', op: 'contains', value: '2025' }, 'conditions.0.op'],
      [{ type: 'attribute', field: 'status', op: 'eq', value: 'active' }, 'conditions.0.value'],
      [{ type: 'attribute', field: 'customFields.age', op: 'gt', value: true }, 'conditions.0.value'],
      [{ type: 'attribute', field: 'customFields.age', op: 'in', value: [] }, 'conditions.0.value'],
      [{ type: 'tag', op: 'has', tag: '' }, 'conditions.0.tag'],
      [{ type: 'list', op: 'in', listId: 'abc' }, 'conditions.0.listId'],
      [{ type: 'engagement', metric: 'bounced', op: 'within_days', days: 3 }, 'conditions.0.metric'],
      [{ type: 'engagement', metric: 'opened', op: 'within_days', days: 0 }, 'conditions.0.days'],
      [{ type: 'send_history', op: 'received', campaignId: 1, sequenceId: 2 }, 'conditions.0.campaignId'],
      [{ type: 'unknown' }, 'conditions.0.type'],
    ];
    for (const [condition, path] of cases) {
      expect(issuesOf({ operator: 'AND', conditions: [condition] }).map((i) => i.path), JSON.stringify(condition)).toEqual([path]);
    }
  });

  it('limits nesting depth and the number of conditions, even for absurdly deep input', () => {
    let deep: unknown = { type: 'tag', op: 'has', tag: 'x' };
    for (let i = 0; i < 10_000; i++) deep = { type: 'group', operator: 'AND', conditions: [deep] };
    const issues = issuesOf({ operator: 'AND', conditions: [deep] });
    expect(issues).toEqual([{ path: 'conditions.0.conditions.0.conditions.0.conditions.0.conditions.0', message: 'groups nest at most 5 levels deep' }]);

    const many = Array.from({ length: 60 }, () => ({ type: 'tag', op: 'has', tag: 'x' }));
    expect(issuesOf({ operator: 'AND', conditions: [...many, { type: 'group', operator: 'OR', conditions: many }] })[0]?.path).toBe('conditions');
    expect(issuesOf({ operator: 'AND', conditions: [] })[0]?.path).toBe('conditions');
    expect(issuesOf({ operator: 'XOR', conditions: many.slice(0, 1) })[0]?.path).toBe('operator');
  });
});
