import { inArray } from 'drizzle-orm';
import type { SecretBox } from '../../src/crypto/secret-box.js';
import type { Db } from '../../src/db/client.js';
import { createList } from '../../src/db/repositories/lists.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { contacts, listMembers } from '../../src/db/schema.js';

/** A Resend sending config pointing at the fake's API key. */
export async function resendConfig(db: Db, secretBox: SecretBox, siteId: number, apiKey: string, maxPerSecond: number | null = null): Promise<number> {
  const config = await createSendingConfig(db, secretBox, siteId, {
    name: 'Resend',
    provider: 'resend',
    fromEmail: 'news@acme.test',
    fromName: 'Acme',
    credentials: { apiKey },
    maxPerSecond,
  });
  return config.id;
}

/**
 * `count` subscribed contacts (`<prefix>-<n>@example.com`, firstName `Reader <n>`) in a new list, inserted
 * in chunks so 100,000 rows stay within PostgreSQL's parameter limit.
 */
export async function seedList(db: Db, siteId: number, count: number, prefix = 'reader'): Promise<{ listId: number; contactIds: number[] }> {
  const list = await createList(db, siteId, { name: `${prefix} list` });
  const contactIds: number[] = [];
  for (let start = 0; start < count; start += 5000) {
    const rows = Array.from({ length: Math.min(5000, count - start) }, (_, i) => ({
      siteId,
      email: `${prefix}-${start + i}@example.com`,
      firstName: `Reader ${start + i}`,
      status: 'subscribed' as const,
    }));
    const inserted = await db.insert(contacts).values(rows).returning({ id: contacts.id });
    const ids = inserted.map((r) => r.id);
    await db.insert(listMembers).values(ids.map((contactId) => ({ listId: list.id, contactId })));
    contactIds.push(...ids);
  }
  return { listId: list.id, contactIds };
}

/** Adds existing contacts to another list. */
export async function addToList(db: Db, listId: number, contactIds: number[]): Promise<void> {
  if (contactIds.length) await db.insert(listMembers).values(contactIds.map((contactId) => ({ listId, contactId })));
}

export async function contactEmails(db: Db, ids: number[]): Promise<string[]> {
  return (await db.select({ email: contacts.email }).from(contacts).where(inArray(contacts.id, ids))).map((r) => r.email);
}

/** The first instant strictly after `nowMs` that is a Monday 09:00 UTC. */
export function nextMonday0900(nowMs: number): Date {
  const d = new Date(nowMs);
  d.setUTCHours(9, 0, 0, 0);
  const daysAhead = (1 - d.getUTCDay() + 7) % 7;
  d.setUTCDate(d.getUTCDate() + daysAhead);
  if (d.getTime() <= nowMs) d.setUTCDate(d.getUTCDate() + 7);
  return d;
}

/** Recipients of accepted emails, by address, with how many emails each got. */
export function deliveriesByAddress(emails: { payload: { to: string | string[] } }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of emails) {
    for (const to of Array.isArray(e.payload.to) ? e.payload.to : [e.payload.to]) counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}
