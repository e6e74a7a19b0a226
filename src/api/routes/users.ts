import { Router, type Request } from 'express';
import { listUsers, type User } from '../../db/repositories/users.js';
import { deleteUser, inviteUser, updateUser } from '../../services/users.js';
import type { AppDeps } from '../deps.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { InviteBody, UserQuery, UserUpdateBody } from './users.schema.js';

/** Picks the public fields, so a future column never leaks by accident. */
function view(u: User) {
  return { id: u.id, email: u.email, name: u.name, role: u.role, createdAt: u.createdAt, lastLoginAt: u.lastLoginAt, disabledAt: u.disabledAt };
}

/**
 * The dashboard's users of the caller's site. Owner only: src/api/middleware/roles.ts says so for the
 * whole `/users` prefix, and API keys act as owners.
 */
export function usersRouter({ db, config }: AppDeps): Router {
  const router = Router();
  // Links point at the dashboard where users open them: PUBLIC_URL (npm start defaults it to this
  // server), else the address this request reached.
  const publicUrlOf = (req: Request) => config.PUBLIC_URL ?? `${req.protocol}://${req.get('host')}`;

  router.get('/users', async (req, res) => {
    const { page, limit } = parseQuery(req, UserQuery);
    // A site has a handful of users: paginating in memory keeps the repository interface small.
    const all = await listUsers(db, siteIdOf(req));
    const offset = offsetOf({ page, limit });
    sendPage(res, all.slice(offset, offset + limit).map(view), { page, limit }, all.length);
  });

  router.post('/users/invites', async (req, res) => {
    const { role } = parseBody(req, InviteBody);
    sendData(res, await inviteUser(db, siteIdOf(req), role, publicUrlOf(req)), 201);
  });

  router.patch('/users/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _siteId, ...changes } = parseBody(req, UserUpdateBody);
    sendData(res, view(await updateUser(db, siteIdOf(req), id, changes)));
  });

  router.delete('/users/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    await deleteUser(db, siteIdOf(req), id);
    res.status(204).end();
  });

  return router;
}
