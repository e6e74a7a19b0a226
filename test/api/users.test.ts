import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSetupToken } from '../../src/db/repositories/setup-tokens.js';
import { setupTokens, userSessions, users } from '../../src/db/schema.js';
import { createTestUser, httpClient, signIn, startTestApi, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ PUBLIC_URL: 'https://mail.example.com' });
});
afterAll(async () => {
  await api?.close();
});

const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;
const setup = (body: Record<string, unknown>) => httpClient(api.url)('POST', '/api/v1/auth/setup', { body });

describe('sign-up links', () => {
  it('invites with a one-time link under PUBLIC_URL that makes one account, signed in, with the link’s role', async () => {
    const invite = await api.call('POST', '/api/v1/users/invites', { body: { role: 'editor' } });
    expect(invite.status).toBe(201);
    const { url, expiresAt } = invite.body.data;
    expect(url).toMatch(/^https:\/\/mail\.example\.com\/app\/setup\?token=[A-Za-z0-9_-]{43}$/);
    expect(new Date(expiresAt).getTime() - Date.now()).toBeGreaterThan(7 * 24 * 3600 * 1000 - 60_000);
    const token = tokenOf(url);
    // Stored as a hash only.
    expect(JSON.stringify(await api.db.select().from(setupTokens))).not.toContain(token);

    const check = await api.call('GET', `/api/v1/auth/setup/${token}`, { key: null });
    expect(check.status).toBe(200);
    expect(check.body).toEqual({ siteName: 'Site A', role: 'editor' });

    const created = await setup({ token, email: 'Grace@Example.com', name: 'Grace Hopper', password: 'a long enough password' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ user: { email: 'grace@example.com', name: 'Grace Hopper', role: 'editor', siteId: api.siteA.id }, site: { id: api.siteA.id } });
    const cookie = /^(tidings_session=[^;]+)/.exec(created.headers.get('set-cookie') ?? '')![1]!;
    expect((await api.call('GET', '/api/v1/auth/session', { key: null, headers: { cookie } })).body.user.email).toBe('grace@example.com');
    const [row] = await api.db.select().from(users).where(eq(users.email, 'grace@example.com'));
    expect(row!.passwordHash).toMatch(/^\$argon2id\$/);

    // Used up: both reading and using it again are 404.
    const again = await setup({ token, email: 'someone@example.com', name: 'Someone', password: 'a long enough password' });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('setup_link_invalid');
    expect((await api.call('GET', `/api/v1/auth/setup/${token}`, { key: null })).status).toBe(404);
    // And the account signs in with its password.
    expect((await signIn(api.url, { email: 'GRACE@example.com', password: 'a long enough password' })).csrfToken).toBeTruthy();
  });

  it('uses a link once even when two requests race for it', async () => {
    const { token } = await createSetupToken(api.db, { siteId: api.siteA.id, role: 'viewer' });
    const [a, b] = await Promise.all([
      setup({ token, email: 'race-a@example.com', name: 'A', password: 'a long enough password' }),
      setup({ token, email: 'race-b@example.com', name: 'B', password: 'a long enough password' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 404]);
  });

  it('refuses short passwords and taken emails, and leaves the link usable', async () => {
    const { token } = await createSetupToken(api.db, { siteId: api.siteA.id, role: 'viewer' });
    const short = await setup({ token, email: 'short@example.com', name: 'Short', password: '123456789' });
    expect(short.status).toBe(400);
    expect(short.body.error.details).toEqual([{ path: 'password', message: 'password must be at least 10 characters' }]);
    expect((await setup({ token, email: 'long@example.com', name: 'Long', password: 'x'.repeat(257) })).status).toBe(400);

    const existing = await createTestUser(api.db, api.siteB.id, 'viewer');
    const taken = await setup({ token, email: existing.email.toUpperCase(), name: 'Taken', password: 'a long enough password' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('email_taken');
    expect((await api.call('GET', `/api/v1/auth/setup/${token}`, { key: null })).status).toBe(200);
  });

  it('answers 404 for an unknown or expired link', async () => {
    expect((await api.call('GET', '/api/v1/auth/setup/nope', { key: null })).body.error.code).toBe('setup_link_invalid');
    const { token } = await createSetupToken(api.db, { siteId: api.siteA.id, role: 'owner' });
    await api.db.update(setupTokens).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(setupTokens.siteId, api.siteA.id));
    expect((await api.call('GET', `/api/v1/auth/setup/${token}`, { key: null })).status).toBe(404);
    expect((await setup({ token, email: 'late@example.com', name: 'Late', password: 'a long enough password' })).status).toBe(404);
  });

  it('voids the earlier unused links of the role when asked (the first-owner link of npm start)', async () => {
    const first = await createSetupToken(api.db, { siteId: api.siteB.id, role: 'owner', replaceUnused: true });
    const editorLink = await createSetupToken(api.db, { siteId: api.siteB.id, role: 'editor' });
    const second = await createSetupToken(api.db, { siteId: api.siteB.id, role: 'owner', replaceUnused: true });
    expect((await api.call('GET', `/api/v1/auth/setup/${first.token}`, { key: null })).status).toBe(404);
    expect((await api.call('GET', `/api/v1/auth/setup/${second.token}`, { key: null })).status).toBe(200);
    expect((await api.call('GET', `/api/v1/auth/setup/${editorLink.token}`, { key: null })).status).toBe(200);
  });
});

describe('users API', () => {
  it('lists the site’s users without password hashes', async () => {
    await createTestUser(api.db, api.siteA.id, 'viewer');
    const res = await api.call('GET', '/api/v1/users');
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeGreaterThan(0);
    for (const user of res.body.data) {
      expect(Object.keys(user).sort()).toEqual(['createdAt', 'disabledAt', 'email', 'id', 'lastLoginAt', 'name', 'role']);
    }
    expect(res.text).not.toContain('argon2');
    expect(res.body.pagination).toMatchObject({ page: 1, total: res.body.data.length });
  });

  it('keeps one active owner: the last one cannot be demoted, disabled or deleted', async () => {
    // Site B's own users only: a fresh site.
    const site = await api.db.execute<{ id: number }>(sql`insert into sites (name) values ('Owners') returning id`);
    const siteId = site.rows[0]!.id;
    const first = await createTestUser(api.db, siteId, 'owner');
    const editor = await createTestUser(api.db, siteId, 'editor');
    const session = await signIn(api.url, first);
    const as = (method: string, path: string, body?: unknown) => api.call(method, `/api/v1${path}`, { key: null, headers: session.headers, body });

    for (const change of [{ role: 'editor' }, { disabled: true }]) {
      const res = await as('PATCH', `/users/${first.id}`, change);
      expect(res.status, JSON.stringify(change)).toBe(409);
      expect(res.body.error.code).toBe('last_owner');
    }
    expect((await as('DELETE', `/users/${first.id}`)).status).toBe(409);
    // Renaming is fine.
    expect((await as('PATCH', `/users/${first.id}`, { name: 'First Owner' })).body.data).toMatchObject({ name: 'First Owner', role: 'owner' });

    // With a second owner, the first may step down.
    expect((await as('PATCH', `/users/${editor.id}`, { role: 'owner' })).body.data.role).toBe('owner');
    const demoted = await as('PATCH', `/users/${first.id}`, { role: 'viewer' });
    expect(demoted.status).toBe(200);
    expect(demoted.body.data.role).toBe('viewer');
    // The session now carries the new role: a viewer may not manage users any more.
    expect((await as('GET', '/users')).status).toBe(403);

    // The remaining owner is the last one again.
    const second = await signIn(api.url, editor);
    const ownerCall = (method: string, path: string, body?: unknown) => api.call(method, `/api/v1${path}`, { key: null, headers: second.headers, body });
    expect((await ownerCall('DELETE', `/users/${editor.id}`)).status).toBe(409);
    // A disabled owner does not count as one.
    expect((await ownerCall('PATCH', `/users/${first.id}`, { role: 'owner', disabled: true })).status).toBe(200);
    expect((await ownerCall('PATCH', `/users/${editor.id}`, { role: 'editor' })).status).toBe(409);
  });

  it('disabling signs the user out everywhere and refuses sign-in; deleting removes the user and its sessions', async () => {
    const user = await createTestUser(api.db, api.siteA.id, 'editor');
    const session = await signIn(api.url, user);
    const disabled = await api.call('PATCH', `/api/v1/users/${user.id}`, { body: { disabled: true } });
    expect(disabled.status).toBe(200);
    expect(disabled.body.data.disabledAt).not.toBeNull();
    expect((await api.call('GET', '/api/v1/contacts', { key: null, headers: { cookie: session.cookie } })).status).toBe(401);
    const login = await httpClient(api.url)('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(login.status).toBe(401);
    expect(login.body.error.code).toBe('invalid_credentials');

    expect((await api.call('PATCH', `/api/v1/users/${user.id}`, { body: { disabled: false } })).body.data.disabledAt).toBeNull();
    await signIn(api.url, user);
    expect(await api.db.select().from(userSessions).where(eq(userSessions.userId, user.id))).toHaveLength(1);
    expect((await api.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(204);
    expect(await api.db.select().from(userSessions).where(eq(userSessions.userId, user.id))).toEqual([]);
    expect((await api.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(404);
  });

  it('hides another site’s users behind 404 and validates input', async () => {
    const theirs = await createTestUser(api.db, api.siteB.id, 'editor');
    expect((await api.call('PATCH', `/api/v1/users/${theirs.id}`, { body: { name: 'Mine now' } })).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/users/${theirs.id}`)).status).toBe(404);
    expect((await api.call('PATCH', `/api/v1/users/${theirs.id}`, { body: { role: 'admin' } })).status).toBe(400);
    expect((await api.call('POST', '/api/v1/users/invites', { body: { role: 'root' } })).status).toBe(400);
    expect((await api.call('POST', '/api/v1/users/invites', { body: {} })).status).toBe(400);
  });
});
