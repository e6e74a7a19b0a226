import type { BrowserContext, Cookie, Locator, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { completeSetup, createUser, screenshot, sessionCookie, signIn, useBrowser, useStack, type PageOptions } from './harness.js';

/**
 * The Messages pages (templates, campaigns, sequences) as a user drives them: one `npm start` for the
 * file, the owner made through the printed first-owner link once and their session reused after.
 */
const stack = useStack();
const browser = useBrowser();

const OWNER = { name: 'Olive Owner', email: 'olive@example.com', password: 'correct horse battery' };

let ownerCookies: Cookie[] | null = null;
/** Pages of the running test, shot when it fails (before the harness closes them). */
let pages: Page[] = [];
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    const slug = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
    await Promise.all(pages.map((p, i) => screenshot(p, `messages-failed-${slug}-${i}`).catch(() => {})));
  }
  pages = [];
});

/** browser.open(), remembering the page for a screenshot on failure. */
async function open(opts: PageOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const opened = await browser.open(opts);
  pages.push(opened.page);
  return opened;
}

/** A page signed in as the owner: the first call completes the setup link in the UI, later ones reuse its session. */
async function ownerPage(opts: PageOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const opened = await open(opts);
  if (ownerCookies) {
    await opened.context.addCookies(ownerCookies);
    await opened.page.goto(stack().appUrl);
  } else {
    await completeSetup(opened.page, stack().setupLink!, OWNER);
    ownerCookies = await opened.context.cookies();
  }
  // Attached, not visible: a phone-sized page hides it in the header.
  await opened.page.getByText(`${OWNER.email} · owner`).waitFor({ state: 'attached' });
  return opened;
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main navigation' });

async function createContact(email: string, firstName: string, lists: number[] = []): Promise<number> {
  const res = await stack().api<{ data: { id: number } }>('POST', '/contacts', { email, firstName, lists });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data.id;
}

/** Picks one contact in a ContactPicker by typing part of its email. */
async function pickContact(page: Page, scope: Page | Locator, label: string, email: string): Promise<void> {
  const box = scope.getByRole('combobox', { name: label });
  await box.click();
  await box.fill(email.split('@')[0]!);
  await page.getByRole('option', { name: new RegExp(email.replace(/[.]/g, '\\.')) }).click();
}

/** The page is no wider than its viewport, and the element is inside it horizontally. */
async function fitsHorizontally(page: Page, el: Locator): Promise<void> {
  const width = page.viewportSize()!.width;
  // A string: the test project's types have no DOM.
  const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
  expect(scrollWidth, 'page width').toBeLessThanOrEqual(width);
  const box = await el.boundingBox();
  expect(box, 'element laid out').not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(width);
}

describe('templates', () => {
  it('writes a template, sees a Liquid error at its line and column, previews it for a contact and saves it', async () => {
    await createContact('ada@example.com', 'Ada');
    // The live preview of a source that does not parse is a 400 (template_syntax), which Chromium logs.
    const { page } = await ownerPage({ allowErrors: [/status of 400 \(Bad Request\)/] });
    await nav(page).getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('button', { name: 'New template' }).click();
    await page.waitForURL(/\/app\/templates\/new$/);
    await page.getByRole('heading', { name: 'New template' }).waitFor();

    await page.getByRole('textbox', { name: 'Name' }).fill('Spring welcome');
    await page.getByRole('textbox', { name: 'Subject' }).fill('Welcome, {{ firstName | default: "friend" }}');
    const html = page.getByRole('textbox', { name: 'HTML' });
    await html.fill('<h1>Hello {{ firstName | default: "friend" }}</h1>\n<p>Spring is here.</p>\n<p>{% if contact.customFields.plan %}Thanks for being on {{ contact.customFields.plan }}.</p>');

    // The error sits under the HTML field with its line and column, the offending line quoted with a caret.
    const fieldError = page.locator('.mantine-InputWrapper-error').filter({ hasText: /Line 3, column \d+/ });
    await fieldError.waitFor();
    await expect(fieldError.textContent()).resolves.toMatch(/^Line 3, column \d+: .*if/i);
    await expect(page.getByLabel('Line 3 of the source').textContent()).resolves.toContain('3 | <p>{% if contact.customFields.plan %}');
    await page.getByRole('alert').filter({ hasText: 'The template does not render' }).getByText(/HTML: Line 3, column \d+/).waitFor();
    await screenshot(page, 'messages-template-error-1280');

    await html.fill('<h1>Hello {{ firstName | default: "friend" }}</h1>\n<p>Spring is here.</p>\n<p>{% if contact.customFields.plan %}Thanks for being on {{ contact.customFields.plan }}.{% endif %}</p>');
    await fieldError.waitFor({ state: 'detached' });
    // Without a contact the default applies; for Ada her first name.
    const frame = page.frameLocator('iframe[title="Email preview"]');
    await frame.getByRole('heading', { name: 'Hello friend' }).waitFor();
    await pickContact(page, page, 'Preview as contact', 'ada@example.com');
    await frame.getByRole('heading', { name: 'Hello Ada' }).waitFor();
    await page.getByText('Welcome, Ada').waitFor();
    const iframe = page.locator('iframe[title="Email preview"]');
    const sandbox = await iframe.getAttribute('sandbox');
    expect(sandbox).not.toBeNull();
    expect(sandbox).not.toMatch(/allow-scripts/);
    await screenshot(page, 'messages-template-preview-1280');

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Template “Spring welcome” saved').waitFor();
    await page.waitForURL(/\/app\/templates\/\d+$/);
    await page.getByRole('heading', { name: 'Template: Spring welcome' }).waitFor();
    await page.getByRole('button', { name: 'Saved' }).waitFor();

    await nav(page).getByRole('link', { name: 'Templates' }).click();
    const row = page.getByRole('row', { name: /Spring welcome/ });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('Welcome, {{ firstName | default: "friend" }}');
    await screenshot(page, 'messages-templates-1280');
  });
});

describe('campaigns', () => {
  it('composes a campaign for a list, schedules it, watches it reach sent and opens its stats', async () => {
    const list = await stack().api<{ data: { id: number } }>('POST', '/lists', { name: 'Spring readers' });
    expect(list.status).toBe(201);
    const listId = list.body.data.id;
    const readers = ['bea@example.com', 'cal@example.com', 'dee@example.com'];
    for (const email of readers) await createContact(email, email.slice(0, 3).replace(/^./, (c) => c.toUpperCase()), [listId]);

    const { page } = await ownerPage();
    await nav(page).getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.waitForURL(/\/app\/campaigns\/new$/);
    await page.getByRole('textbox', { name: 'Campaign name' }).fill('Spring newsletter');
    // The default sending config is the `log` provider the first start created.
    await page.getByText(/· log$/).waitFor();
    await page.getByRole('textbox', { name: 'Subject' }).fill('Spring news for {{ firstName }}');
    await page.getByRole('textbox', { name: 'HTML' }).fill('<h1>Hi {{ firstName }}</h1>\n<p>The spring issue is out.</p>\n<p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>');

    await page.getByRole('combobox', { name: 'Lists', exact: true }).click();
    await page.getByRole('option', { name: 'Spring readers (3)' }).click();
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('audience-count').textContent()).resolves.toMatch(/^3 subscribed contacts would receive it now/);
    await page.getByTestId('audience-count').filter({ hasText: /^3 subscribed/ }).waitFor();

    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft “Spring newsletter” created').waitFor();
    await page.waitForURL(/\/app\/campaigns\/\d+$/);
    const campaignId = Number(new URL(page.url()).pathname.split('/').pop());
    const title = page.getByRole('heading', { level: 2 });
    await title.getByText('draft', { exact: true }).waitFor();

    // A test copy to yourself.
    await page.getByRole('button', { name: 'Send test' }).click();
    const testDialog = page.getByRole('dialog', { name: 'Send a test' });
    await expect(testDialog.getByRole('textbox', { name: 'Send to' }).inputValue()).resolves.toBe(OWNER.email);
    await testDialog.getByRole('button', { name: 'Send test' }).click();
    await page.getByText(new RegExp(`Test copy on its way to ${OWNER.email.replace('.', '\\.')} \\(send \\d+\\)`)).waitFor();
    await testDialog.waitFor({ state: 'detached' });

    // Scheduled a few seconds ahead (the field takes seconds too), in the browser's own time zone.
    await page.getByRole('button', { name: 'Schedule' }).click();
    const scheduleDialog = page.getByRole('dialog', { name: 'Schedule' });
    const at = await page.evaluate(() => {
      const d = new Date(Date.now() + 6000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    });
    await scheduleDialog.getByLabel('Send at (your local time)').fill(at);
    await scheduleDialog.getByRole('button', { name: 'Schedule' }).click();
    await page.getByText(/^Scheduled for /).first().waitFor();
    await title.getByText('scheduled', { exact: true }).waitFor();
    await page.frameLocator('iframe[title="Email preview"]').getByRole('heading', { name: 'Hi' }).waitFor();
    await screenshot(page, 'messages-campaign-scheduled-1280');

    // No reload from here: the page follows the campaign by itself.
    await title.getByText(/^(sending|sent)$/).waitFor({ timeout: 30_000 });
    await screenshot(page, 'messages-campaign-sending-1280');
    await title.getByText('sent', { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByText('Frozen audience: 3 recipients · 100% · 3 done (3 sent, 0 failed, 0 suppressed, 0 skipped)').waitFor();
    await page.getByRole('progressbar', { name: 'Sent' }).waitFor();
    await expect(page.getByRole('progressbar', { name: 'Sent' }).getAttribute('aria-valuenow')).resolves.toBe('100');
    await page.getByLabel('Sending progress 100%').waitFor();
    await screenshot(page, 'messages-campaign-sent-1280');

    // One reader opens it (the tracking pixel of their copy), then the campaign is opened again from the list.
    const sends = await stack().api<{ data: Array<{ id: number; toEmail: string }> }>('GET', `/sends?campaignId=${campaignId}`);
    expect(sends.body.data.map((s) => s.toEmail).sort()).toEqual(readers);
    const bea = sends.body.data.find((s) => s.toEmail === 'bea@example.com')!;
    const detail = await stack().api<{ data: { html: string } }>('GET', `/sends/${bea.id}`);
    const pixel = /src="([^"]*\/t\/o\/[^"]+)"/.exec(detail.body.data.html)?.[1];
    expect(pixel, 'open pixel in the sent HTML').toBeTruthy();
    // A mail client's user agent: link scanners and bots (Node's fetch among them) record no open.
    const reader = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.0' };
    expect((await fetch(pixel!.replace(/^https?:\/\/[^/]+/, stack().url), { headers: reader })).status).toBe(200);

    // Looking at another reader's copy in the send log records nothing: the preview drops the pixel and
    // points tracked links back at their destinations.
    const other = sends.body.data.find((s) => s.toEmail !== 'bea@example.com')!;
    await page.goto(`${stack().appUrl}sends/${other.id}`);
    const frame = page.locator('iframe[sandbox]').first();
    await frame.waitFor();
    const srcdoc = (await frame.getAttribute('srcdoc')) ?? '';
    expect(srcdoc).toContain('<');
    expect(srcdoc).not.toContain('/t/o/');
    expect(srcdoc).not.toContain('/t/c/');
    await page.waitForTimeout(1_000);
    const seen = await stack().api<{ data: unknown[] }>('GET', `/events?sendId=${other.id}`);
    expect(seen.body.data).toEqual([]);

    // A fresh load of the list (the page keeps its stats for a few seconds), then the campaign.
    await page.goto(`${stack().appUrl}campaigns`);
    const row = page.getByRole('row', { name: /Spring newsletter/ });
    await row.getByText('sent', { exact: true }).waitFor();
    await row.getByText('100%').waitFor();
    await row.getByRole('link', { name: 'Spring newsletter' }).click();
    const stats = page.getByRole('region', { name: 'Stats' });
    await stats.getByText('3 sent', { exact: false }).waitFor();
    const metric = (label: string) => stats.locator('p', { hasText: new RegExp(`^${label}$`) }).locator('..');
    for (const label of ['Delivered', 'Opened', 'Clicked', 'Bounced', 'Complained', 'Unsubscribed']) await metric(label).waitFor();
    await expect.poll(async () => (await metric('Opened').textContent())?.replace(/\s+/g, ' '), { timeout: 10_000 }).toMatch(/^Opened1\d/);
    await expect(metric('Opened').textContent()).resolves.toContain('33.3% of sent');
    await expect(metric('Bounced').textContent()).resolves.toMatch(/^Bounced0/);
    // The chart: one bar per metric.
    await stats.locator('.recharts-surface').waitFor();
    await expect(stats.locator('.recharts-bar-rectangle').count()).resolves.toBe(6);

    const recipients = page.getByRole('region', { name: 'Recipients' });
    await recipients.getByRole('tab', { name: 'sent (3)' }).waitFor();
    for (const email of readers) await recipients.getByRole('row', { name: new RegExp(email.replace('.', '\\.')) }).getByText('sent', { exact: true }).waitFor();
    await screenshot(page, 'messages-campaign-stats-1280');

    // The same page on a phone: the status and the main actions stay in view, nothing runs off the side.
    const mobile = await ownerPage({ mobile: true });
    await mobile.page.goto(`${stack().appUrl}campaigns/${campaignId}`);
    const mobileTitle = mobile.page.getByRole('heading', { level: 2 });
    await mobileTitle.getByText('sent', { exact: true }).waitFor();
    await mobile.page.getByRole('region', { name: 'Stats' }).locator('p', { hasText: /^Opened$/ }).waitFor();
    await fitsHorizontally(mobile.page, mobileTitle.getByText('sent', { exact: true }));
    for (const name of ['Send test', 'Retry failed', 'Cancel campaign']) await fitsHorizontally(mobile.page, mobile.page.getByRole('button', { name }));
    await fitsHorizontally(mobile.page, mobile.page.getByLabel('Sending progress 100%'));
    // Every bar of the chart keeps its label on a phone.
    const ticks = mobile.page.getByRole('region', { name: 'Stats' }).locator('.recharts-cartesian-axis-tick-value');
    await expect.poll(() => ticks.allTextContents()).toEqual(expect.arrayContaining(['Delivered', 'Opened', 'Clicked', 'Bounced', 'Complained', 'Unsubscribed']));
    await screenshot(mobile.page, 'messages-campaign-390');
  });
});

describe('sequences', () => {
  it('builds a three-step sequence, enrolls a contact and shows the journey’s live state', async () => {
    await createContact('eve@example.com', 'Eve');
    const { page } = await ownerPage();
    await nav(page).getByRole('link', { name: 'Sequences' }).click();
    await page.getByRole('button', { name: 'New sequence' }).click();
    const create = page.getByRole('dialog', { name: 'New sequence' });
    await create.getByRole('textbox', { name: 'Name' }).fill('Onboarding');
    await create.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/app\/sequences\/\d+$/);
    const title = page.getByRole('heading', { level: 2 });
    await title.getByText('Onboarding').waitFor();

    const addStep = async (fill: (dialog: Locator) => Promise<void>) => {
      await page.getByRole('button', { name: 'Add step' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add a step' });
      await fill(dialog);
      await dialog.getByRole('button', { name: 'Add step' }).click();
      await dialog.waitFor({ state: 'detached' });
    };
    const steps = page.getByTestId('sequence-step');

    // 1. A welcome email right away (the first step's delay defaults to 0).
    await addStep(async (d) => {
      await expect(d.getByRole('textbox', { name: 'Wait before this step' }).inputValue()).resolves.toBe('0');
      await d.getByRole('textbox', { name: 'Subject' }).fill('Welcome aboard');
    });
    await steps.nth(0).getByText('1. Email: Welcome aboard').waitFor();
    await steps.nth(0).getByText('right away').waitFor();

    // 2. Wait up to 3 days for a purchase (the next step is linked once it exists).
    await addStep(async (d) => {
      await d.locator('label', { hasText: 'Wait for event' }).click();
      await d.getByRole('textbox', { name: 'Wait before this step' }).fill('0');
      await d.getByRole('textbox', { name: 'Event name' }).fill('purchased');
      await d.getByRole('textbox', { name: 'Give up after' }).fill('3');
    });
    await steps.nth(1).getByText('2. Wait for “purchased”').waitFor();

    // 3. A nudge two days later.
    await addStep(async (d) => {
      await d.getByRole('textbox', { name: 'Wait before this step' }).fill('2');
      await d.getByRole('textbox', { name: 'Subject' }).fill('Still thinking it over?');
    });
    await steps.nth(2).getByText('3. Email: Still thinking it over?').waitFor();
    await steps.nth(2).getByText('after 2 days').waitFor();

    // Step 2 without a purchase goes on to step 3.
    await steps.nth(1).getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit step' });
    await edit.getByRole('combobox', { name: 'If it times out' }).click();
    await page.getByRole('option', { name: '3. Email: Still thinking it over?' }).click();
    await edit.getByRole('button', { name: 'Save step' }).click();
    await edit.waitFor({ state: 'detached' });
    await steps.nth(1).getByText('Up to 3 days. If it happens: end the journey; if not: go to step 3.').waitFor();

    // Pause and activate again: the status follows.
    await page.getByRole('button', { name: 'Pause' }).click();
    await title.getByText('paused', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Activate' }).click();
    await title.getByText('active', { exact: true }).waitFor();
    await page.getByText('Sequence is active').waitFor();
    await page.mouse.move(0, 0);
    await screenshot(page, 'messages-sequence-steps-1280');

    await page.getByRole('tab', { name: 'Enrollments' }).click();
    await pickContact(page, page, 'Enroll one contact', 'eve@example.com');
    await page.getByRole('button', { name: 'Enroll', exact: true }).click();
    // The notification (the table has an "Enrolled" column too).
    await page.getByRole('alert').filter({ hasText: /^Enrolled$/ }).waitFor();
    const row = page.getByTestId('enrollment-row').filter({ hasText: 'eve@example.com' });
    await row.waitFor();
    await row.getByText('active', { exact: true }).waitFor();

    await row.getByRole('button', { name: 'eve@example.com', exact: true }).click();
    const drawer = page.getByRole('dialog', { name: 'Enrollment' });
    await drawer.getByText('live from the workflow').waitFor();
    await drawer.getByText('active', { exact: true }).waitFor();
    // The welcome went out; the journey now waits for the purchase until it gives up, then goes on to step 3.
    await drawer.getByText('Current step: 2. Wait for “purchased”').waitFor({ timeout: 30_000 });
    const waiting = await drawer.getByText(/^Waiting for the event “purchased” until /).textContent();
    const until = await page.evaluate(() => new Date(Date.now() + 3 * 86_400_000).toLocaleDateString());
    expect(waiting).toContain(until);
    await drawer.getByText('If it comes: the journey ends · if not: 3. Email: Still thinking it over?').waitFor();
    await drawer.getByRole('row', { name: /1\. Email: Welcome aboard sent/ }).waitFor();

    const link = drawer.getByRole('link', { name: 'Open the workflow in Temporal UI' });
    const href = await link.getAttribute('href');
    const uiUrl = /Temporal UI:\s+(\S+)/.exec(stack().output())?.[1];
    expect(uiUrl, 'Temporal UI URL in the banner').toBeTruthy();
    const enrollments = await stack().api<{ data: Array<{ workflowId: string; contactEmail: string }> }>('GET', `/sequences/${new URL(page.url()).pathname.split('/').pop()}/enrollments`);
    const workflowId = enrollments.body.data.find((e) => e.contactEmail === 'eve@example.com')!.workflowId;
    expect(href!.startsWith(uiUrl!.replace(/\/+$/, ''))).toBe(true);
    expect(href).toContain(encodeURIComponent(workflowId));
    expect(await link.getAttribute('target')).toBe('_blank');
    await screenshot(page, 'messages-sequence-enrollment-1280');

    // The table behind the drawer follows the journey too (it reads the mirrored row, refreshed every 3 s).
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
    await row.getByText('2. Wait for “purchased”').waitFor({ timeout: 10_000 });
    await row.getByText(until).waitFor();
    await row.getByRole('link', { name: 'Workflow of eve@example.com in Temporal UI' }).waitFor();
  });
});

describe('a viewer', () => {
  it('sees the Messages pages without write controls, and the API refuses the viewer’s writes', async () => {
    const viewer = { email: 'vic@example.com', password: 'viewer password 1' };
    await createUser(stack(), { siteId: stack().siteId, role: 'viewer', ...viewer });
    const { context, page } = await open();
    await signIn(page, stack(), viewer.email, viewer.password);
    await page.getByText(`${viewer.email} · viewer`).waitFor();

    await nav(page).getByRole('link', { name: 'Templates' }).click();
    const templateRow = page.getByRole('row', { name: /Spring welcome/ });
    await templateRow.waitFor();
    await expect(page.getByRole('button', { name: 'New template' }).isDisabled()).resolves.toBe(true);
    await expect(templateRow.getByRole('button', { name: 'Delete template Spring welcome' }).isDisabled()).resolves.toBe(true);
    await templateRow.getByRole('link', { name: 'View' }).click();
    await page.getByText('your role (viewer) cannot change it').waitFor();
    await expect(page.getByRole('textbox', { name: 'HTML' }).isDisabled()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: /^Save/ }).isDisabled()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Delete' }).isDisabled()).resolves.toBe(true);
    await screenshot(page, 'messages-viewer-template-1280');

    await nav(page).getByRole('link', { name: 'Campaigns' }).click();
    await expect(page.getByRole('button', { name: 'New campaign' }).isDisabled()).resolves.toBe(true);
    await page.getByRole('link', { name: 'Spring newsletter' }).click();
    await page.getByRole('region', { name: 'Stats' }).waitFor();
    for (const name of ['Send test', 'Schedule', 'Send now', 'Pause', 'Resume', 'Retry failed', 'Cancel campaign']) {
      await expect(page.getByRole('button', { name, exact: true }).isDisabled(), name).resolves.toBe(true);
    }

    await nav(page).getByRole('link', { name: 'Sequences' }).click();
    await expect(page.getByRole('button', { name: 'New sequence' }).isDisabled()).resolves.toBe(true);
    await page.getByRole('link', { name: 'Onboarding' }).click();
    await page.getByTestId('sequence-step').first().waitFor();
    for (const name of ['Activate', 'Pause', 'Archive', 'Delete', 'Add step']) {
      await expect(page.getByRole('button', { name, exact: true }).isDisabled(), name).resolves.toBe(true);
    }
    await expect(page.getByRole('button', { name: 'Edit' }).count()).resolves.toBe(0);
    await page.getByRole('tab', { name: 'Enrollments' }).click();
    await page.getByTestId('enrollment-row').first().waitFor();
    await expect(page.getByRole('button', { name: 'Enroll', exact: true }).isDisabled()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Unenroll eve@example.com' }).isDisabled()).resolves.toBe(true);
    await screenshot(page, 'messages-viewer-sequence-1280');

    const cookie = await sessionCookie(context);
    const session = await stack().api<{ csrfToken: string }>('GET', '/auth/session', undefined, { cookie });
    const headers = { 'x-csrf-token': session.body.csrfToken };
    const writes = await Promise.all([
      stack().api('POST', '/templates', { name: 'sneaky', subject: 'x', html: '<p>x</p>' }, { cookie, headers }),
      stack().api('POST', '/campaigns', { name: 'sneaky', sendingConfigId: 1, subject: 'x', html: '<p>x</p>', audience: { listIds: [1] } }, { cookie, headers }),
      stack().api('POST', '/sequences', { name: 'sneaky', sendingConfigId: 1 }, { cookie, headers }),
    ]);
    expect(writes.map((w) => w.status)).toEqual([403, 403, 403]);
    // Reading is fine.
    expect((await stack().api('GET', '/templates', undefined, { cookie })).status).toBe(200);
  });
});
