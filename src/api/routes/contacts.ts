import { csvWriter } from '../../domain/csv-output.js';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Router } from 'express';
import {
  addContactToList,
  addTagToContact,
  createContact,
  deleteContact,
  getContact,
  iterateContacts,
  listContacts,
  removeContactFromList,
  removeTagFromContact,
  updateContact,
  upsertContacts,
  type ContactView,
} from '../../db/repositories/contacts.js';
import { startStagedJourneysOf } from '../../services/enrollment-outbox.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import {
  AddTagBody,
  AddToListBody,
  BulkUpsertBody,
  ContactCreateBody,
  ContactListParams,
  ContactListQuery,
  ContactTagParams,
  ContactUpdateBody,
  ExportQuery,
} from './contacts.schema.js';

const CSV_COLUMNS = [
  'id',
  'email',
  'firstName',
  'lastName',
  'phone',
  'company',
  'city',
  'country',
  'timezone',
  'status',
  'source',
  'tags',
  'lists',
  'customFields',
  'subscribedAt',
  'unsubscribedAt',
  'createdAt',
  'updatedAt',
] as const;

/** One CSV record; tags and lists are `;`-separated (the separator the CSV import reads). */
function csvRecord(c: ContactView): Record<(typeof CSV_COLUMNS)[number], string | number | null> {
  return {
    ...c,
    tags: c.tags.join(';'),
    lists: c.lists.join(';'),
    customFields: Object.keys(c.customFields).length ? JSON.stringify(c.customFields) : '',
    subscribedAt: c.subscribedAt?.toISOString() ?? null,
    unsubscribedAt: c.unsubscribedAt?.toISOString() ?? null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

/** `{"data":[…]}` produced one contact at a time, so memory does not grow with the export. */
async function* jsonChunks(rows: AsyncIterable<ContactView>): AsyncGenerator<string> {
  yield '{"data":[';
  let first = true;
  for await (const row of rows) {
    yield (first ? '' : ',') + JSON.stringify(row);
    first = false;
  }
  yield ']}\n';
}

/**
 * Runs the first query before any header is sent, so a database failure is still a JSON error
 * rather than a truncated download; then yields everything.
 */
async function startedIteration<T>(source: AsyncGenerator<T>): Promise<AsyncGenerator<T>> {
  const first = await source.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* source;
  })();
}

export function contactsRouter({ db, temporal }: AppDeps): Router {
  const router = Router();
  // Sequence triggers (list_add, tag_add) were staged with the change; their journeys start right
  // after it is committed, or from the enrollment-outbox relay if Temporal cannot be reached now.
  const startTriggered = (req: { log: AppDeps['logger'] }, contactIds: readonly number[]) =>
    startStagedJourneysOf({ db, temporal, logger: req.log }, contactIds);

  router.post('/contacts', idempotent(db), async (req, res) => {
    const { siteId: _s, ...input } = parseBody(req, ContactCreateBody);
    const contact = await createContact(db, siteIdOf(req), input);
    if (input.lists?.length || input.tags?.length) await startTriggered(req, [contact.id]);
    sendData(res, contact, 201);
  });

  router.get('/contacts', async (req, res) => {
    const { page, limit, siteId: _s, ...filters } = parseQuery(req, ContactListQuery);
    const { rows, total } = await listContacts(db, siteIdOf(req), filters, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.post('/contacts/bulk', idempotent(db), async (req, res) => {
    // A bare array is accepted as shorthand for `{"contacts": [...]}`.
    const { contacts } = parseBody(req, BulkUpsertBody, (body) => (Array.isArray(body) ? { contacts: body } : body));
    const result = await upsertContacts(db, siteIdOf(req), contacts);
    // Only contacts given lists or tags can have staged journeys.
    const joined = result.ids.filter((_, i) => contacts[i]!.lists?.length || contacts[i]!.tags?.length);
    if (joined.length) await startTriggered(req, [...new Set(joined)]);
    sendData(res, result);
  });

  router.get('/contacts/export', async (req, res) => {
    const { format, siteId: _s, ...filters } = parseQuery(req, ExportQuery);
    const rows = await startedIteration(iterateContacts(db, siteIdOf(req), filters));
    const stamp = new Date().toISOString().slice(0, 10);
    res.setHeader('Content-Disposition', `attachment; filename="contacts-${stamp}.${format}"`);
    if (format === 'csv') {
      res.type('text/csv; charset=utf-8');
      const records = Readable.from(
        (async function* () {
          for await (const row of rows) yield csvRecord(row);
        })(),
      );
      await pipeline(records, csvWriter({ header: true, columns: [...CSV_COLUMNS] }), res);
    } else {
      res.type('application/json; charset=utf-8');
      await pipeline(Readable.from(jsonChunks(rows)), res);
    }
  });

  router.get('/contacts/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const contact = await getContact(db, siteIdOf(req), id);
    if (!contact) throw AppError.notFound('Contact', id);
    sendData(res, contact);
  });

  router.patch('/contacts/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...patch } = parseBody(req, ContactUpdateBody);
    const contact = await updateContact(db, siteIdOf(req), id, patch);
    if (!contact) throw AppError.notFound('Contact', id);
    if (patch.lists || patch.tags) await startTriggered(req, [id]);
    sendData(res, contact);
  });

  router.delete('/contacts/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    if (!(await deleteContact(db, siteIdOf(req), id))) throw AppError.notFound('Contact', id);
    res.status(204).end();
  });

  router.post('/contacts/:id/lists', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { listId } = parseBody(req, AddToListBody);
    const contact = await addContactToList(db, siteIdOf(req), id, listId);
    await startTriggered(req, [id]);
    sendData(res, contact);
  });

  router.delete('/contacts/:id/lists/:listId', async (req, res) => {
    const { id, listId } = parseParams(req, ContactListParams);
    await removeContactFromList(db, siteIdOf(req), id, listId);
    res.status(204).end();
  });

  router.post('/contacts/:id/tags', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { tag } = parseBody(req, AddTagBody);
    const contact = await addTagToContact(db, siteIdOf(req), id, tag);
    await startTriggered(req, [id]);
    sendData(res, contact);
  });

  router.delete('/contacts/:id/tags/:tag', async (req, res) => {
    const { id, tag } = parseParams(req, ContactTagParams);
    await removeTagFromContact(db, siteIdOf(req), id, tag);
    res.status(204).end();
  });

  return router;
}
