import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { IDEMPOTENCY_KEY } from './validation.js';

/**
 * The single OpenAPI registry. Each `routes/<feature>.schema.ts` registers its paths here, with the
 * same zod schemas the routes use to validate requests, so the document cannot drift from behaviour.
 */
export const openApiRegistry = new OpenAPIRegistry();

export const bearerAuth = openApiRegistry.registerComponent('securitySchemes', 'bearerAuth', {
  type: 'http',
  scheme: 'bearer',
  description: 'An API key such as `tk_live_…`, sent as `Authorization: Bearer <key>`. Each key belongs to one site and acts as its owner.',
});

export const sessionCookie = openApiRegistry.registerComponent('securitySchemes', 'sessionCookie', {
  type: 'apiKey',
  in: 'cookie',
  name: 'tidings_session',
  description:
    'The web dashboard’s session, set by `POST /api/v1/auth/login`. Every request but GET/HEAD/OPTIONS made with it must send the ' +
    'session’s `csrfToken` as `X-CSRF-Token` and, if it sends `Origin`, this server’s own origin (403 otherwise). What the ' +
    'user may do depends on their role (403 `forbidden_role`).',
});

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_failed' }),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      requestId: z.string().optional().meta({ description: 'Present on 5xx answers; quote it when reporting a problem.' }),
    }),
  })
  .meta({ id: 'Error' });

export const PaginationMeta = z
  .object({
    page: z.int().min(1),
    limit: z.int().min(1).max(100),
    total: z.int().min(0),
    totalPages: z.int().min(0),
  })
  .meta({ id: 'Pagination' });

/** `{data: T}` */
export function dataOf<T extends z.ZodType>(schema: T) {
  return z.object({ data: schema });
}

/** `{data: T[], pagination}` */
export function pageOf<T extends z.ZodType>(schema: T) {
  return z.object({ data: z.array(schema), pagination: PaginationMeta });
}

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

const rateLimitHeaders = {
  'X-RateLimit-Limit': { description: 'Requests allowed per window (one minute) for this key or signed-in user.', schema: { type: 'integer' as const } },
  'X-RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer' as const } },
  'X-RateLimit-Reset': { description: 'Seconds until the window resets.', schema: { type: 'integer' as const } },
  'RateLimit-Policy': { description: 'IETF draft-ietf-httpapi-ratelimit-headers: `"per-key";q=<limit>;w=60`.', schema: { type: 'string' as const } },
  RateLimit: { description: 'IETF draft-ietf-httpapi-ratelimit-headers: `"per-key";r=<remaining>;t=<seconds to reset>`.', schema: { type: 'string' as const } },
};

/** Error answers every authenticated /api/v1 operation can give. */
export const commonErrors = {
  400: json(ErrorResponse, 'Invalid input (malformed JSON, wrong types, bad pagination).'),
  401: json(ErrorResponse, 'Missing or invalid API key, or no valid session.'),
  403: json(
    ErrorResponse,
    'A `siteId` in the body or query does not match the caller’s site; or, with a session, the role does not allow it, or the CSRF token or `Origin` is wrong.',
  ),
  429: {
    ...json(ErrorResponse, 'Rate limit exceeded; retry after `Retry-After` seconds.'),
    headers: { ...rateLimitHeaders, 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' as const } } },
  },
  500: json(ErrorResponse, 'Unexpected error; the body carries a request id.'),
  503: json(ErrorResponse, 'A dependency (database or Temporal) is unavailable.'),
};

export const notFound = { 404: json(ErrorResponse, 'Not found (or belongs to another site).') };
export const conflict = (what: string) => ({ 409: json(ErrorResponse, what) });

type Responses = RouteConfig['responses'];

/** `json(schema)` response with the rate-limit headers every authenticated answer carries. */
export function ok(schema: z.ZodType, description: string): Responses[string] {
  return { ...json(schema, description), headers: rateLimitHeaders };
}

/**
 * The `Idempotency-Key` request header of an operation mounted with `idempotent(db)`, with the rule
 * that middleware enforces. Declaring it also documents the middleware's 409 and 422 answers.
 */
export function idempotencyKeyHeader(description = 'Retrying with the same key returns the first answer and does nothing twice.') {
  return z.object({
    'Idempotency-Key': z
      .string()
      .regex(IDEMPOTENCY_KEY)
      .optional()
      .meta({ description: `${description} 1–255 printable ASCII characters, no spaces.`, example: 'order-1234-confirmation' }),
  });
}

/** Answers of the `Idempotency-Key` middleware, on every operation that documents the header. */
export const idempotencyErrors = {
  409: json(ErrorResponse, 'Conflicting state, or a request with this Idempotency-Key is still in progress (retry shortly).'),
  422: json(ErrorResponse, 'This Idempotency-Key was already used for a different operation, or the state forbids the request.'),
};

/** Answers of the JSON body parser, on every operation that takes a body. */
export const bodyErrors = {
  413: json(ErrorResponse, 'The request body is too large.'),
  415: json(ErrorResponse, 'The body’s encoding or charset is not supported.'),
};

function headerNames(config: RouteConfig): string[] {
  const headers = config.request?.headers;
  if (!headers) return [];
  const shapes = Array.isArray(headers) ? headers : [headers];
  return shapes.flatMap((h) => Object.keys((h as { shape?: Record<string, unknown> }).shape ?? {}));
}

/**
 * parseBody reads a request without a body as `{}`, so a body is required exactly when its schema
 * refuses `{}` (a create with required fields) and optional when it accepts it (a PATCH of optional
 * fields, a key's optional name).
 */
function acceptsEmptyBody(content: object): boolean {
  return Object.values(content as Record<string, { schema?: unknown } | undefined>).some(
    (media) => media?.schema instanceof z.ZodType && media.schema.safeParse({}).success,
  );
}

/**
 * Registers an authenticated /api/v1 operation: adds the security requirements (API key or session)
 * and the error answers the shared middleware can give, so each schema file only states what is specific to the
 * operation (its own answers win over these): the common ones everywhere, 404 wherever the path
 * names a resource, 413/415 wherever there is a body, 409/422 wherever `Idempotency-Key` is taken.
 * The API fuzzer (`npm run test:fuzz`) fails on any status code an operation does not list.
 */
export function registerApiPath(config: RouteConfig): void {
  const idempotent = headerNames(config).some((name) => name.toLowerCase() === 'idempotency-key');
  const body = config.request?.body;
  openApiRegistry.registerPath({
    ...config,
    ...(body ? { request: { ...config.request, body: { ...body, required: body.required ?? !acceptsEmptyBody(body.content) } } } : {}),
    // Either one: an API key, or the dashboard's session cookie.
    security: [{ [bearerAuth.name]: [] }, { [sessionCookie.name]: [] }],
    responses: {
      ...commonErrors,
      ...(config.path.includes('{') ? notFound : {}),
      ...(config.request?.body ? bodyErrors : {}),
      ...(idempotent ? idempotencyErrors : {}),
      ...config.responses,
    },
  });
}

let cached: ReturnType<OpenApiGeneratorV31['generateDocument']> | undefined;

/** The OpenAPI 3.1 document; built once, after every route module has registered its paths. */
export function openApiDocument() {
  cached ??= new OpenApiGeneratorV31(openApiRegistry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Tidings API',
      version: '1',
      description:
        'Self-hostable email platform. Success answers are `{"data": …}`; collections add `pagination`. ' +
        'Errors are `{"error": {"code", "message", "details"?}}`. Timestamps are ISO-8601 UTC, ids are integers.',
    },
  });
  return cached;
}
