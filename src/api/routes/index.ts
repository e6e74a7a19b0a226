import type { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { apiKeysRouter } from './api-keys.js';
import { contactEventsRouter } from './contact-events.js';
import { campaignsRouter } from './campaigns.js';
import { contactsRouter } from './contacts.js';
import { enrollmentsRouter } from './enrollments.js';
import { eventsRouter } from './events.js';
import { importsRouter } from './imports.js';
import { listsRouter } from './lists.js';
import { providersRouter } from './providers.js';
import { segmentsRouter } from './segments.js';
import { transactionalRouter } from './transactional.js';
import { sendingConfigsRouter } from './sending-configs.js';
import { sendsRouter } from './sends.js';
import { sequencesRouter } from './sequences.js';
import { siteRouter } from './site.js';
import { statsRouter } from './stats.js';
import { suppressionsRouter } from './suppressions.js';
import { tagsRouter } from './tags.js';
import { templatesRouter } from './templates.js';
import { usersRouter } from './users.js';
import { webhookEndpointsRouter } from './webhook-endpoints.js';

/**
 * Every /api/v1 feature router, mounted in this order behind authentication, rate limiting, the site
 * check and the role table (src/api/middleware/roles.ts: add a rule there for an owner-only feature).
 * Each entry builds a router with paths relative to /api/v1 (`/contacts/:id`) and its
 * `<feature>.schema.ts` registers the same paths in the OpenAPI registry.
 *
 * Registration point: add a feature with one line here (and its import). Put routers with more
 * specific paths first, e.g. an imports router serving `/contacts/import` before `contactsRouter`.
 */
export const featureRouters: ReadonlyArray<(deps: AppDeps) => Router> = [
  importsRouter, // before contactsRouter: POST /contacts/import must not reach /contacts/:id
  contactsRouter,
  listsRouter,
  tagsRouter,
  apiKeysRouter,
  sendingConfigsRouter,
  providersRouter,
  templatesRouter,
  sendsRouter,
  suppressionsRouter,
  transactionalRouter,
  segmentsRouter,
  campaignsRouter,
  sequencesRouter,
  enrollmentsRouter,
  contactEventsRouter,
  eventsRouter,
  webhookEndpointsRouter,
  siteRouter,
  usersRouter,
  statsRouter,
];
