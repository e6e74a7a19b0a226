import { beforeAll, describe, expect, it } from 'vitest';
import { createUser, screenshot, signIn, useBrowser, useStack, type Stack } from './harness.js';

/**
 * The audience pages as a marketer uses them: importing a CSV (mapping, progress, row errors), the
 * contacts table and a contact's page, building a segment with a nested group while its count follows,
 * and the overview. Screenshots: overview, contacts, a contact, segments at 1280 px; contacts at 390 px.
 */

const stack = useStack();
const browser = useBrowser();

const OWNER = { name: 'Mara Marketer', email: 'mara@example.com', password: 'correct horse battery' };

beforeAll(async () => {
  await createUser(stack(), { siteId: stack().siteId, role: 'owner', name: OWNER.name, email: OWNER.email, password: OWNER.password });
});

const ownerPage = async (opts?: { mobile?: boolean; allowErrors?: RegExp[] }) => {
  const opened = await browser.open(opts);
  await signIn(opened.page, stack(), OWNER.email, OWNER.password);
  return opened.page;
};

async function api<T>(s: Stack, method: string, path: string, body?: unknown): Promise<T> {
  const res = await s.api<T>(method, path, body);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body;
}

const CSV = [
  'E-mail Address,First Name,Last Name,Plan,Country',
  'noor.haddad@example.net,Noor,Haddad,pro,FR',
  'liam.oconnor@example.net,Liam,OConnor,free,IE',
  'not-an-email,Bad,Row,pro,DE',
  'yuki.tanaka@example.net,Yuki,Tanaka,team,JP',
].join('\n');

describe('contacts', () => {
  it('imports a CSV: maps its columns, shows the progress reach done and the row that failed, then the contacts', async () => {
    await api(stack(), 'POST', '/lists', { name: 'Imported leads' });
    const page = await ownerPage();
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('link', { name: 'Import CSV' }).click();
    await page.locator('input[type=file]').setInputFiles({ name: 'leads.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });

    // The header is read in the browser: known columns are recognised, the others become custom fields.
    await expect.poll(() => page.getByRole('combobox', { name: 'Import column E-mail Address as' }).inputValue()).toBe('Email');
    expect(await page.getByRole('combobox', { name: 'Import column Plan as' }).inputValue()).toBe('Custom field “Plan”');
    await page.getByLabel('Add every imported contact to lists').and(page.locator('input')).click();
    await page.getByRole('option', { name: 'Imported leads' }).click();
    await page.keyboard.press('Escape');
    await screenshot(page, 'audience-import-mapping-1280');
    await page.getByRole('button', { name: 'Start import' }).click();

    await page.waitForURL(/\/app\/contacts\/imports\/\d+$/);
    await page.getByText('Done: 4 rows read.').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('progressbar', { name: 'Import progress' }).getAttribute('aria-valuenow')).toBe('100');
    const errors = page.getByRole('table', { name: 'Rows not imported' });
    await errors.getByRole('cell', { name: 'Invalid email "not-an-email"' }).waitFor();
    expect(await errors.getByRole('row').count()).toBe(2); // header + the one bad row (row 4 of the file)
    await errors.getByRole('cell', { name: '4', exact: true }).waitFor();
    await screenshot(page, 'audience-import-done-1280');

    // The imported contacts are there, in the list chosen, with their custom field.
    await page.getByRole('link', { name: 'Contacts', exact: true }).first().click();
    await page.getByRole('textbox', { name: 'Search' }).fill('haddad');
    await page.waitForURL(/q=haddad/);
    await page.getByRole('link', { name: 'noor.haddad@example.net' }).click();
    await page.getByRole('heading', { name: 'Noor Haddad' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Plan' }).inputValue()).toBe('pro');
    await page.getByRole('link', { name: 'Imported leads' }).waitFor();
    await page.getByText('Email delivered').or(page.getByText('Nothing yet')).first().waitFor();
    await screenshot(page, 'audience-contact-1280', { fullPage: true });
  });

  it('shows the contacts table at 1280 px and 390 px, nothing wider than a phone', async () => {
    // Created by the import story; made here too (a 409 when it exists) so this story stands alone.
    await stack().api('POST', '/contacts', { email: 'yuki.tanaka@example.net', firstName: 'Yuki' });
    const desktop = await ownerPage();
    await desktop.goto(`${stack().appUrl}contacts`);
    await desktop.getByRole('link', { name: 'yuki.tanaka@example.net' }).waitFor();
    await screenshot(desktop, 'audience-contacts-1280');

    const phone = await ownerPage({ mobile: true });
    await phone.goto(`${stack().appUrl}contacts`);
    await phone.getByRole('link', { name: 'yuki.tanaka@example.net' }).waitFor();
    // Filters fold behind a button on a phone; the table scrolls inside its own container.
    await phone.getByRole('button', { name: 'Filters' }).click();
    await phone.getByRole('combobox', { name: 'Status' }).waitFor();
    expect(await phone.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(phone, 'audience-contacts-390');
  });
});

describe('segments', () => {
  it('builds a segment with a nested OR group and its count follows the rules', async () => {
    await api(stack(), 'POST', '/contacts/bulk', {
      contacts: [
        { email: 'a@segment.test', country: 'IS', tags: ['vip'] },
        { email: 'b@segment.test', country: 'IS', tags: ['trial'] },
        { email: 'c@segment.test', country: 'IS' },
        { email: 'd@segment.test', country: 'NO', tags: ['vip'] },
        { email: 'e@segment.test', country: 'IS', tags: ['vip'], status: 'unsubscribed' },
      ],
    });
    // The unfinished condition below makes the preview answer 400, which the browser logs.
    const page = await ownerPage({ allowErrors: [/status of 400/] });
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('link', { name: 'New segment' }).click();
    const count = page.getByTestId('segment-count');
    await count.waitFor();
    await page.getByRole('textbox', { name: 'Name' }).fill('Icelandic VIPs or trials');

    // Status is subscribed (the starting rule) AND country is IS …
    await page.getByRole('button', { name: '+ Condition' }).click();
    await page.getByRole('group', { name: 'Condition 2' }).getByRole('textbox', { name: 'Value' }).fill('IS');
    await expect.poll(() => count.textContent(), { timeout: 10_000 }).toBe('3');

    // … AND any of (tag vip, tag trial): a nested group.
    await page.getByRole('button', { name: '+ Group' }).last().click();
    const group = page.getByRole('group', { name: 'Nested group, level 2' });
    for (const [i, tag] of [[1, 'vip'], [2, 'trial']] as const) {
      if (i === 2) await group.getByRole('button', { name: '+ Condition' }).click();
      const row = group.getByRole('group', { name: `Condition ${i} of the level 2 group` });
      await row.getByRole('combobox', { name: 'Type' }).click();
      await page.getByRole('option', { name: 'Tag', exact: true }).click();
      await row.getByRole('combobox', { name: 'Tag' }).fill(tag);
    }
    await expect.poll(() => count.textContent(), { timeout: 10_000 }).toBe('2');
    await page.keyboard.press('Escape');

    // An unfinished condition says what is missing instead of counting.
    await group.getByRole('button', { name: '+ Condition' }).click();
    const third = group.getByRole('group', { name: 'Condition 3 of the level 2 group' });
    await third.getByRole('combobox', { name: 'Type' }).click();
    await page.getByRole('option', { name: 'List', exact: true }).click();
    await third.getByRole('alert').first().waitFor();
    await page.getByText('Finish or fix the conditions marked below to update the count.').waitFor();
    await group.getByRole('button', { name: 'Remove condition 3 of the level 2 group' }).click();
    await expect.poll(() => count.textContent(), { timeout: 10_000 }).toBe('2');
    await screenshot(page, 'audience-segment-builder-1280', { fullPage: true });

    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.waitForURL(/\/app\/segments\/\d+$/);
    const matching = page.getByRole('table').last();
    await matching.getByRole('link', { name: 'a@segment.test' }).waitFor();
    await matching.getByRole('link', { name: 'b@segment.test' }).waitFor();
    expect(await matching.getByRole('link', { name: 'c@segment.test' }).count()).toBe(0);

    await page.getByRole('link', { name: '← All segments' }).click();
    await page.getByRole('link', { name: 'Icelandic VIPs or trials' }).waitFor();
    await page.getByRole('row', { name: /Icelandic VIPs or trials/ }).getByRole('cell', { name: '2', exact: true }).waitFor();
    await screenshot(page, 'audience-segments-1280');
  });
});

describe('overview', () => {
  it('charts the email activity and lists the recent failures', async () => {
    const send = await api<{ data: { sendId: number } }>(stack(), 'POST', '/send', { to: 'noor.haddad@example.net', subject: 'Welcome, Noor', html: '<p>Hi</p>', sendingConfigId: 1 });
    expect(send.data.sendId).toBeGreaterThan(0);
    const page = await ownerPage();
    await page.getByRole('heading', { name: 'Email activity' }).waitFor();
    await page.getByText('7 days', { exact: true }).click();
    await page.locator('.recharts-surface').first().waitFor();
    await page.getByRole('heading', { name: 'Recent failures' }).waitFor();
    await page.getByRole('link', { name: 'All failed sends' }).waitFor();
    await screenshot(page, 'audience-overview-1280', { fullPage: true });
  });
});
