import type { Request, Response } from 'express';
import { AppError } from '../errors.js';
import type { Pagination } from './validation.js';
import './request-context.js';

/** The authenticated site; only valid behind the auth middleware. */
export function siteIdOf(req: Request): number {
  if (!req.auth) throw new AppError('unauthorized', 'unauthenticated', 'Authentication required');
  return req.auth.siteId;
}

/** `{data}` envelope. */
export function sendData(res: Response, data: unknown, status = 200): void {
  res.status(status).json({ data });
}

/** `{data: [...], pagination}` envelope. */
export function sendPage(res: Response, rows: unknown[], page: Pagination, total: number): void {
  res.status(200).json({
    data: rows,
    pagination: { page: page.page, limit: page.limit, total, totalPages: Math.ceil(total / page.limit) },
  });
}

/** Offset for a page (page 1 → 0). */
export function offsetOf(page: Pagination): number {
  return (page.page - 1) * page.limit;
}
