/**
 * Browser tests: a real `npm start` stack (its own data dir, free ports) driven by Chromium through
 * playwright-core. Chromium is Debian's package (`apt-get install chromium`, /usr/bin/chromium, or
 * CHROMIUM_PATH); `npm test` checks for it first (src/embedded/provision.ts --test).
 *
 * A test file usually starts with
 *
 *     const stack = useStack();      // one `npm start` for the file (beforeAll / afterAll)
 *     const browser = useBrowser();  // one Chromium for the file; fresh context per test; page errors fail the test
 *
 *     it('…', async () => {
 *       const page = await browser.page();               // 1280×800 (browser.page({ mobile: true }): 390×844)
 *       await completeSetup(page, stack().setupLink!, { name, email, password });
 *       await screenshot(page, 'overview');              // .reports/screenshots/overview.png
 *     });
 *
 * Every page opened through `browser.page()` collects uncaught page errors and console errors (CSP
 * violations are console errors); after each test the harness fails it if there were any, apart from
 * the expected 401s of the sign-in endpoints (a signed-out session check, a wrong password). Pass
 * `allowErrors` to `browser.page()` for a test that expects another one.
 *
 * Stack helpers: `createSite(stack, name)` and `createUser(stack, {...})` run the `tidings` CLI against
 * the stack's database (found through its data dir's runtime.json), `stack.api()` calls /api/v1 with
 * the stack's API key (or a session cookie: `sessionCookie(context)`, plus the X-CSRF-Token header
 * for a write). The first-owner link (`stack().setupLink`) works once per stack; a file that only
 * needs a signed-in owner makes one with `createUser` in beforeAll and calls `signIn(page, stack(),
 * email, password)`. `browser.open()` gives the context too, for a second user next to the first.
 * The stack's PUBLIC_URL is its own origin, so setup and invite links share the sign-in cookie.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { configKeys } from '../../src/config.js';
import { findFreePort } from '../../src/embedded/ports.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { REPORTS_DIR } from '../report/reports.js';

export const SCREENSHOTS_DIR = path.join(REPORTS_DIR, 'screenshots');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const BANNER_END = 'Press Ctrl-C to stop.';
// Not `\b` at the end: a key may end in `-`, after which there is no word boundary.
const API_KEY_RE = /\btk_live_[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])/;
const SETUP_LINK_RE = /https?:\/\/\S+\/app\/setup\?token=\S+/;
/** Settings that say where binaries are, not how Tidings runs: kept from the caller. */
const KEPT_CONFIG = new Set(['TEMPORAL_CLI_PATH', 'TEMPORAL_TEST_SERVER_PATH']);
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export interface ApiResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiOptions {
  /** A `Cookie` header value (e.g. from {@link sessionCookie}) instead of the stack's API key. */
  cookie?: string;
  /** Another bearer key. */
  key?: string;
  /** Extra headers (X-CSRF-Token…). */
  headers?: Record<string, string>;
}

export interface Stack {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `<url>/app/` */
  appUrl: string;
  /** The key the first start printed (site 1's). */
  apiKey: string;
  /** The first-owner setup link the start printed, or null if it printed none. */
  setupLink: string | null;
  /** The id of the site the first start created. */
  siteId: number;
  dataDir: string;
  /** Everything `npm start` printed so far (stdout and stderr). */
  output(): string;
  api<T = unknown>(method: string, urlPath: string, body?: unknown, opts?: ApiOptions): Promise<ApiResult<T>>;
  /** Ctrl-C (SIGINT to the process group), then SIGKILL after 30 s. */
  stop(): Promise<void>;
}

/** The caller's environment minus every Tidings setting, so a developer's .env never leaks in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of configKeys) if (!KEPT_CONFIG.has(key)) delete env[key];
  return env;
}

/** A free port whose +1000 neighbour is free too (the Temporal dev server's HTTP port). */
async function freeTemporalPort(): Promise<number> {
  for (;;) {
    const port = await findFreePort();
    if (port + 1000 > 65535) continue;
    const neighbour = await new Promise<boolean>((resolve) => {
      import('node:net').then(({ createServer }) => {
        const server = createServer();
        server.once('error', () => resolve(false));
        server.listen({ port: port + 1000, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
      }, () => resolve(false));
    });
    if (neighbour) return port;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Processes still running from this data dir: the embedded PostgreSQL and Temporal run in process
 * groups of their own (so a terminal's Ctrl-C reaches only main.ts), and outlive a killed main.ts.
 */
async function leftovers(dataDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(dataDir)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Starts Tidings as a user does (`npm start`) in its own process group, with a fresh data dir and
 * free ports, and waits for the banner. Fails with the output's tail if it exits or takes too long.
 */
export async function startStack(opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Stack> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'tidings-browser-'));
  const dataDir = path.join(base, 'data');
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    TIDINGS_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    TIDINGS_PG_PORT: String(await findFreePort()),
    TEMPORAL_PORT: String(await freeTemporalPort()),
    TEMPORAL_UI_PORT: String(await findFreePort()),
    // Setup and invite links must be on the origin the browser signs in on (cookies are per host).
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const [cmd, args] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'TERM', '--', 'npm', 'start']] : ['npm', ['start']];
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid!;
  // The stack's output outlives its data dir (removed at stop), beside the screenshots.
  const logFile = path.join(REPORTS_DIR, 'browser-stacks', `${path.basename(base)}.log`);
  const tail = () => out.split('\n').slice(-40).join('\n');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // main.ts takes the copies of one group-wide SIGINT as one Ctrl-C.
        killGroup(pid, 'SIGINT');
        await Promise.race([exited(child), sleep(30_000)]);
      }
      // Whatever is left goes too: the group, and the embedded servers in their own groups.
      killGroup(pid, 'SIGKILL');
      for (const left of await leftovers(dataDir)) {
        try {
          process.kill(left, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      await mkdir(path.dirname(logFile), { recursive: true }).catch(() => {});
      await writeFile(logFile, out).catch(() => {});
      // Each stack's embedded PostgreSQL and Temporal data (tens of MB) go with it.
      await rm(base, { recursive: true, force: true }).catch(() => {});
    })());

  const deadline = Date.now() + (opts.timeoutMs ?? 240_000);
  try {
    while (!out.includes(BANNER_END)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm start exited (${child.exitCode ?? child.signalCode}) before it was up:\n${tail()}`);
      if (Date.now() > deadline) throw new Error(`npm start not up after ${(opts.timeoutMs ?? 240_000) / 1000} s:\n${tail()}`);
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const url = `http://127.0.0.1:${port}`;
  const apiKey = API_KEY_RE.exec(out)?.[0];
  if (!apiKey) {
    await stop();
    throw new Error(`npm start printed no API key:\n${tail()}`);
  }
  const setupLink = SETUP_LINK_RE.exec(out)?.[0] ?? null;

  const api = async <T>(method: string, urlPath: string, body?: unknown, o: ApiOptions = {}): Promise<ApiResult<T>> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.cookie) headers.cookie = o.cookie;
    else headers.authorization = `Bearer ${o.key ?? apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const full = urlPath.startsWith('/api/') ? urlPath : `/api/v1${urlPath.startsWith('/') ? '' : '/'}${urlPath}`;
    const res = await fetch(`${url}${full}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };

  const stack: Stack = { url, appUrl: `${url}/app/`, apiKey, setupLink, siteId: 0, dataDir, output: () => out, api, stop };
  try {
    const sites = await tidings(stack, ['sites', 'list', '--json']);
    const list = JSON.parse(sites) as Array<{ id: number }>;
    stack.siteId = Math.min(...list.map((s) => s.id));
  } catch {
    // `sites list --json` missing: the first site of a fresh data dir is 1.
    stack.siteId = 1;
  }
  return stack;
}

/** Runs the `tidings` bin (as npm links it) against the stack's database, with a clean environment. Resolves with stdout. */
export function tidings(stack: Pick<Stack, 'dataDir'>, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'src', 'cli', 'tidings.js'), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TIDINGS_DATA_DIR: stack.dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`tidings ${args.join(' ')} exited ${code}: ${stderr.trim() || stdout.trim()}`));
    });
  });
}

/** `tidings sites create <name> --json` → the new site. */
export async function createSite(stack: Pick<Stack, 'dataDir'>, name: string): Promise<{ id: number; name: string }> {
  return JSON.parse(await tidings(stack, ['sites', 'create', name, '--json'])) as { id: number; name: string };
}

export interface NewUser {
  siteId: number;
  email: string;
  role: 'owner' | 'editor' | 'viewer';
  password: string;
  name?: string;
}

/** `tidings users create --site … --email … --name … --role …` with the password in TIDINGS_USER_PASSWORD. */
export async function createUser(stack: Pick<Stack, 'dataDir'>, user: NewUser): Promise<string> {
  const name = user.name ?? user.email.split('@')[0]!;
  return tidings(stack, ['users', 'create', '--site', String(user.siteId), '--email', user.email, '--name', name, '--role', user.role], {
    TIDINGS_USER_PASSWORD: user.password,
  });
}

/** Chromium (headless) from CHROMIUM_PATH or /usr/bin/chromium. */
export async function openBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`No Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export const DESKTOP = { width: 1280, height: 800 } as const;
export const MOBILE = { width: 390, height: 844 } as const;

export interface PageOptions {
  /** 390×844 instead of 1280×800. */
  mobile?: boolean;
  /** Page or console errors this test expects (matched against the message text). */
  allowErrors?: RegExp[];
}

/** Errors a page reported: uncaught exceptions and console errors (CSP violations included). */
export interface ErrorLog {
  errors: string[];
}

/** Console errors everyone expects: the 401s of the sign-in endpoints (signed out, wrong password). */
function expected(text: string, url: string, allow: RegExp[]): boolean {
  if (/status of 401/.test(text) && /\/api\/v1\/auth\//.test(url)) return true;
  return allow.some((re) => re.test(text));
}

/** Starts collecting a page's errors. */
export function watchErrors(page: Page, allow: RegExp[] = []): ErrorLog {
  const log: ErrorLog = { errors: [] };
  page.on('pageerror', (err) => {
    if (!allow.some((re) => re.test(err.message))) log.errors.push(`page error: ${err.message}`);
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = msg.location().url ?? '';
    if (!expected(msg.text(), url, allow)) log.errors.push(`console error: ${msg.text()}${url ? ` (${url})` : ''}`);
  });
  return log;
}

/** A fresh context (cookies, storage) with one page whose errors are collected. */
export async function newPage(browser: Browser, opts: PageOptions = {}): Promise<{ context: BrowserContext; page: Page; log: ErrorLog }> {
  const context = await browser.newContext({ viewport: opts.mobile ? MOBILE : DESKTOP });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  return { context, page, log: watchErrors(page, opts.allowErrors) };
}

/**
 * A full-page PNG at `.reports/screenshots/<name>.png`; resolves with the path. Chromium's full-page
 * capture can leave an iframe below the fold (an email preview) blank: scroll it into view and pass
 * `{ fullPage: false }` for a picture of it.
 */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
  const file = path.join(SCREENSHOTS_DIR, `${name}.png`);
  // Transitions (Mantine's drawers, notifications) settle first.
  await page.waitForTimeout(300);
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? true });
  return file;
}

/** Signs in through the login form and waits until the app has left /login. */
export async function signIn(page: Page, stack: Pick<Stack, 'appUrl'>, email: string, password: string): Promise<void> {
  await page.goto(`${stack.appUrl}login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).first().fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/app/login'));
}

/** Opens a setup (or invite) link, fills the form and waits for the signed-in app. */
export async function completeSetup(page: Page, link: string, user: { name: string; email: string; password: string }): Promise<void> {
  await page.goto(link);
  await page.getByLabel('Name').fill(user.name);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel(/^Password/).first().fill(user.password);
  await page.getByRole('button', { name: /create account/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/app/setup'));
}

/** The `tidings_session=…` cookie of a signed-in context, as a Cookie header value (for {@link Stack.api}). */
export async function sessionCookie(context: BrowserContext): Promise<string> {
  const cookies = await context.cookies();
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}

/** One `npm start` for the test file: started in beforeAll, stopped in afterAll. Call the result inside tests. */
export function useStack(opts?: Parameters<typeof startStack>[0]): () => Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(opts);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);
  return () => {
    if (!stack) throw new Error('the stack is not started (useStack() must be called at the top of the file)');
    return stack;
  };
}

export interface BrowserHandle {
  browser(): Browser;
  /** A page in a fresh context; its errors fail the test after it ends. */
  page(opts?: PageOptions): Promise<Page>;
  /** Same, with the context (for cookies, a second user). */
  open(opts?: PageOptions): Promise<{ context: BrowserContext; page: Page }>;
}

/**
 * One Chromium for the test file; every page opened through the handle is in its own context, closed
 * after the test, and the test fails if any of them reported a page or console error.
 */
export function useBrowser(): BrowserHandle {
  let browser: Browser | undefined;
  let open: Array<{ context: BrowserContext; log: ErrorLog }> = [];
  beforeAll(async () => {
    browser = await openBrowser();
  }, 60_000);
  afterEach(async () => {
    const errors = open.flatMap((o) => o.log.errors);
    await Promise.all(open.map((o) => o.context.close().catch(() => {})));
    open = [];
    expect(errors, 'errors reported by the pages').toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
  });
  const handle: BrowserHandle = {
    browser() {
      if (!browser) throw new Error('the browser is not open');
      return browser;
    },
    async open(opts) {
      const opened = await newPage(handle.browser(), opts);
      open.push(opened);
      return opened;
    },
    async page(opts) {
      return (await handle.open(opts)).page;
    },
  };
  return handle;
}
