import { Router } from 'express';
import { getSite, updateSite } from '../../db/repositories/sites.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { sendData, siteIdOf } from '../http.js';
import { parseBody, parseQuery } from '../validation.js';
import { SiteQuery, SiteUpdateBody } from './site.schema.js';

/** The request's own site: its name and the settings that apply to all its email (the frequency cap). */
export function siteRouter({ db }: AppDeps): Router {
  const router = Router();

  router.get('/site', async (req, res) => {
    parseQuery(req, SiteQuery);
    const site = await getSite(db, siteIdOf(req));
    if (!site) throw AppError.notFound('Site', siteIdOf(req));
    sendData(res, site);
  });

  router.patch('/site', async (req, res) => {
    const { siteId: _s, ...patch } = parseBody(req, SiteUpdateBody);
    const site = await updateSite(db, siteIdOf(req), patch);
    if (!site) throw AppError.notFound('Site', siteIdOf(req));
    sendData(res, site);
  });

  return router;
}
