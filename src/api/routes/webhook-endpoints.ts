import { Router } from 'express';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  rotateWebhookEndpointSecret,
  toDeliveryView,
  toWebhookEndpointView,
  updateWebhookEndpoint,
} from '../../db/repositories/webhook-endpoints.js';
import { assertPublicWebhookUrl, sendTestWebhook } from '../../services/outgoing-webhooks.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { requireSecretBox } from './sending-configs.js';
import {
  WebhookDeliveryQuery,
  WebhookEndpointCreateBody,
  WebhookEndpointQuery,
  WebhookEndpointUpdateBody,
} from './webhook-endpoints.schema.js';

/**
 * Outgoing webhook endpoints: CRUD, secret rotation, the delivery log and a test send. Create and
 * rotate-secret answer with the secret in clear, once, and so take no Idempotency-Key (a stored answer
 * would keep the secret in clear); the test send does.
 */
export function webhookEndpointsRouter(deps: AppDeps): Router {
  const { db, temporal } = deps;
  const router = Router();
  // Outside production the API and its test receivers run on the same machine: local URLs are allowed.
  const checkUrl = deps.config.NODE_ENV === 'production' ? assertPublicWebhookUrl : async () => {};

  router.post('/webhook-endpoints', async (req, res) => {
    const { siteId: _s, ...input } = parseBody(req, WebhookEndpointCreateBody);
    const box = requireSecretBox(deps);
    await checkUrl(input.url);
    const { endpoint, secret } = await createWebhookEndpoint(db, box, siteIdOf(req), input);
    req.log.info({ endpointId: endpoint.id }, 'webhook endpoint created');
    sendData(res, toWebhookEndpointView(endpoint, box, secret), 201);
  });

  router.get('/webhook-endpoints', async (req, res) => {
    const { page, limit } = parseQuery(req, WebhookEndpointQuery);
    const box = requireSecretBox(deps);
    const { rows, total } = await listWebhookEndpoints(db, siteIdOf(req), { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows.map((row) => toWebhookEndpointView(row, box)), { page, limit }, total);
  });

  router.get('/webhook-endpoints/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const box = requireSecretBox(deps);
    const row = await getWebhookEndpoint(db, siteIdOf(req), id);
    if (!row) throw AppError.notFound('Webhook endpoint', id);
    sendData(res, toWebhookEndpointView(row, box));
  });

  router.patch('/webhook-endpoints/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...patch } = parseBody(req, WebhookEndpointUpdateBody);
    const box = requireSecretBox(deps);
    if (patch.url !== undefined) await checkUrl(patch.url);
    const row = await updateWebhookEndpoint(db, siteIdOf(req), id, patch);
    if (!row) throw AppError.notFound('Webhook endpoint', id);
    sendData(res, toWebhookEndpointView(row, box));
  });

  router.delete('/webhook-endpoints/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    if (!(await deleteWebhookEndpoint(db, siteIdOf(req), id))) throw AppError.notFound('Webhook endpoint', id);
    res.status(204).end();
  });

  router.post('/webhook-endpoints/:id/rotate-secret', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const box = requireSecretBox(deps);
    const rotated = await rotateWebhookEndpointSecret(db, box, siteIdOf(req), id);
    if (!rotated) throw AppError.notFound('Webhook endpoint', id);
    req.log.info({ endpointId: id }, 'webhook endpoint secret rotated');
    sendData(res, toWebhookEndpointView(rotated.endpoint, box, rotated.secret));
  });

  router.get('/webhook-endpoints/:id/deliveries', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { page, limit, status } = parseQuery(req, WebhookDeliveryQuery);
    if (!(await getWebhookEndpoint(db, siteIdOf(req), id))) throw AppError.notFound('Webhook endpoint', id);
    const { rows, total } = await listWebhookDeliveries(db, id, { status }, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.post('/webhook-endpoints/:id/test', idempotent(db), async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const delivery = await sendTestWebhook({ db, temporal }, siteIdOf(req), id, { idempotencyKey: req.get('idempotency-key') });
    sendData(res, toDeliveryView(delivery), 202);
  });

  return router;
}
