import { beforeAll, describe, expect, it } from 'vitest';
import { completeSetup, createUser, screenshot, signIn, useBrowser, useStack, type Stack } from './harness.js';

const stack = useStack();
const browser = useBrowser();

const OWNER = { name: 'Olive Owner', email: 'olive@example.com', password: 'correct horse battery' };

beforeAll(async () => {
  await createUser(stack(), { siteId: stack().siteId, role: 'owner', name: OWNER.name, email: OWNER.email, password: OWNER.password });
});

const ownerPage = async (opts?: { mobile?: boolean; allowErrors?: RegExp[] }) => {
  const opened = await browser.open(opts);
  await signIn(opened.page, stack(), OWNER.email, OWNER.password);
  return opened;
};

/** Sends one transactional email through the `log` provider and waits until the worker has sent it. */
async function sendOne(s: Stack, to: string, subject: string, html: string): Promise<number> {
  const res = await s.api<{ data: { sendId: number } }>('POST', '/send', { to, subject, html, text: `Plain: ${subject}`, sendingConfigId: 1 });
  expect(res.status).toBeLessThan(300);
  const id = res.body.data.sendId;
  for (let i = 0; i < 100; i++) {
    const send = await s.api<{ data: { status: string } }>('GET', `/sends/${id}`);
    if (send.body.data.status !== 'queued') return id;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`send ${id} still queued`);
}

describe('send log', () => {
  it('lists a transactional send and shows its rendered message', async () => {
    const html = '<h1 style="color:#364fc7">Your receipt</h1><p>Order <b>1042</b> ships today.</p>';
    const id = await sendOne(stack(), 'ada@example.com', 'Receipt for order 1042', html);
    await sendOne(stack(), 'grace@example.com', 'Welcome aboard', '<p>Hello Grace</p>');

    const { page } = await ownerPage();
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Send log' }).click();
    const table = page.getByRole('table', { name: 'Sends' });
    await table.getByRole('link', { name: 'Receipt for order 1042' }).waitFor();
    await screenshot(page, 'send-log-1280');

    // Recipient search (the toEmail filter) narrows the list and lands in the URL.
    await page.getByRole('textbox', { name: 'Recipient' }).fill('GRACE@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/toEmail=GRACE%40example.com/);
    // The previous page stays on screen until the filtered one arrives.
    await table.getByRole('link', { name: 'Receipt for order 1042' }).waitFor({ state: 'detached' });
    await table.getByRole('link', { name: 'Welcome aboard' }).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();

    await table.getByRole('link', { name: 'Receipt for order 1042' }).click();
    await page.waitForURL(new RegExp(`/app/sends/${id}$`));
    await page.getByRole('heading', { name: 'Receipt for order 1042' }).waitFor();
    const frame = page.getByTitle('HTML of “Receipt for order 1042”');
    expect(await frame.getAttribute('sandbox')).toBe('');
    expect(await frame.getAttribute('srcdoc')).toContain('Order <b>1042</b> ships today.');
    await page.frameLocator('iframe[sandbox=""]').getByRole('heading', { name: 'Your receipt' }).waitFor();
    await page.getByText('ada@example.com').first().waitFor();
    await page.getByText('Accepted by the provider').first().waitFor();
    await screenshot(page, 'send-detail-1280');

    await page.getByRole('tab', { name: 'Plain text' }).click();
    await page.getByText('Plain: Receipt for order 1042').waitFor();
  });

  it('honours ?status=failed from a link, and fits 390 px', async () => {
    const { page } = await ownerPage({ mobile: true });
    await page.goto(`${stack().appUrl}sends?status=failed`);
    await page.getByText('No sends match these filters.').waitFor();
    await expect(page.getByRole('combobox', { name: 'Status' }).inputValue()).resolves.toBe('Failed');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    const link = page.getByRole('list', { name: 'Sends' }).getByRole('link', { name: 'Receipt for order 1042' });
    await link.waitFor();
    await screenshot(page, 'send-log-390');
    await link.click();
    await page.frameLocator('iframe[sandbox=""]').getByRole('heading', { name: 'Your receipt' }).waitFor();
    // Nothing wider than the screen.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(page, 'send-detail-390');
    await page.locator('iframe[sandbox=""]').scrollIntoViewIfNeeded();
    await screenshot(page, 'send-detail-390-message', { fullPage: false });
  });
});

describe('API keys', () => {
  it('creates a key, shows it once with a copy button, and revokes it', async () => {
    const { page } = await ownerPage();
    await page.goto(`${stack().appUrl}api-keys`);
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an API key' });
    await dialog.getByLabel('Name').fill('website signup');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const field = dialog.getByRole('textbox', { name: 'API key' });
    await field.waitFor();
    const key = await field.inputValue();
    expect(key).toMatch(/^tk_live_[A-Za-z0-9_-]{32}$/);
    await dialog.getByRole('button', { name: 'Copy API key' }).waitFor();
    await screenshot(page, 'api-key-created-1280');
    expect((await stack().api('GET', '/contacts', undefined, { key })).status).toBe(200);
    await dialog.getByRole('button', { name: 'Done' }).click();

    // Listed by name and prefix, never in full.
    const row = page.getByRole('row', { name: /website signup/ });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain(key.slice(0, 12));
    await expect(page.content()).resolves.not.toContain(key);
    await screenshot(page, 'api-keys-1280');

    await row.getByRole('button', { name: 'Revoke website signup' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText('Revoked').waitFor();
    expect((await stack().api('GET', '/contacts', undefined, { key })).status).toBe(401);
  });
});

describe('users', () => {
  it('an owner invites an editor, who signs up through the link in another browser', async () => {
    const { page } = await ownerPage();
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('table', { name: 'Users' }).getByText(OWNER.email).waitFor();
    await page.getByRole('button', { name: 'Invite user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Invite a user' });
    await dialog.getByRole('button', { name: 'Create invite link' }).click();
    const link = await dialog.getByRole('textbox', { name: 'Invite link' }).inputValue();
    expect(link).toMatch(/\/app\/setup\?token=/);
    await screenshot(page, 'users-invite-1280');
    await dialog.getByRole('button', { name: 'Done' }).click();

    const editor = await browser.page();
    await completeSetup(editor, link, { name: 'Eddie Editor', email: 'eddie@example.com', password: 'editor password 1' });
    await editor.getByText('eddie@example.com · editor').waitFor();
    await expect(editor.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Users' }).count()).resolves.toBe(0);
    await editor.goto(`${stack().appUrl}api-keys`);
    await editor.getByText('Only owners can see and change API keys.').waitFor();

    await page.reload();
    const row = page.getByRole('row', { name: /eddie@example.com/ });
    await row.waitFor();
    await expect(row.getByRole('combobox', { name: 'Role of eddie@example.com' }).inputValue()).resolves.toBe('Editor');
    await screenshot(page, 'users-1280');
  });

  it('changes a role, disables and enables a user, and will not leave the site without an owner', async () => {
    // The last owner demoting themselves is refused (409), and the page says so.
    const { page } = await ownerPage({ allowErrors: [/status of 409/] });
    await page.goto(`${stack().appUrl}users`);
    const eddie = page.getByRole('row', { name: /eddie@example.com/ });
    await eddie.getByRole('combobox', { name: 'Role of eddie@example.com' }).click();
    await page.getByRole('option', { name: 'Viewer' }).click();
    await page.getByText('Role changed to viewer').waitFor();
    const users = async () => (await stack().api<{ data: Array<{ email: string; role: string; disabledAt: string | null }> }>('GET', '/users')).body.data;
    expect((await users()).find((u) => u.email === 'eddie@example.com')).toMatchObject({ role: 'viewer', disabledAt: null });

    await eddie.getByRole('button', { name: 'Disable eddie@example.com' }).click();
    await eddie.getByText('Disabled').waitFor();
    expect((await users()).find((u) => u.email === 'eddie@example.com')?.disabledAt).not.toBeNull();
    await eddie.getByRole('button', { name: 'Enable eddie@example.com' }).click();
    await eddie.getByText('Active').waitFor();

    const me = page.getByRole('row', { name: /olive@example.com/ });
    await me.getByRole('combobox', { name: 'Role of olive@example.com' }).click();
    await page.getByRole('option', { name: 'Editor' }).click();
    await page.getByText('Could not change the user').waitFor();
    expect((await users()).find((u) => u.email === OWNER.email)?.role).toBe('owner');
  });
});

describe('sending configs, webhooks and site settings', () => {
  it('adds an SMTP config without ever showing the password back', async () => {
    const { page } = await ownerPage();
    await page.goto(`${stack().appUrl}sending-configs`);
    await page.getByRole('button', { name: 'Add sending config' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a sending config' });
    await dialog.getByLabel(/^Name/).fill('Office SMTP');
    await dialog.getByRole('combobox', { name: /^Provider/ }).click();
    await page.getByRole('option', { name: 'SMTP' }).click();
    await dialog.getByLabel(/^Host/).fill('127.0.0.1');
    await dialog.getByLabel(/^Port/).fill('2525');
    await dialog.getByLabel('User name').fill('mailer');
    await dialog.getByLabel(/^Password/).first().fill('smtp-secret-password');
    await dialog.getByLabel(/^From address/).fill('news@example.com');
    await dialog.getByLabel(/^From name/).fill('Example News');
    await dialog.getByRole('button', { name: 'Add sending config' }).click();
    const row = page.getByRole('row', { name: /Office SMTP/ });
    await row.waitFor();
    await expect(page.content()).resolves.not.toContain('smtp-secret-password');
    await screenshot(page, 'sending-configs-1280');

    // Test connection answers in a notification (nothing listens on 2525: not accepted).
    await row.getByRole('button', { name: 'Test connection of Office SMTP' }).click();
    await page.getByText('Office SMTP: not accepted').waitFor({ timeout: 30_000 });
  });

  it('adds a webhook endpoint, shows its secret once, and logs a test delivery', async () => {
    const { page } = await ownerPage();
    await page.goto(`${stack().appUrl}webhooks`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a webhook endpoint' });
    await dialog.getByLabel(/^URL/).fill('http://127.0.0.1:9/hooks/tidings');
    await dialog.getByLabel('Description').fill('CRM sync');
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await dialog.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('link', { name: 'http://127.0.0.1:9/hooks/tidings', exact: true }).click();
    await page.getByRole('heading', { name: 'Webhook endpoint' }).waitFor();
    await expect(page.content()).resolves.not.toContain(secret);
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('webhook.test').first().waitFor({ timeout: 20_000 });
    await screenshot(page, 'webhook-deliveries-1280');
    await page.goto(`${stack().appUrl}webhooks`);
    await page.getByRole('table', { name: 'Webhook endpoints' }).waitFor();
    await screenshot(page, 'webhooks-1280');
  });

  it('changes the frequency cap', async () => {
    const { page } = await ownerPage();
    await page.goto(`${stack().appUrl}settings/site`);
    const cap = page.getByRole('textbox', { name: /^Days between sequence emails/ });
    await cap.fill('2');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Site settings saved').waitFor();
    const site = await stack().api<{ data: { sendFrequencyCapDays: number } }>('GET', '/site');
    expect(site.body.data.sendFrequencyCapDays).toBe(2);
    await screenshot(page, 'site-settings-1280');
  });
});
