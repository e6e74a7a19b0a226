import { Router } from 'express';
import { SecretBoxError, type SecretBox } from '../../crypto/secret-box.js';
import {
  createSendingConfig,
  deleteSendingConfig,
  getSendingConfig,
  listSendingConfigs,
  loadSendingConfigWithCredentials,
  toSendingConfigView,
  updateSendingConfig,
} from '../../db/repositories/sending-configs.js';
import type { VerifyResult } from '../../mail/mailer.js';
import { createMailer } from '../../mail/providers.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { SendingConfigCreateBody, SendingConfigQuery, SendingConfigUpdateBody } from './sending-configs.schema.js';

/** A verify call must answer while the user waits, even when the provider does not. */
const VERIFY_TIMEOUT_MS = 10_000;

/** The app's secret box; without TIDINGS_SECRET credentials can be neither stored nor shown. */
export function requireSecretBox(deps: AppDeps): SecretBox {
  if (deps.secretBox) return deps.secretBox;
  throw new AppError(
    'secret_not_configured',
    'misconfigured',
    'TIDINGS_SECRET is not set on the server, so provider credentials cannot be encrypted or read; set it (at least 32 characters) and restart',
  );
}

export function sendingConfigsRouter(deps: AppDeps): Router {
  const { db } = deps;
  const router = Router();

  router.post('/sending-configs', idempotent(db), async (req, res) => {
    const { siteId: _s, ...input } = parseBody(req, SendingConfigCreateBody);
    const box = requireSecretBox(deps);
    sendData(res, toSendingConfigView(await createSendingConfig(db, box, siteIdOf(req), input), box), 201);
  });

  router.get('/sending-configs', async (req, res) => {
    const { page, limit } = parseQuery(req, SendingConfigQuery);
    const box = requireSecretBox(deps);
    const { rows, total } = await listSendingConfigs(db, siteIdOf(req), { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows.map((row) => toSendingConfigView(row, box)), { page, limit }, total);
  });

  router.get('/sending-configs/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const box = requireSecretBox(deps);
    const row = await getSendingConfig(db, siteIdOf(req), id);
    if (!row) throw AppError.notFound('Sending config', id);
    sendData(res, toSendingConfigView(row, box));
  });

  router.patch('/sending-configs/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...patch } = parseBody(req, SendingConfigUpdateBody);
    const box = requireSecretBox(deps);
    const row = await updateSendingConfig(db, box, siteIdOf(req), id, patch);
    if (!row) throw AppError.notFound('Sending config', id);
    sendData(res, toSendingConfigView(row, box));
  });

  router.delete('/sending-configs/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    if (!(await deleteSendingConfig(db, siteIdOf(req), id))) throw AppError.notFound('Sending config', id);
    res.status(204).end();
  });

  router.post('/sending-configs/:id/verify', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const box = requireSecretBox(deps);
    // Site check first: loadSendingConfigWithCredentials is site-agnostic (it serves the worker).
    if (!(await getSendingConfig(db, siteIdOf(req), id))) throw AppError.notFound('Sending config', id);
    sendData(res, await verify(deps, box, id));
  });

  return router;
}

async function verify(deps: AppDeps, box: SecretBox, id: number): Promise<VerifyResult> {
  let loaded: Awaited<ReturnType<typeof loadSendingConfigWithCredentials>>;
  try {
    loaded = await loadSendingConfigWithCredentials(deps.db, box, id);
  } catch (err) {
    if (err instanceof SecretBoxError) return { ok: false, message: `${err.message}; save the credentials again` };
    throw err;
  }
  if (!loaded) throw AppError.notFound('Sending config', id);
  // The resend SDK reads RESEND_BASE_URL itself, which is how tests point it at a local fake.
  const mailer = createMailer(loaded.config.provider, loaded.credentials, { timeoutMs: VERIFY_TIMEOUT_MS, smtpMaxConnections: 1 });
  try {
    return await mailer.verify();
  } finally {
    await mailer.close().catch((err: unknown) => deps.logger.warn({ err }, 'closing a mailer after verify failed'));
  }
}
