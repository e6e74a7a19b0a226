import { Router } from 'express';
import { getCampaign, listCampaigns, listRecipients } from '../../db/repositories/campaigns.js';
import {
  campaignStats,
  campaignView as baseCampaignView,
  cancelCampaign,
  countCampaignAudience,
  createCampaign,
  deleteCampaign,
  pauseCampaign,
  resumeCampaign,
  retryFailedRecipients,
  scheduleCampaign,
  sendCampaignNow,
  sendCampaignTest,
  updateCampaign,
} from '../../services/campaigns.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { temporalWorkflowUrl } from '../../temporal/ui.js';
import { AudienceCountBody, CampaignCreateBody, CampaignListQuery, CampaignUpdateBody, RecipientQuery, ScheduleBody, TestSendBody } from './campaigns.schema.js';

/** Campaigns: CRUD, lifecycle actions (each a validated state transition plus a workflow start or signal), stats. */
export function campaignsRouter({ db, temporal, config, eagerStart }: AppDeps): Router {
  const router = Router();
  const deps = { db, temporal };
  const campaignView = (row: Parameters<typeof baseCampaignView>[0]) => {
    const view = baseCampaignView(row);
    return { ...view, temporalUiUrl: temporalWorkflowUrl(config, view.workflowId) };
  };

  // Before the :id routes' siblings; a POST to /campaigns/audience-count never matches /campaigns/:id/… anyway.
  router.post('/campaigns/audience-count', async (req, res) => {
    const { siteId: _s, ...audience } = parseBody(req, AudienceCountBody);
    sendData(res, await countCampaignAudience(db, siteIdOf(req), audience));
  });

  router.post('/campaigns', idempotent(db), async (req, res) => {
    const { siteId: _s, ...input } = parseBody(req, CampaignCreateBody);
    const row = await createCampaign(deps, siteIdOf(req), input);
    req.log.info({ campaignId: row.id, status: row.status }, 'campaign created');
    sendData(res, campaignView(row), 201);
  });

  router.get('/campaigns', async (req, res) => {
    const { page, limit, status } = parseQuery(req, CampaignListQuery);
    const { rows, total } = await listCampaigns(db, siteIdOf(req), { status }, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows.map(campaignView), { page, limit }, total);
  });

  router.get('/campaigns/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const row = await getCampaign(db, siteIdOf(req), id);
    if (!row) throw AppError.notFound('Campaign', id);
    sendData(res, campaignView(row));
  });

  router.patch('/campaigns/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...patch } = parseBody(req, CampaignUpdateBody);
    sendData(res, campaignView(await updateCampaign(deps, siteIdOf(req), id, patch)));
  });

  router.delete('/campaigns/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    await deleteCampaign(deps, siteIdOf(req), id);
    res.status(204).end();
  });

  router.post('/campaigns/:id/schedule', idempotent(db), async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { scheduledAt } = parseBody(req, ScheduleBody);
    sendData(res, campaignView(await scheduleCampaign(deps, siteIdOf(req), id, scheduledAt)));
  });

  const actions = { send: sendCampaignNow, pause: pauseCampaign, resume: resumeCampaign, cancel: cancelCampaign } as const;
  for (const [name, action] of Object.entries(actions)) {
    router.post(`/campaigns/:id/${name}`, idempotent(db), async (req, res) => {
      const { id } = parseParams(req, IdParams);
      const row = await action(deps, siteIdOf(req), id);
      req.log.info({ campaignId: id, action: name, status: row.status }, 'campaign action');
      sendData(res, campaignView(row));
    });
  }

  router.get('/campaigns/:id/stats', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    sendData(res, await campaignStats(db, siteIdOf(req), id));
  });

  router.get('/campaigns/:id/recipients', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { page, limit, status } = parseQuery(req, RecipientQuery);
    const campaign = await getCampaign(db, siteIdOf(req), id);
    if (!campaign) throw AppError.notFound('Campaign', id);
    const { rows, total } = await listRecipients(db, id, { status }, { limit, offset: offsetOf({ page, limit }) });
    sendPage(
      res,
      rows.map(({ campaignId: _c, ...r }) => r),
      { page, limit },
      total,
    );
  });

  router.post('/campaigns/:id/test', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { to } = parseBody(req, TestSendBody);
    const sent = await sendCampaignTest({ db, temporal, eagerStart }, siteIdOf(req), id, to);
    req.log.info({ campaignId: id, sendId: sent.sendId }, 'campaign test send');
    sendData(res, sent, 202);
  });

  router.post('/campaigns/:id/retry-failed', idempotent(db), async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { campaign, retrying } = await retryFailedRecipients(deps, siteIdOf(req), id);
    req.log.info({ campaignId: id, retrying }, 'campaign retry of failed recipients');
    sendData(res, { campaign: campaignView(campaign), retrying });
  });

  return router;
}
