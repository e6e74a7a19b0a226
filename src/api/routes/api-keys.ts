import { Router } from 'express';
import { createApiKey, listApiKeys, revokeApiKey } from '../../db/repositories/api-keys.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { ApiKeyCreateBody, ApiKeyQuery } from './api-keys.schema.js';

interface StoredKey {
  id: number;
  name: string;
  prefix: string;
  lastUsedAt: Date | null;
  createdAt: Date;
  revokedAt: Date | null;
}

/** Picks the public fields so the hash can never leak through a new column. */
function view(k: StoredKey) {
  return { id: k.id, name: k.name, prefix: k.prefix, lastUsedAt: k.lastUsedAt, createdAt: k.createdAt, revokedAt: k.revokedAt };
}

export function apiKeysRouter({ db }: AppDeps): Router {
  const router = Router();

  router.get('/api-keys', async (req, res) => {
    const { page, limit } = parseQuery(req, ApiKeyQuery);
    // A site has a handful of keys: paginating in memory keeps the repository interface small.
    const all = await listApiKeys(db, siteIdOf(req));
    const offset = offsetOf({ page, limit });
    sendPage(res, all.slice(offset, offset + limit).map(view), { page, limit }, all.length);
  });

  router.post('/api-keys', async (req, res) => {
    const { name } = parseBody(req, ApiKeyCreateBody);
    const { apiKey, key } = await createApiKey(db, { siteId: siteIdOf(req), ...(name ? { name } : {}) });
    sendData(res, { ...view(apiKey), key }, 201);
  });

  router.delete('/api-keys/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    if (!(await revokeApiKey(db, siteIdOf(req), id))) throw AppError.notFound('API key', id);
    res.status(204).end();
  });

  return router;
}
