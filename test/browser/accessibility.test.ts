import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser, useBrowser, useStack } from './harness.js';

/**
 * Every page of the dashboard against axe-core's WCAG 2.0 / 2.1 A and AA rules (contrast, labels,
 * names, ARIA use), at 1280 px and, for the busiest pages, 390 px; and a sign-in with the keyboard
 * alone. axe runs through DevTools evaluation, so the page's own Content-Security-Policy stays on.
 */

const stack = useStack();
const browser = useBrowser();
const OWNER = { name: 'Ada Audit', email: 'ada.audit@example.com', password: 'correct horse battery' };
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let ids: { contact: number; list: number; campaign: number; sequence: number; template: number; segment: number; send: number };

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await stack().api<T>(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

beforeAll(async () => {
  await createUser(stack(), { siteId: stack().siteId, role: 'owner', name: OWNER.name, email: OWNER.email, password: OWNER.password });
  // A little of everything, so every page shows its tables, badges and charts rather than empty states.
  const list = (await api<{ data: { id: number } }>('POST', '/lists', { name: 'Readers' })).data;
  const bulk = await api<{ data: { ids: number[] } }>('POST', '/contacts/bulk', {
    contacts: ['ann', 'ben', 'cy'].map((n) => ({ email: `${n}@example.com`, firstName: n, lists: [list.id], tags: ['beta'] })),
  });
  const template = (await api<{ data: { id: number } }>('POST', '/templates', { name: 'Welcome', subject: 'Hi {{ firstName }}', html: '<p>Hi {{ firstName }}</p>' })).data;
  const segment = (
    await api<{ data: { id: number } }>('POST', '/segments', {
      name: 'Beta readers',
      rules: { operator: 'AND', conditions: [{ type: 'tag', op: 'has', tag: 'beta' }, { type: 'group', operator: 'OR', conditions: [{ type: 'list', op: 'in', listId: list.id }] }] },
    })
  ).data;
  const campaign = (
    await api<{ data: { id: number } }>('POST', '/campaigns', { name: 'Launch', subject: 'We launched', html: '<p>News</p>', listId: list.id, sendingConfigId: 1 })
  ).data;
  await api('POST', `/campaigns/${campaign.id}/send`, {});
  const sequence = (await api<{ data: { id: number } }>('POST', '/sequences', { name: 'Onboarding', sendingConfigId: 1 })).data;
  await api('POST', `/sequences/${sequence.id}/steps`, { subject: 'Welcome', html: '<p>Welcome</p>', delayValue: 0, delayUnit: 'minutes' });
  await api('POST', `/sequences/${sequence.id}/steps`, { subject: 'Tips', html: '<p>Tips</p>', delayValue: 2, delayUnit: 'days' });
  await api('POST', `/sequences/${sequence.id}/enroll`, { contactId: bulk.data.ids[0] });
  const send = await api<{ data: { sendId: number } }>('POST', '/send', { to: 'someone@example.com', subject: 'Your code', html: '<p>123456</p>', sendingConfigId: 1 });
  ids = { contact: bulk.data.ids[0]!, list: list.id, campaign: campaign.id, sequence: sequence.id, template: template.id, segment: segment.id, send: send.data.sendId };
}, 120_000);

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe's WCAG 2.x A/AA violations on the page as it is now, one line each. */
async function violations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    // Runs in the page; this file is typed for Node, hence globalThis.
    const g = globalThis as unknown as { document: unknown; axe: { run(ctx: unknown, opts: object): Promise<{ violations: Violation[] }> } };
    return (await g.axe.run(g.document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })).violations;
  });
  return found.map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.length} × ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

async function signedIn(mobile = false): Promise<Page> {
  const { page } = await browser.open({ mobile });
  await page.goto(`${stack().appUrl}login`);
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel(/^Password/).first().fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/app/login'));
  return page;
}

/** Opens `path` under /app/ and waits until its page heading is drawn and the data has settled. */
async function visit(page: Page, path: string): Promise<void> {
  await page.goto(`${stack().appUrl}${path}`);
  await page.getByRole('heading', { level: 2 }).first().waitFor();
  await page.waitForLoadState('networkidle');
}

describe('accessibility', () => {
  it('signs in with the keyboard alone', async () => {
    const { page } = await browser.open({ allowErrors: [/401/] });
    await page.goto(`${stack().appUrl}login`);
    await page.getByLabel('Email').focus();
    await page.keyboard.type(OWNER.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(OWNER.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  });

  it('meets WCAG 2.1 A and AA on every page at 1280 px', async () => {
    const page = await signedIn();
    const paths = [
      '',
      'contacts',
      `contacts/${ids.contact}`,
      'contacts/import',
      'lists',
      `lists/${ids.list}`,
      'tags',
      'segments',
      `segments/${ids.segment}`,
      'suppressions',
      'templates',
      `templates/${ids.template}`,
      'campaigns',
      'campaigns/new',
      `campaigns/${ids.campaign}`,
      'sequences',
      `sequences/${ids.sequence}`,
      'sends',
      `sends/${ids.send}`,
      'settings/site',
      'sending-configs',
      'webhooks',
      'api-keys',
      'users',
    ];
    const report: string[] = [];
    for (const path of paths) {
      await visit(page, path);
      for (const v of await violations(page)) report.push(`/app/${path}: ${v}`);
    }
    await page.goto(`${stack().appUrl}login`);
    expect(report).toEqual([]);
  });

  it('meets them at 390 px on the pages with the most on them', async () => {
    const page = await signedIn(true);
    const report: string[] = [];
    for (const path of ['', 'contacts', `campaigns/${ids.campaign}`, `sequences/${ids.sequence}`, 'sends']) {
      await visit(page, path);
      for (const v of await violations(page)) report.push(`/app/${path} (390 px): ${v}`);
    }
    expect(report).toEqual([]);
  });
});
