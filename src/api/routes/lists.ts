import { Router } from 'express';
import { addListMembers, createList, deleteList, getList, listLists, removeListMembers, updateList } from '../../db/repositories/lists.js';
import { startStagedJourneysOf } from '../../services/enrollment-outbox.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { ListCreateBody, ListQuery, ListUpdateBody, MembersBody } from './lists.schema.js';

function contactIdsOf(body: { contactId?: number; contactIds?: number[] }): number[] {
  return [...(body.contactId !== undefined ? [body.contactId] : []), ...(body.contactIds ?? [])];
}

export function listsRouter({ db, temporal }: AppDeps): Router {
  const router = Router();

  router.post('/lists', async (req, res) => {
    const { siteId: _s, ...input } = parseBody(req, ListCreateBody);
    sendData(res, await createList(db, siteIdOf(req), input), 201);
  });

  router.get('/lists', async (req, res) => {
    const { page, limit } = parseQuery(req, ListQuery);
    const { rows, total } = await listLists(db, siteIdOf(req), { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.get('/lists/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const list = await getList(db, siteIdOf(req), id);
    if (!list) throw AppError.notFound('List', id);
    sendData(res, list);
  });

  router.patch('/lists/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...patch } = parseBody(req, ListUpdateBody);
    const list = await updateList(db, siteIdOf(req), id, patch);
    if (!list) throw AppError.notFound('List', id);
    sendData(res, list);
  });

  router.delete('/lists/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    if (!(await deleteList(db, siteIdOf(req), id))) throw AppError.notFound('List', id);
    res.status(204).end();
  });

  router.post('/lists/:id/contacts', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const ids = contactIdsOf(parseBody(req, MembersBody));
    const change = await addListMembers(db, siteIdOf(req), id, ids);
    if (!change) throw AppError.notFound('List', id);
    // The journeys of sequences triggered by this list were staged with the new members: start them now.
    await startStagedJourneysOf({ db, temporal, logger: req.log }, change.changedIds);
    sendData(res, { added: change.changed, alreadyMembers: change.unchanged, notFound: change.notFound });
  });

  router.delete('/lists/:id/contacts', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const ids = contactIdsOf(parseBody(req, MembersBody));
    const change = await removeListMembers(db, siteIdOf(req), id, ids);
    if (!change) throw AppError.notFound('List', id);
    sendData(res, { removed: change.changed, notMembers: change.unchanged, notFound: change.notFound });
  });

  return router;
}
