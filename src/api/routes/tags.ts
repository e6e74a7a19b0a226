import { Router } from 'express';
import { createTag, deleteTag, listTags } from '../../db/repositories/tags.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { TagCreateBody, TagQuery } from './tags.schema.js';

export function tagsRouter({ db }: AppDeps): Router {
  const router = Router();

  router.get('/tags', async (req, res) => {
    const { page, limit } = parseQuery(req, TagQuery);
    const { rows, total } = await listTags(db, siteIdOf(req), { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.post('/tags', async (req, res) => {
    const { name } = parseBody(req, TagCreateBody);
    sendData(res, await createTag(db, siteIdOf(req), name), 201);
  });

  router.delete('/tags/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    if (!(await deleteTag(db, siteIdOf(req), id))) throw AppError.notFound('Tag', id);
    res.status(204).end();
  });

  return router;
}
