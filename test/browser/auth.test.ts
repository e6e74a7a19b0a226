import { describe, expect, it } from 'vitest';
import { screenshot, useBrowser, useStack } from './harness.js';

const stack = useStack();
const browser = useBrowser();

describe('sign-in', () => {
  it('the stack prints its API key, and the sign-in page loads without errors at 1280 and 390 px', async () => {
    expect(stack().apiKey).toMatch(/^tk_live_/);
    const contacts = await stack().api('GET', '/contacts');
    expect(contacts.status).toBe(200);

    const page = await browser.page();
    await page.goto(`${stack().appUrl}login`);
    await expect(page.getByRole('heading', { name: 'Sign in to Tidings' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'sign-in-1280');

    const mobile = await browser.page({ mobile: true });
    await mobile.goto(`${stack().appUrl}login`);
    await mobile.getByRole('button', { name: 'Sign in' }).waitFor();
    await screenshot(mobile, 'sign-in-390');
  });
});
