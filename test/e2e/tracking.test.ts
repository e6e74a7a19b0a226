import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { findFreePort } from '../../src/embedded/ports.js';
import { createLogger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { httpClient } from '../api/support.js';
import { BROWSER_UA, pixelUrl, trackedLinks } from '../api/link-fixtures.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type AcceptedEmail, type FakeResend } from '../helpers/fake-resend.js';
import { createDevServerEnv } from '../helpers/temporal.js';
import { startTestWorkers, type RunningTestWorkers } from '../helpers/workers.js';

// Campaign and sequence email through the real API, the real worker and a Temporal dev server, with
// PUBLIC_URL pointing at the API: what reaches the (fake) Resend API carries the unsubscribe headers,
// tracked links and the pixel, and following them over real HTTP lands in the API's counters.

const SECRET = 'tracking-e2e-secret-0123456789abcdefghij';
const LINK = 'https://shop.example.test/spring?utm_source=tidings';
const HTML = `<html><body><p>Hi {{ firstName }}, see <a href="${LINK}">the spring sale</a>.</p><p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p></body></html>`;

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let resend: FakeResend;
let workers: RunningTestWorkers;
let api: Awaited<ReturnType<typeof startApi>>;
let call: ReturnType<typeof httpClient>;
let configId: number;

beforeAll(async () => {
  [env, testDb, resend] = await Promise.all([createDevServerEnv(), createTestDb(), startFakeResend()]);
  // The API's own URL is the PUBLIC_URL the worker writes into every email and the API renders copies with.
  const port = await findFreePort();
  api = await startApi(
    {
      db: testDb.db,
      temporal: env.client,
      config: loadConfig({ NODE_ENV: 'test', TIDINGS_SECRET: SECRET, PUBLIC_URL: `http://127.0.0.1:${port}` }),
      logger: createLogger('silent'),
    },
    { port, host: '127.0.0.1' },
  );
  workers = await startTestWorkers({ env, db: testDb.db, resendBaseUrl: resend.url, secret: SECRET, publicUrl: api.url });
  const site = await createSite(testDb.db, { name: 'Tracking e2e' });
  call = httpClient(api.url, (await createApiKey(testDb.db, { siteId: site.id, name: 'e2e' })).key);
  const config = await call('POST', '/api/v1/sending-configs', {
    body: { name: 'Resend', provider: 'resend', fromEmail: 'news@acme.test', credentials: { apiKey: resend.apiKey } },
  });
  expect(config.status, config.text).toBe(201);
  expect(config.body.data).toMatchObject({ trackOpens: true, trackClicks: true });
  configId = config.body.data.id;
}, 180_000);
beforeEach(() => resend.reset());
afterAll(async () => {
  await api?.close();
  await workers?.stop();
  await env?.teardown();
  await testDb?.close();
  await resend?.close();
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const emailTo = (address: string) => resend.emails.find((e) => [e.payload.to].flat().includes(address));

async function contact(email: string): Promise<number> {
  const res = await call('POST', '/api/v1/contacts', { body: { email, firstName: 'Ada' } });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

/** Checks what a mailbox provider would see, and returns the email's tracked link and unsubscribe URL. */
function expectMarketingEmail(email: AcceptedEmail): { link: string; unsubscribeUrl: string } {
  const headers = email.payload.headers ?? {};
  expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  const unsubscribeUrl = /^<(.+)>$/.exec(headers['List-Unsubscribe'] ?? '')?.[1];
  expect(unsubscribeUrl).toMatch(new RegExp(`^${api.url}/u/`));
  const html = email.payload.html!;
  // The template's unsubscribe link is the same per-recipient URL, not a tracked redirect.
  expect(html).toContain(`href="${unsubscribeUrl}"`);
  expect(html).not.toContain(`href="${LINK}"`);
  const links = trackedLinks(html, api.url);
  expect(links).toHaveLength(1);
  expect(pixelUrl(html, api.url)).toMatch(new RegExp(`^${api.url}/t/o/`));
  // The text part keeps the link as written.
  expect(email.payload.text).toContain(LINK);
  return { link: links[0]!, unsubscribeUrl: unsubscribeUrl! };
}

async function follow(link: string): Promise<string | null> {
  const res = await fetch(link, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA } });
  expect(res.status).toBe(302);
  return res.headers.get('location');
}

describe('tracking and unsubscribe end to end (API + worker + Temporal dev server + fake Resend)', () => {
  it('sends a campaign email with List-Unsubscribe headers, a tracked link and a pixel; the click shows in the campaign', async () => {
    const list = await call('POST', '/api/v1/lists', { body: { name: 'Spring' } });
    const contactId = await contact('ada@example.com');
    expect((await call('POST', `/api/v1/lists/${list.body.data.id}/contacts`, { body: { contactIds: [contactId] } })).status).toBeLessThan(300);

    const created = await call('POST', '/api/v1/campaigns', {
      body: { name: 'Spring', subject: 'Spring sale', html: HTML, listId: list.body.data.id, sendingConfigId: configId, scheduledAt: new Date().toISOString() },
    });
    expect(created.status, created.text).toBe(201);
    const campaignId = created.body.data.id;
    const email = await until('the campaign email', async () => emailTo('ada@example.com'));
    expect(email.via).toBe('batch');
    const { link } = expectMarketingEmail(email);

    expect(await follow(link)).toBe(LINK);
    const campaign = await until('the click on the campaign', async () => {
      const res = await call('GET', `/api/v1/campaigns/${campaignId}`);
      // The email can be clicked before the workflow has marked the campaign sent.
      return res.body.data.clickedCount === 1 && res.body.data.status === 'sent' && res.body.data;
    });
    expect(campaign).toMatchObject({ status: 'sent', sentCount: 1, clickedCount: 1, openedCount: 1 });
  }, 120_000);

  it('sends a sequence email the same way; its one-click unsubscribe ends the journey, and transactional mail still arrives', async () => {
    const sequence = await call('POST', '/api/v1/sequences', { body: { name: 'Welcome', sendingConfigId: configId } });
    expect(sequence.status, sequence.text).toBe(201);
    const sequenceId = sequence.body.data.id;
    for (const step of [
      { subject: 'Welcome', html: HTML, delayValue: 0, delayUnit: 'minutes' },
      { subject: 'Day two', html: HTML, delayValue: 1, delayUnit: 'days' },
    ]) {
      expect((await call('POST', `/api/v1/sequences/${sequenceId}/steps`, { body: step })).status).toBe(201);
    }
    const contactId = await contact('grace@example.com');
    expect((await call('POST', `/api/v1/sequences/${sequenceId}/enroll`, { body: { contactId } })).status).toBe(200);

    const email = await until('the welcome email', async () => emailTo('grace@example.com'));
    const { link, unsubscribeUrl } = expectMarketingEmail(email);
    expect(await follow(link)).toBe(LINK);

    // The mailbox provider's one-click unsubscribe (RFC 8058).
    const unsubscribed = await fetch(unsubscribeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(unsubscribed.status).toBe(200);
    expect((await call('GET', `/api/v1/contacts/${contactId}`)).body.data.status).toBe('unsubscribed');
    const enrollment = await until('the journey to end', async () => {
      const res = await call('GET', `/api/v1/sequences/${sequenceId}/enrollments?contactId=${contactId}`);
      const row = res.body.data[0];
      return row?.status !== 'active' && row;
    });
    expect(enrollment.status).toBe('exited');

    // Transactional mail is not marketing: it still reaches the unsubscribed contact, untracked.
    resend.reset();
    const sent = await call('POST', '/api/v1/send', {
      body: { to: 'grace@example.com', subject: 'Your receipt', html: `<p>Thanks! <a href="${LINK}">Order</a></p>`, sendingConfigId: configId },
    });
    expect(sent.status, sent.text).toBe(202);
    const receipt = await until('the receipt', async () => emailTo('grace@example.com'));
    expect(receipt.payload.headers?.['List-Unsubscribe']).toBeUndefined();
    expect(receipt.payload.html).toBe(`<p>Thanks! <a href="${LINK}">Order</a></p>`);
  }, 120_000);
  it('leaves links and pixel out when the sending config switches tracking off, but keeps the unsubscribe headers', async () => {
    const config = await call('POST', '/api/v1/sending-configs', {
      body: { name: 'Untracked', provider: 'resend', fromEmail: 'quiet@acme.test', credentials: { apiKey: resend.apiKey }, trackOpens: false, trackClicks: false },
    });
    expect(config.status, config.text).toBe(201);
    expect(config.body.data).toMatchObject({ trackOpens: false, trackClicks: false });
    const sequence = await call('POST', '/api/v1/sequences', { body: { name: 'Quiet', sendingConfigId: config.body.data.id } });
    const sequenceId = sequence.body.data.id;
    await call('POST', `/api/v1/sequences/${sequenceId}/steps`, { body: { subject: 'Hello', html: HTML, delayValue: 0, delayUnit: 'minutes' } });
    const contactId = await contact('quiet@example.com');
    await call('POST', `/api/v1/sequences/${sequenceId}/enroll`, { body: { contactId } });

    const email = await until('the untracked email', async () => emailTo('quiet@example.com'));
    expect(email.payload.headers?.['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const unsubscribeUrl = /^<(.+)>$/.exec(email.payload.headers?.['List-Unsubscribe'] ?? '')![1]!;
    expect(email.payload.html).toBe(HTML.replace('{{ firstName }}', 'Ada').replace('{{ unsubscribeUrl }}', unsubscribeUrl));
  }, 120_000);

  it('shows a campaign email in the send log byte for byte as the provider got it, after the contact, the template and the config changed', async () => {
    const list = await call('POST', '/api/v1/lists', { body: { name: 'Autumn' } });
    const created = await call('POST', '/api/v1/contacts', {
      body: { email: 'lin@example.com', firstName: 'Lin', customFields: { plan: 'pro', seats: 3 } },
    });
    expect(created.status, created.text).toBe(201);
    const contactId = created.body.data.id;
    await call('POST', `/api/v1/lists/${list.body.data.id}/contacts`, { body: { contactIds: [contactId] } });
    const template = await call('POST', '/api/v1/templates', {
      body: {
        name: 'Autumn',
        subject: 'Autumn news for {{ firstName }}',
        html: `<html><body><h1>Hi {{ firstName }} ({{ customFields.plan }}, {{ customFields.seats }} seats)</h1>{% for f in customFields %}<i>{{ f[0] }}</i>{% endfor %}<a href="${LINK}">Shop</a> &amp; more</body></html>`,
      },
    });
    expect(template.status, template.text).toBe(201);
    const campaign = await call('POST', '/api/v1/campaigns', {
      body: { name: 'Autumn', templateId: template.body.data.id, listId: list.body.data.id, sendingConfigId: configId, scheduledAt: new Date().toISOString() },
    });
    expect(campaign.status, campaign.text).toBe(201);
    const email = await until('the campaign email', async () => emailTo('lin@example.com'));
    await until('the campaign to be sent', async () => (await call('GET', `/api/v1/campaigns/${campaign.body.data.id}`)).body.data.status === 'sent');

    // Everything the copy was rendered from changes afterwards.
    expect((await call('PATCH', `/api/v1/contacts/${contactId}`, { body: { firstName: 'Changed', customFields: { plan: 'free' } } })).status).toBe(200);
    expect((await call('PATCH', `/api/v1/templates/${template.body.data.id}`, { body: { subject: 'Other', html: '<p>Other content</p>' } })).status).toBe(200);
    expect((await call('PATCH', `/api/v1/sending-configs/${configId}`, { body: { trackOpens: false, trackClicks: false } })).status).toBe(200);

    const listed = await call('GET', `/api/v1/sends?campaignId=${campaign.body.data.id}`);
    const shown = (await call('GET', `/api/v1/sends/${listed.body.data[0].id}`)).body.data;
    expect(shown).toMatchObject({ bodyPruned: false, subject: 'Autumn news for Lin' });
    expect(shown.subject).toBe(email.payload.subject);
    expect(shown.html).toBe(email.payload.html);
    expect(shown.text).toBe(email.payload.text);
    expect(shown.headers).toEqual(email.payload.headers);
    expect(shown.html).toContain('Hi Lin (pro, 3 seats)');
    // The click check reads the same copy: the email's link still leads where it did.
    expect(await follow(expectMarketingEmail(email).link)).toBe(LINK);
    await call('PATCH', `/api/v1/sending-configs/${configId}`, { body: { trackOpens: true, trackClicks: true } });
  }, 120_000);
});
