import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkTokens } from '../../src/mail/links.js';
import { BROWSER_UA, pixelUrl, startLinkFixture, trackedLinks, type LinkFixture } from './link-fixtures.js';

const SECRET = 'tracking-test-secret-0123456789abcdefghij';
const EMAIL = '<html><body><p>New: <a href="https://shop.example.test/pricing?plan=pro&amp;ref=march">pricing</a> and <a href="https://blog.example.test/march">the blog</a>.</p></body></html>';

let fx: LinkFixture;
beforeAll(async () => {
  fx = await startLinkFixture(SECRET);
});
afterAll(async () => {
  await fx?.close();
});

const get = (url: string, opts: { ua?: string; method?: string } = {}) =>
  fetch(url, { method: opts.method ?? 'GET', redirect: 'manual', headers: { 'user-agent': opts.ua ?? BROWSER_UA } });

async function campaignCounters() {
  const res = await fx.api.call('GET', `/api/v1/campaigns/${fx.campaignId}`);
  return { opened: res.body.data.openedCount as number, clicked: res.body.data.clickedCount as number };
}

describe('click tracking', () => {
  it('redirects a tracked link to the URL that was in the email and records one click and one open for the send', async () => {
    const before = await campaignCounters();
    const contact = await fx.newContact('clicker@example.test');
    const { sendId, html } = await fx.campaignSend(contact, EMAIL);
    const [pricing, blog] = trackedLinks(html, fx.api.url);

    const first = await get(pricing!);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('https://shop.example.test/pricing?plan=pro&ref=march');
    const second = await get(blog!);
    expect(second.status).toBe(302);
    expect(second.headers.get('location')).toBe('https://blog.example.test/march');
    expect((await get(pricing!)).status).toBe(302);

    const clicks = await fx.events(sendId, 'clicked');
    expect(clicks).toHaveLength(1);
    expect(clicks[0]!.data).toEqual({ url: 'https://shop.example.test/pricing?plan=pro&ref=march' });
    expect(clicks[0]).toMatchObject({ contactId: contact, campaignId: fx.campaignId });
    // A click proves the open even when the reader's client blocked the pixel.
    expect(await fx.events(sendId, 'opened')).toHaveLength(1);
    expect(await campaignCounters()).toEqual({ opened: before.opened + 1, clicked: before.clicked + 1 });
  });

  it('refuses a click token signed for a URL that was not in the email, without redirecting or recording', async () => {
    const { sendId } = await fx.campaignSend(await fx.newContact('target@example.test'), EMAIL);
    // Even a token carrying a valid signature is refused when the email never held it.
    const foreign = fx.links.signClick({ sendId, url: 'https://evil.example.test/phish' });
    const res = await get(`${fx.api.url}/t/c/${foreign}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await fx.events(sendId, 'clicked')).toHaveLength(0);
  });

  it('refuses tampered tokens: a rewritten URL, a changed signature, another secret', async () => {
    const { sendId, html } = await fx.campaignSend(await fx.newContact('tamper@example.test'), EMAIL);
    const token = trackedLinks(html, fx.api.url)[0]!.split('/t/c/')[1]!;
    const [, signature] = token.split('.') as [string, string];
    const rewritten = Buffer.from(JSON.stringify({ s: sendId, u: 'https://evil.example.test/' })).toString('base64url');
    const flipped = token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA');
    const otherSecret = createLinkTokens('some-other-secret-0123456789abcdefghijk').signClick({ sendId, url: 'https://evil.example.test/' });

    for (const bad of [`${rewritten}.${signature}`, flipped, otherSecret, 'not-a-token', token.split('.')[0]!]) {
      const res = await get(`${fx.api.url}/t/c/${bad}`);
      expect(res.status, bad).toBe(404);
      expect(res.headers.get('location')).toBeNull();
    }
    expect(await fx.events(sendId, 'clicked')).toHaveLength(0);
  });

  it('never redirects to a non-web URL, even one signed with the real secret', async () => {
    const { sendId } = await fx.campaignSend(await fx.newContact('scheme@example.test'), EMAIL);
    const token = fx.links.signClick({ sendId, url: 'javascript:alert(document.cookie)' });
    const res = await get(`${fx.api.url}/t/c/${token}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).not.toContain('javascript:');
  });
});

describe('open tracking', () => {
  it('answers a no-cache 1×1 GIF and records one open per send however often the pixel loads', async () => {
    const before = await campaignCounters();
    const { sendId, html } = await fx.campaignSend(await fx.newContact('reader@example.test'), EMAIL);
    const pixel = pixelUrl(html, fx.api.url);
    for (let i = 0; i < 3; i += 1) {
      const res = await get(pixel);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/gif');
      expect(res.headers.get('cache-control')).toContain('no-store');
      expect(Buffer.from(await res.arrayBuffer()).subarray(0, 6).toString('latin1')).toBe('GIF89a');
    }
    expect(await fx.events(sendId, 'opened')).toHaveLength(1);
    expect((await campaignCounters()).opened).toBe(before.opened + 1);
  });

  it('answers the same image for a bad token and records nothing', async () => {
    const { sendId, html } = await fx.campaignSend(await fx.newContact('prober@example.test'), EMAIL);
    const good = await get(pixelUrl(html, fx.api.url));
    const token = pixelUrl(html, fx.api.url).split('/t/o/')[1]!;
    const bad = await get(`${fx.api.url}/t/o/${token.slice(0, -2)}xx`);
    expect(bad.status).toBe(200);
    expect(bad.headers.get('content-type')).toBe('image/gif');
    expect(Buffer.from(await bad.arrayBuffer())).toEqual(Buffer.from(await good.arrayBuffer()));
    // The good load above recorded its open; nothing else did.
    expect(await fx.events(sendId, 'opened')).toHaveLength(1);
  });
});

describe('bot safety', () => {
  it('gives link scanners and HEAD requests the redirect and the pixel but records nothing', async () => {
    const { sendId, html } = await fx.campaignSend(await fx.newContact('scanned@example.test'), EMAIL);
    const link = trackedLinks(html, fx.api.url)[0]!;
    const pixel = pixelUrl(html, fx.api.url);
    const bot = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

    const scanned = await get(link, { ua: bot });
    expect(scanned.status).toBe(302);
    expect(scanned.headers.get('location')).toBe('https://shop.example.test/pricing?plan=pro&ref=march');
    expect((await get(link, { method: 'HEAD' })).status).toBe(302);
    expect((await get(pixel, { ua: bot })).status).toBe(200);
    expect((await get(pixel, { method: 'HEAD' })).status).toBe(200);

    expect(await fx.events(sendId, 'clicked')).toHaveLength(0);
    expect(await fx.events(sendId, 'opened')).toHaveLength(0);
  });
});
