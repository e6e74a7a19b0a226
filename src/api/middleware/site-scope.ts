import type { RequestHandler } from 'express';
import { AppError } from '../../errors.js';
import '../request-context.js';

function readSiteId(source: unknown): unknown {
  return source && typeof source === 'object' && !Array.isArray(source) ? (source as Record<string, unknown>).siteId : undefined;
}

/**
 * A key or session sees only its own site. Clients may still send `siteId` (query or body); it must be the
 * key's site — 403 otherwise — so a script pointed at the wrong site fails loudly instead of
 * silently working on another one.
 */
export const siteScope: RequestHandler = (req, _res, next) => {
  const siteId = req.auth?.siteId;
  for (const [where, value] of [
    ['query', readSiteId(req.query)],
    ['body', readSiteId(req.body)],
  ] as const) {
    if (value === undefined) continue;
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n)) {
      throw AppError.validation('Invalid siteId', [{ path: 'siteId', message: `siteId in the ${where} must be an integer` }]);
    }
    if (n !== siteId) {
      throw new AppError('site_mismatch', 'forbidden', `siteId ${n} does not match the site of this API key or session`);
    }
  }
  next();
};
