import { z } from 'zod';
import { conflict, dataOf, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, PaginationQuery, siteIdField } from '../validation.js';
import { RoleSchema } from './auth.schema.js';

const timestamp = z.iso.datetime();

/** What is ever shown about a user: never the password hash. */
export const UserSchema = z
  .object({
    id: z.int(),
    email: z.string(),
    name: z.string(),
    role: RoleSchema,
    createdAt: timestamp,
    lastLoginAt: timestamp.nullable(),
    disabledAt: timestamp.nullable().meta({ description: 'Set while the user may not sign in.' }),
  })
  .meta({ id: 'User' });

export const UserQuery = PaginationQuery.extend({ siteId: siteIdField });

export const InviteBody = z.object({ siteId: siteIdField, role: RoleSchema }).meta({ id: 'InviteCreate' });

export const Invite = z
  .object({
    url: z.url().meta({ description: 'The one-time sign-up link: `<PUBLIC_URL>/app/setup?token=…`. Shown only in this answer.' }),
    expiresAt: timestamp,
  })
  .meta({ id: 'Invite' });

export const UserUpdateBody = z
  .object({
    siteId: siteIdField,
    role: RoleSchema.optional(),
    name: z.string().trim().min(1, { error: 'name must not be empty' }).max(100).optional(),
    disabled: z.boolean().optional().meta({ description: '`true` signs the user out everywhere and refuses sign-in; `false` allows it again.' }),
  })
  .meta({ id: 'UserUpdate' });

const tags = ['Accounts and sign-in'];
const lastOwner = conflict('`last_owner`: the site would have no active owner left.');

registerApiPath({
  method: 'get',
  path: '/api/v1/users',
  tags,
  summary: 'List the dashboard users of this site (owner only)',
  request: { query: UserQuery },
  responses: { 200: ok(pageOf(UserSchema), 'A page of users, oldest first.') },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/users/invites',
  tags,
  summary: 'Make a one-time sign-up link (owner only)',
  description: 'Whoever opens the link within 7 days creates an account in this site with this role (`POST /auth/setup`).',
  request: { body: { content: { 'application/json': { schema: InviteBody } } } },
  responses: { 201: ok(dataOf(Invite), 'The link, shown once.') },
});
registerApiPath({
  method: 'patch',
  path: '/api/v1/users/{id}',
  tags,
  summary: 'Change a user’s role, name or disabled state (owner only)',
  request: { params: IdParams, body: { content: { 'application/json': { schema: UserUpdateBody } } } },
  responses: { 200: ok(dataOf(UserSchema), 'The user as changed.'), ...lastOwner },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/users/{id}',
  tags,
  summary: 'Delete a user and end its sessions (owner only)',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted.' }, ...notFound, ...lastOwner },
});
