import type { Request } from 'express';
import { z } from 'zod';
import { AppError, zodDetails } from '../errors.js';

const INT4_MAX = 2_147_483_647;

/**
 * A positive integer id from a path or query string. Capped at PostgreSQL's int4 maximum so an id
 * like `99999999999` is a 400 here instead of a database "out of range" error.
 */
export const idParam = z.coerce
  .number<string>({ error: 'must be an integer' })
  .int({ error: 'must be an integer' })
  .min(1, { error: 'must be a positive integer' })
  .max(INT4_MAX, { error: 'is too large' })
  .meta({ example: 1 });

/** An `Idempotency-Key` value: 1–255 printable ASCII characters, no spaces. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Path parameters `{id}`. */
export const IdParams = z.object({ id: idParam });

/** `page` (from 1) and `limit` (1–100, default 50). */
export const PaginationQuery = z.object({
  page: z.coerce
    .number<string>({ error: 'page must be an integer ≥ 1' })
    .int({ error: 'page must be an integer ≥ 1' })
    .min(1, { error: 'page must be an integer ≥ 1' })
    .max(INT4_MAX, { error: 'page is too large' })
    .default(1)
    .meta({ description: 'Page number, from 1.' }),
  limit: z.coerce
    .number<string>({ error: 'limit must be an integer from 1 to 100' })
    .int({ error: 'limit must be an integer from 1 to 100' })
    .min(1, { error: 'limit must be an integer from 1 to 100' })
    .max(100, { error: 'limit must be an integer from 1 to 100' })
    .default(50)
    .meta({ description: 'Items per page, 1–100.' }),
});
export type Pagination = z.output<typeof PaginationQuery>;

/** Accepted anywhere for clients that always send it; it must equal the key's site (else 403). */
export const siteIdField = z.coerce
  .number<string | number>()
  .int()
  .min(1)
  .max(INT4_MAX)
  .optional()
  .meta({ description: 'Optional; must equal the site of the API key (403 otherwise).' });

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw AppError.validation(`Invalid ${where}`, zodDetails(result.error));
  }
  return result.data;
}

/**
 * Validates the JSON body. No body at all reads as `{}` (as an empty body does), so the schema says
 * what is missing; a body the JSON parser skipped (another Content-Type) is a clear 400. `normalize`
 * may reshape the raw body first (e.g. accept a bare array as a shorthand).
 */
export function parseBody<T extends z.ZodType>(req: Request, schema: T, normalize?: (body: unknown) => unknown): z.output<T> {
  const hasBody = req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
  if (req.body === undefined && !hasBody) return parse(schema, normalize ? normalize({}) : {}, 'request body');
  if (req.body === undefined) {
    throw new AppError(
      'validation_failed',
      'invalid',
      'Request body must be JSON; send it with Content-Type: application/json',
      [{ path: '', message: 'body is required' }],
    );
  }
  return parse(schema, normalize ? normalize(req.body) : req.body, 'request body');
}

export function parseQuery<T extends z.ZodType>(req: Request, schema: T): z.output<T> {
  return parse(schema, req.query, 'query string');
}

export function parseParams<T extends z.ZodType>(req: Request, schema: T): z.output<T> {
  return parse(schema, req.params, 'path parameters');
}
