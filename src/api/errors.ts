import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isGrpcServiceError, ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ZodError } from 'zod';
import { AppError, zodDetails, type ErrorDetail, type ErrorKind } from '../errors.js';
import './request-context.js';

/** The HTTP status of each kind of expected failure. */
const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  misconfigured: 500,
  unavailable: 503,
};

/** The HTTP status an AppError answers with. */
export function httpStatusOf(err: AppError): number {
  return STATUS_BY_KIND[err.kind];
}

interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[]; requestId?: string };
}

/** Walks `cause` chains (drizzle wraps pg errors; Temporal wraps gRPC errors). */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  let current: unknown = err;
  while (current && out.length < 8) {
    out.push(current);
    if (current instanceof AggregateError) out.push(...current.errors);
    current = (current as { cause?: unknown }).cause;
  }
  return out;
}

function pgCode(err: unknown): string | undefined {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    // PostgreSQL SQLSTATEs are five characters; Node's own codes (ECONNREFUSED) are longer.
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE']);
// gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4): the Temporal frontend is down or unreachable.
const GRPC_UNAVAILABLE = new Set([14, 4]);

/** True when the failure is a dependency (PostgreSQL, Temporal) being down rather than a bug. */
export function isDependencyDown(err: unknown): boolean {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (isGrpcServiceError(e) && GRPC_UNAVAILABLE.has(e.code)) return true;
    if (e instanceof Error) {
      const m = e.message;
      // node-postgres reports a dead or exhausted pool with these messages and no code.
      if (/Connection terminated|timeout exceeded when trying to connect|Failed to connect before the deadline/i.test(m)) {
        return true;
      }
    }
  }
  const sqlstate = pgCode(err);
  // 08: connection exception, 57P01-57P03: server shutting down / not accepting connections, 53300: too many connections.
  return !!sqlstate && (sqlstate.startsWith('08') || /^57P0[123]$/.test(sqlstate) || sqlstate === '53300');
}

interface Mapped {
  status: number;
  code: string;
  message: string;
  details?: ErrorDetail[];
}

/** Body-parser errors carry `type` and an HTTP `status`; they are the client's fault. */
function bodyParserError(err: unknown): Mapped | undefined {
  const e = err as { type?: unknown; status?: unknown; message?: string };
  if (typeof e.type !== 'string' || typeof e.status !== 'number') return undefined;
  switch (e.type) {
    case 'entity.parse.failed':
      return { status: 400, code: 'invalid_json', message: `Malformed JSON in request body: ${e.message ?? ''}`.trim() };
    case 'entity.too.large':
      return { status: 413, code: 'payload_too_large', message: 'Request body is too large' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, code: 'unsupported_media_type', message: e.message ?? 'Unsupported encoding' };
    default:
      return e.status >= 400 && e.status < 500
        ? { status: e.status, code: 'bad_request', message: e.message ?? 'Bad request' }
        : undefined;
  }
}

function mapError(err: unknown): Mapped | undefined {
  if (err instanceof AppError) {
    return { status: httpStatusOf(err), code: err.code, message: err.message, details: err.details };
  }
  if (err instanceof ZodError) {
    return { status: 400, code: 'validation_failed', message: 'Request validation failed', details: zodDetails(err) };
  }
  const parser = bodyParserError(err);
  if (parser) return parser;
  if (causes(err).some((e) => e instanceof WorkflowExecutionAlreadyStartedError)) {
    return { status: 409, code: 'already_started', message: 'This workflow is already running' };
  }
  if (isDependencyDown(err) || causes(err).some((e) => e instanceof ServiceError && isDependencyDown(e.cause))) {
    return { status: 503, code: 'service_unavailable', message: 'A dependency (database or Temporal) is unavailable; retry shortly' };
  }
  switch (pgCode(err)) {
    case '23505':
      return { status: 409, code: 'conflict', message: 'A resource with these unique values already exists' };
    case '23503':
      return { status: 409, code: 'conflict', message: 'A referenced resource does not exist or is still referenced' };
    case '22P02': // invalid text representation (e.g. an enum value)
    case '22003': // numeric value out of range
    case '22001': // string too long
    case '22007': // invalid datetime format
    case '22008': // datetime out of range
    case '22023': // invalid parameter value
    case '22021': // invalid byte sequence (NUL in text)
    case '22P05': // untranslatable character (\u0000 in jsonb)
      return { status: 400, code: 'invalid_value', message: 'A value in the request is not acceptable to the database' };
    default:
      return undefined;
  }
}

/** The one error middleware: every failure becomes `{error: {code, message, details?}}`. */
export const errorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) {
    // A streamed response (export) failed midway: the status is gone, so cut the connection.
    req.log?.error({ err }, 'error after response started');
    next(err);
    return;
  }
  const mapped = mapError(err);
  let body: ErrorBody;
  if (mapped) {
    if (mapped.status >= 500) req.log?.error({ err }, mapped.message);
    else req.log?.debug({ error: { code: mapped.code, message: mapped.message } }, 'request rejected');
    body = { error: { code: mapped.code, message: mapped.message, ...(mapped.details ? { details: mapped.details } : {}) } };
    if (mapped.status >= 500) body.error.requestId = req.id;
    if (mapped.status === 503) res.setHeader('Retry-After', '5');
    res.status(mapped.status).json(body);
    return;
  }
  // Unknown failure: the client gets only a request id; the details go to the log.
  req.log?.error({ err }, 'unhandled error');
  res.status(500).json({ error: { code: 'internal_error', message: 'Internal server error', requestId: req.id } });
};

/** Unknown routes get JSON too, never Express' HTML page. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({
    error: { code: 'route_not_found', message: `No route for ${req.method} ${req.path}` },
  });
};
