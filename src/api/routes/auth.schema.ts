import { z } from 'zod';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../crypto/passwords.js';
import { ErrorResponse, openApiRegistry } from '../openapi.js';

const tags = ['Accounts and sign-in'];

export const RoleSchema = z.enum(['owner', 'editor', 'viewer']).meta({
  id: 'Role',
  description: '`viewer` reads; `editor` also writes, except API keys, users, sending configs and webhook endpoints; `owner` does everything.',
});

const email = z
  .string({ error: 'email must be a string' })
  .trim()
  .toLowerCase()
  .max(254)
  .check(z.email({ error: 'must be a valid email address' }))
  .meta({ example: 'ada@example.com', description: 'Case-insensitive (stored lowercased); one account per email.' });

export const LoginBody = z
  .object({
    // Not checked for the email format: a malformed one is just another wrong email (401).
    email: z.string().trim().min(1, { error: 'email is required' }).max(254).meta({ example: 'ada@example.com' }),
    password: z.string().min(1, { error: 'password is required' }).max(PASSWORD_MAX_LENGTH),
  })
  .meta({ id: 'Login' });

const password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, { error: `password must be at least ${PASSWORD_MIN_LENGTH} characters` })
  .max(PASSWORD_MAX_LENGTH, { error: `password must be at most ${PASSWORD_MAX_LENGTH} characters` });

export const SetupBody = z
  .object({
    token: z.string().min(1).max(100).meta({ description: 'The `token` of the sign-up link.' }),
    email,
    name: z.string().trim().min(1, { error: 'name must not be empty' }).max(100).meta({ example: 'Ada Lovelace' }),
    password,
  })
  .meta({ id: 'Setup' });

export const SetupTokenParams = z.object({ token: z.string().min(1).max(100) });

/** Who is signed in: the answer of login, setup and `GET /auth/session`. */
export const Session = z
  .object({
    user: z.object({ id: z.int(), email: z.string(), name: z.string(), role: RoleSchema, siteId: z.int() }),
    site: z.object({ id: z.int(), name: z.string() }),
    csrfToken: z.string().meta({ description: 'Send it as `X-CSRF-Token` on every request but GET/HEAD/OPTIONS made with the session cookie.' }),
  })
  .meta({ id: 'Session' });

export const SetupLink = z.object({ siteName: z.string(), role: RoleSchema }).meta({ id: 'SetupLink' });

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ErrorResponse, description);
const setCookie = {
  'Set-Cookie': {
    description: '`tidings_session=<token>; Max-Age=<session lifetime>; Path=/; HttpOnly; SameSite=Lax` (and `Secure` in production).',
    schema: { type: 'string' as const },
  },
};
const signedIn = (description: string) => ({ ...json(Session, description), headers: setCookie });
const serverErrors = { 500: error('Unexpected error; the body carries a request id.'), 503: error('The database is unavailable.') };
const bodyErrors = {
  400: error('Invalid input.'),
  403: error('`origin_not_allowed`: the `Origin` header names another site.'),
  413: error('The request body is too large.'),
  415: error('The body’s encoding or charset is not supported.'),
};

openApiRegistry.registerPath({
  method: 'post',
  path: '/api/v1/auth/login',
  tags,
  summary: 'Sign in to the dashboard',
  description:
    'Starts a session: the answer sets the `tidings_session` cookie (HttpOnly, SameSite=Lax) and carries the CSRF token. A session ends ' +
    'after `TIDINGS_SESSION_IDLE_HOURS` (12) without a request and `TIDINGS_SESSION_MAX_DAYS` (7) after sign-in. At most 10 failed ' +
    'attempts per email and 50 per client address in 15 minutes; more are refused with 429 before any password is checked.',
  request: { body: { required: true, content: { 'application/json': { schema: LoginBody } } } },
  responses: {
    200: signedIn('Signed in.'),
    ...bodyErrors,
    401: error('`invalid_credentials`: wrong email or password (the same answer for an unknown email and a disabled account).'),
    429: {
      ...error('`too_many_attempts`: too many failed sign-ins; retry after `Retry-After` seconds.'),
      headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' as const } } },
    },
    ...serverErrors,
  },
});

openApiRegistry.registerPath({
  method: 'post',
  path: '/api/v1/auth/logout',
  tags,
  summary: 'Sign out',
  description: 'Ends the session of the cookie, if any, and clears the cookie. Always 204.',
  responses: { 204: { description: 'Signed out.', headers: setCookie }, ...serverErrors },
});

openApiRegistry.registerPath({
  method: 'get',
  path: '/api/v1/auth/session',
  tags,
  summary: 'The signed-in user',
  description: 'Who the session cookie signs in, and its CSRF token. Counts as activity (the idle timer restarts).',
  responses: { 200: json(Session, 'Signed in.'), 401: error('`unauthenticated`: no session, or it expired.'), ...serverErrors },
});

openApiRegistry.registerPath({
  method: 'get',
  path: '/api/v1/auth/setup/{token}',
  tags,
  summary: 'Check a sign-up link',
  description: 'What a one-time sign-up link grants, without using it.',
  request: { params: SetupTokenParams },
  responses: {
    200: json(SetupLink, 'The link is valid and unused.'),
    400: error('The token is too long to be one.'),
    404: error('`setup_link_invalid`: unknown, expired or already used.'),
    ...serverErrors,
  },
});

openApiRegistry.registerPath({
  method: 'post',
  path: '/api/v1/auth/setup',
  tags,
  summary: 'Create an account with a sign-up link',
  description:
    'Creates the user in the link’s site with the link’s role, uses the link up and signs the user in (the answer of login). ' +
    `Passwords are ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters.`,
  request: { body: { required: true, content: { 'application/json': { schema: SetupBody } } } },
  responses: {
    200: signedIn('Account created and signed in.'),
    ...bodyErrors,
    404: error('`setup_link_invalid`: unknown, expired or already used.'),
    409: error('`email_taken`: an account with this email exists (the link stays usable).'),
    ...serverErrors,
  },
});
