import { Router } from 'express';
import { statsTimeSeries } from '../../db/repositories/stats.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { sendData, siteIdOf } from '../http.js';
import { parseQuery } from '../validation.js';
import { STATS_DEFAULT_DAYS, STATS_MAX_DAYS, TimeSeriesQuery } from './stats.schema.js';

const DAY_MS = 86_400_000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** `GET /stats/timeseries`: what the dashboard's overview chart draws. */
export function statsRouter({ db }: AppDeps): Router {
  const router = Router();

  router.get('/stats/timeseries', async (req, res) => {
    const query = parseQuery(req, TimeSeriesQuery);
    const to = query.to ? new Date(`${query.to}T00:00:00Z`) : new Date(`${isoDay(new Date())}T00:00:00Z`);
    const from = query.from ? new Date(`${query.from}T00:00:00Z`) : new Date(to.getTime() - (STATS_DEFAULT_DAYS - 1) * DAY_MS);
    if (from > to) throw AppError.validation('Invalid query string', [{ path: 'from', message: 'from must not be after to' }]);
    const days = Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1;
    if (days > STATS_MAX_DAYS) {
      throw AppError.validation('Invalid query string', [{ path: 'from', message: `the range covers ${days} days; at most ${STATS_MAX_DAYS}` }]);
    }
    const series = await statsTimeSeries(db, siteIdOf(req), { from, to, interval: query.interval });
    sendData(res, { from: isoDay(from), to: isoDay(to), interval: query.interval, series });
  });

  return router;
}
