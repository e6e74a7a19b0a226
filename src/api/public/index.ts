import type { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { resendWebhooksRouter } from './resend-webhooks.js';
import { trackingRouter } from './tracking.js';
import { unsubscribeRouter } from './unsubscribe.js';

/**
 * Unauthenticated routers that face mail clients and providers rather than API users: provider
 * webhooks, open/click tracking and unsubscribe. They are mounted before the JSON body parser, so each
 * reads its own body (a webhook signature is computed over the raw bytes) and must authenticate every
 * request itself (a signature or a signed token).
 *
 * Registration point: add one line here (and its import).
 */
export const publicRouters: ReadonlyArray<(deps: AppDeps) => Router> = [
  resendWebhooksRouter,
  trackingRouter,
  unsubscribeRouter,
];
