import { describe, expect, it } from 'vitest';
import { completeSetup, createSite, createUser, screenshot, sessionCookie, signIn, useBrowser, useStack } from './harness.js';

const stack = useStack();
const browser = useBrowser();

const OWNER = { name: 'Olive Owner', email: 'olive@example.com', password: 'correct horse battery' };

/** The session's CSRF token, for a cookie-authenticated write outside the app. */
async function csrfOf(cookie: string): Promise<string> {
  const res = await stack().api<{ csrfToken: string }>('GET', '/auth/session', undefined, { cookie });
  expect(res.status).toBe(200);
  return res.body.csrfToken;
}

describe('sign-in', () => {
  it('shows the sign-in page without errors at 1280 and 390 px', async () => {
    const page = await browser.page();
    await page.goto(`${stack().appUrl}login`);
    await page.getByRole('heading', { name: 'Sign in to Tidings' }).waitFor();
    await screenshot(page, 'sign-in-1280');

    const mobile = await browser.page({ mobile: true });
    await mobile.goto(`${stack().appUrl}login`);
    await mobile.getByRole('button', { name: 'Sign in' }).waitFor();
    await screenshot(mobile, 'sign-in-390');
  });

  it('the first-owner link printed by npm start creates the account and lands on the overview', async () => {
    expect(stack().setupLink).toMatch(/\/app\/setup\?token=/);
    const page = await browser.page();
    await completeSetup(page, stack().setupLink!, OWNER);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await expect(page.getByText(`${OWNER.email} · owner`).isVisible()).resolves.toBe(true);
    await screenshot(page, 'overview-after-setup-1280');

    // The link works once (the check of a used link answers 404).
    const again = await browser.page({ allowErrors: [/status of 404/] });
    await again.goto(stack().setupLink!);
    await again.getByText('This link cannot be used').waitFor();
  });

  it('signs out to the sign-in page, and a wrong password says so', async () => {
    const page = await browser.page();
    await signIn(page, stack(), OWNER.email, OWNER.password);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/app\/login/);
    // Signed out, a page sends you to sign-in.
    await page.goto(`${stack().appUrl}api-keys`);
    await page.waitForURL(/\/app\/login\?next=/);

    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel(/^Password/).first().fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/password|incorrect|invalid/i);
    await screenshot(page, 'sign-in-wrong-password-1280');
  });

  it('a viewer sees no write controls on the settings pages, and the API refuses a viewer’s write', async () => {
    const viewer = { email: 'vera@example.com', password: 'viewer password 1' };
    await createUser(stack(), { siteId: stack().siteId, role: 'viewer', ...viewer });
    const { context, page } = await browser.open();
    await signIn(page, stack(), viewer.email, viewer.password);

    // API keys and users are the site's access list: owners only, even to read.
    await page.goto(`${stack().appUrl}api-keys`);
    await page.getByText('Only owners can see and change API keys.').waitFor();
    await expect(page.getByRole('button', { name: /create api key/i }).count()).resolves.toBe(0);
    await page.goto(`${stack().appUrl}users`);
    await page.getByText('Only owners can see and change who has access.').waitFor();
    await expect(page.getByRole('button', { name: /invite/i }).count()).resolves.toBe(0);

    await page.goto(`${stack().appUrl}sending-configs`);
    await page.getByRole('table', { name: 'Sending configs' }).waitFor();
    await expect(page.getByRole('button', { name: /add sending config|edit|delete|test connection/i }).count()).resolves.toBe(0);

    await page.goto(`${stack().appUrl}webhooks`);
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await expect(page.getByRole('button', { name: /add endpoint/i }).count()).resolves.toBe(0);

    await page.goto(`${stack().appUrl}settings/site`);
    await page.getByLabel('Site name').waitFor();
    await expect(page.getByRole('button', { name: /save/i }).count()).resolves.toBe(0);

    // No Users or API keys entry in the navigation for a non-owner.
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    await nav.getByRole('link', { name: 'Send log' }).waitFor();
    await expect(nav.getByRole('link', { name: 'Users' }).count()).resolves.toBe(0);
    await expect(nav.getByRole('link', { name: 'API keys' }).count()).resolves.toBe(0);
    await screenshot(page, 'viewer-site-settings-1280');

    const cookie = await sessionCookie(context);
    const csrf = await csrfOf(cookie);
    const write = await stack().api('POST', '/api-keys', { name: 'sneaky' }, { cookie, headers: { 'x-csrf-token': csrf } });
    expect(write.status).toBe(403);
    const patchSite = await stack().api('PATCH', '/site', { sendFrequencyCapDays: 9 }, { cookie, headers: { 'x-csrf-token': csrf } });
    expect(patchSite.status).toBe(403);
    // Reading is fine.
    expect((await stack().api('GET', '/sends', undefined, { cookie })).status).toBe(200);
  });

  it('a user of another site sees none of this site’s data', async () => {
    await stack().api('POST', '/send', { to: 'first-site@example.com', subject: 'First site only', html: '<p>hi</p>', sendingConfigId: 1 });
    const other = await createSite(stack(), 'Other site');
    const user = { email: 'otto@example.com', password: 'other site password' };
    await createUser(stack(), { siteId: other.id, role: 'owner', ...user });

    const { context, page } = await browser.open();
    await signIn(page, stack(), user.email, user.password);
    await page.getByText('Other site').first().waitFor();

    await page.goto(`${stack().appUrl}sends`);
    await page.getByText(/Nothing has been sent yet/).waitFor();
    await page.goto(`${stack().appUrl}api-keys`);
    await page.getByText('No API keys.').waitFor();

    const cookie = await sessionCookie(context);
    const keys = await stack().api<{ data: unknown[] }>('GET', '/api-keys', undefined, { cookie });
    expect(keys.body.data).toEqual([]);
    const sends = await stack().api<{ data: unknown[] }>('GET', '/sends', undefined, { cookie });
    expect(sends.body.data).toEqual([]);
  });
});
