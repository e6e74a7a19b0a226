import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { claimLoginAttempt, forgetLoginAttempt } from '../db/repositories/login-failures.js';
import { claimSetupToken } from '../db/repositories/setup-tokens.js';
import { createSession, deleteSession, findSession, type ActiveSession, type SessionLifetime } from '../db/repositories/user-sessions.js';
import { createUser, findUserForLogin, normalizeEmail, recordLogin, type User } from '../db/repositories/users.js';
import { getSite } from '../db/repositories/sites.js';
import { hashPassword, verifyNoPassword, verifyPassword } from '../crypto/passwords.js';
import { AppError } from '../errors.js';

/** Who is signed in, as `POST /auth/login` and `GET /auth/session` answer it. */
export interface SessionView {
  user: { id: number; email: string; name: string; role: User['role']; siteId: number };
  site: { id: number; name: string };
  csrfToken: string;
}

/** A new session: the view, and the cookie token (only the caller ever sees it). */
export interface SignedIn {
  view: SessionView;
  token: string;
  expiresAt: Date;
}

export interface AuthDeps {
  db: Db;
  lifetime: SessionLifetime;
}

/** Session lifetimes from the configuration (TIDINGS_SESSION_IDLE_HOURS / TIDINGS_SESSION_MAX_DAYS). */
export function sessionLifetime(config: Pick<Config, 'TIDINGS_SESSION_IDLE_HOURS' | 'TIDINGS_SESSION_MAX_DAYS'>): SessionLifetime {
  return { idleHours: config.TIDINGS_SESSION_IDLE_HOURS, maxDays: config.TIDINGS_SESSION_MAX_DAYS };
}

/** Where a request comes from, kept on the session and used by the login rate limit. */
export interface ClientInfo {
  ip: string;
  userAgent?: string | null;
}

export function sessionView(user: User, site: { id: number; name: string }, csrfToken: string): SessionView {
  return {
    user: { id: user.id, email: user.email, name: user.name, role: user.role, siteId: user.siteId },
    site: { id: site.id, name: site.name },
    csrfToken,
  };
}

/** The same answer for an unknown email, a wrong password and a disabled account: nothing to enumerate. */
const invalidCredentials = () => new AppError('invalid_credentials', 'unauthenticated', 'Wrong email or password');

async function startSession(deps: AuthDeps, user: User, site: { id: number; name: string }, client: ClientInfo): Promise<SignedIn> {
  const session = await createSession(deps.db, { userId: user.id, lifetime: deps.lifetime, userAgent: client.userAgent, ip: client.ip });
  await recordLogin(deps.db, user.id);
  return { view: sessionView(user, site, session.csrfToken), token: session.token, expiresAt: session.expiresAt };
}

/**
 * Email and password to a new session. Rate-limited per email and per client address (see
 * claimLoginAttempt): over the limit, `{retryAfterSeconds}` and no password is checked.
 */
export async function login(
  deps: AuthDeps,
  input: { email: string; password: string },
  client: ClientInfo,
): Promise<SignedIn | { retryAfterSeconds: number }> {
  const email = normalizeEmail(input.email);
  const attempt = await claimLoginAttempt(deps.db, email, client.ip);
  if (!attempt.allowed) return { retryAfterSeconds: attempt.retryAfterSeconds };

  const found = await findUserForLogin(deps.db, email);
  // An unknown email costs a hash verification too, so timing does not tell which emails exist.
  const ok = found ? await verifyPassword(found.passwordHash, input.password) : await verifyNoPassword(input.password);
  if (!found || !ok || found.user.disabledAt) throw invalidCredentials();

  await forgetLoginAttempt(deps.db, attempt.id);
  return startSession(deps, found.user, { id: found.user.siteId, name: found.siteName }, client);
}

/** The live session a cookie token names (refreshing its idle timer), or null. */
export function currentSession(deps: AuthDeps, token: string | undefined): Promise<ActiveSession | null> {
  return token ? findSession(deps.db, token, deps.lifetime) : Promise.resolve(null);
}

export async function logout(deps: AuthDeps, token: string | undefined): Promise<void> {
  if (token) await deleteSession(deps.db, token);
}

/**
 * Uses a one-time sign-up link: creates the user in the link's site with the link's role and signs it
 * in. Marking the link used and creating the user are one transaction, so a link makes one account: a
 * second use (even a concurrent one) is 404, and a refused email (already taken) leaves the link usable.
 */
export async function completeSetup(
  deps: AuthDeps,
  input: { token: string; email: string; name: string; password: string },
  client: ClientInfo,
): Promise<SignedIn> {
  // Hashed before the transaction: it takes tens of milliseconds that no row lock should wait for.
  const passwordHash = await hashPassword(input.password);
  const user = await deps.db.transaction(async (tx) => {
    const grant = await claimSetupToken(tx, input.token);
    if (!grant) throw setupLinkInvalid();
    return createUser(tx, { siteId: grant.siteId, email: input.email, name: input.name, role: grant.role, passwordHash });
  });
  const site = await getSite(deps.db, user.siteId);
  return startSession(deps, user, { id: user.siteId, name: site?.name ?? '' }, client);
}

export const setupLinkInvalid = () =>
  new AppError('setup_link_invalid', 'not_found', 'This sign-up link is not valid: it was already used, has expired or was copied incompletely');
