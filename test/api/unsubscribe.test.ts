import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkTokens } from '../../src/mail/links.js';
import { BROWSER_UA, startLinkFixture, type LinkFixture } from './link-fixtures.js';

const SECRET = 'unsubscribe-test-secret-0123456789abcdefg';
const EMAIL = '<p>March news</p><p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>';

let fx: LinkFixture;
beforeAll(async () => {
  fx = await startLinkFixture(SECRET);
});
afterAll(async () => {
  await fx?.close();
});

const contactStatus = async (id: number) => (await fx.api.call('GET', `/api/v1/contacts/${id}`)).body.data.status as string;
const unsubscribedCount = async () => (await fx.api.call('GET', `/api/v1/campaigns/${fx.campaignId}`)).body.data.unsubscribedCount as number;

describe('one-click unsubscribe', () => {
  it('unsubscribes the contact on a POST with the exact RFC 8058 body, with no further click', async () => {
    const before = await unsubscribedCount();
    const contact = await fx.newContact('oneclick@example.test');
    const { sendId, headers, unsubscribeUrl } = await fx.campaignSend(contact, EMAIL);
    // What a mailbox provider does: POST to the List-Unsubscribe URL with the List-Unsubscribe-Post body.
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const target = /^<(.+)>$/.exec(headers['List-Unsubscribe']!)![1]!;
    expect(target).toBe(unsubscribeUrl);

    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');

    expect(await contactStatus(contact)).toBe('unsubscribed');
    expect(await fx.events(sendId, 'unsubscribed')).toHaveLength(1);
    expect(await unsubscribedCount()).toBe(before + 1);
  });

  it('accepts the one-click body as multipart/form-data too, and a repeat changes nothing more', async () => {
    const before = await unsubscribedCount();
    const contact = await fx.newContact('multipart@example.test');
    const { sendId, unsubscribeUrl } = await fx.campaignSend(contact, EMAIL);
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    expect((await fetch(unsubscribeUrl, { method: 'POST', body: form })).status).toBe(200);
    expect((await fetch(unsubscribeUrl, { method: 'POST', body: form })).status).toBe(200);

    expect(await contactStatus(contact)).toBe('unsubscribed');
    expect(await fx.events(sendId, 'unsubscribed')).toHaveLength(1);
    expect(await unsubscribedCount()).toBe(before + 1);
  });
});

describe('a contact who resubscribed', () => {
  it('is unsubscribed again by the same old link, with one event per unsubscribe and the email counted once', async () => {
    const before = await unsubscribedCount();
    const contact = await fx.newContact('again@example.test');
    const { sendId, unsubscribeUrl } = await fx.campaignSend(contact, EMAIL);
    const oneClick = () =>
      fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });

    expect((await oneClick()).status).toBe(200);
    expect(await contactStatus(contact)).toBe('unsubscribed');
    const resubscribe = await fx.api.call('PATCH', `/api/v1/contacts/${contact}`, { body: { status: 'subscribed' } });
    expect(resubscribe.status, resubscribe.text).toBe(200);
    expect(await contactStatus(contact)).toBe('subscribed');
    // The page offers the button again, and the same link unsubscribes again.
    expect(await (await fetch(unsubscribeUrl)).text()).toContain('<button type="submit">Unsubscribe</button>');
    expect((await oneClick()).status).toBe(200);
    expect(await contactStatus(contact)).toBe('unsubscribed');
    // A repeat while unsubscribed records nothing.
    expect((await oneClick()).status).toBe(200);

    const events = await fx.api.call('GET', `/api/v1/events?type=unsubscribed&contactId=${contact}`);
    expect(events.status, events.text).toBe(200);
    expect(events.body.data.map((e: { sendId: number }) => e.sendId)).toEqual([sendId, sendId]);
    // The campaign counts emails that led to an unsubscribe: this one, once.
    expect(await unsubscribedCount()).toBe(before + 1);
  });
});

describe('the unsubscribe page', () => {
  it('shows a confirmation page with a button on GET and changes nothing (mail scanners fetch links)', async () => {
    const contact = await fx.newContact("o'brien+news@example.test");
    const { sendId, html, unsubscribeUrl } = await fx.campaignSend(contact, EMAIL);
    // The template's {{ unsubscribeUrl }} is the link itself, never a tracked redirect.
    expect(html).toContain(`href="${unsubscribeUrl}"`);

    const res = await fetch(unsubscribeUrl, { headers: { 'user-agent': BROWSER_UA } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const page = await res.text();
    expect(page).toMatch(/<form method="post">[\s\S]*<button type="submit">Unsubscribe<\/button>[\s\S]*<\/form>/);
    // Everything shown is escaped.
    expect(page).toContain('o&#39;brien+news@example.test');
    expect(page).not.toContain("o'brien");

    expect(await contactStatus(contact)).toBe('subscribed');
    expect(await fx.events(sendId, 'unsubscribed')).toHaveLength(0);
  });

  it('unsubscribes when the page’s button is pressed (the form posts back to the same URL)', async () => {
    const contact = await fx.newContact('button@example.test');
    const { unsubscribeUrl } = await fx.campaignSend(contact, EMAIL);
    const page = await (await fetch(unsubscribeUrl)).text();
    expect(page).not.toMatch(/action=/);
    const hidden = [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]+)">/g)].map((m) => `${encodeURIComponent(m[1]!)}=${encodeURIComponent(m[2]!)}`);

    const res = await fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: hidden.join('&') });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are unsubscribed');
    expect(await contactStatus(contact)).toBe('unsubscribed');
    // Visiting the link again says so instead of offering the button.
    expect(await (await fetch(unsubscribeUrl)).text()).toContain('You are unsubscribed');
  });

  it('answers an error page to a tampered or foreign token and unsubscribes nobody', async () => {
    const contact = await fx.newContact('safe@example.test');
    const { sendId, unsubscribeUrl } = await fx.campaignSend(contact, EMAIL);
    const token = unsubscribeUrl.split('/u/')[1]!;
    const [, signature] = token.split('.') as [string, string];
    const otherContact = Buffer.from(JSON.stringify({ t: fx.api.siteA.id, c: contact + 1000, s: sendId })).toString('base64url');
    const bad = [
      `${otherContact}.${signature}`,
      token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA'),
      createLinkTokens('some-other-secret-0123456789abcdefghijk').signUnsubscribe({ siteId: fx.api.siteA.id, contactId: contact, sendId }),
      // A valid click token is not an unsubscribe token.
      fx.links.signClick({ sendId, url: 'https://example.test/' }),
    ];
    for (const t of bad) {
      const get = await fetch(`${fx.api.url}/u/${t}`);
      expect(get.status, t).toBe(404);
      expect(get.headers.get('content-type')).toContain('text/html');
      const post = await fetch(`${fx.api.url}/u/${t}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      expect(post.status, t).toBe(404);
    }
    expect(await contactStatus(contact)).toBe('subscribed');
  });
});
