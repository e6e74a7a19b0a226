import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A local stand-in for the Resend API, speaking the endpoints the `resend` SDK calls for sending:
 * POST /emails, POST /emails/batch and GET /domains. It records every request exactly as it arrived,
 * keeps the accepted emails apart, honours Idempotency-Key like Resend (same key and body → the first
 * answer again, nothing new accepted; same key, other body → 409), and fails on command.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-cased header names, as Node parses them. */
  headers: Record<string, string>;
  /** Parsed JSON body (undefined for GET). */
  body: unknown;
  /** The status this server answered with. */
  status: number;
  /** True when the answer was replayed for a repeated Idempotency-Key. */
  replayed: boolean;
  /** True when no answer was sent (modes `hang` and `hang_after_accept`); `status` is what it would have been. */
  hung?: boolean;
}

/** The JSON fields the SDK sends for one email (snake_case, as on the wire). */
export interface EmailPayload {
  from: string;
  to: string | string[];
  subject: string;
  html?: string;
  text?: string;
  cc?: string | string[];
  bcc?: string | string[];
  reply_to?: string | string[];
  headers?: Record<string, string>;
  tags?: { name: string; value: string }[];
  [field: string]: unknown;
}

export interface AcceptedEmail {
  id: string;
  payload: EmailPayload;
  /** The Idempotency-Key of the request that carried it (the batch's key for batch sends). */
  idempotencyKey: string | undefined;
  via: 'single' | 'batch';
}

export interface ScriptedFailure {
  status: number;
  headers?: Record<string, string>;
  /** Defaults to a realistic Resend error body for the status. */
  body?: unknown;
}

/**
 * Persistent behaviours: every matching request gets this answer until the mode changes.
 * `rate_limited`: 429 with `retry-after: 1`. `hang`: the request is read and never answered (the
 * client's timeout ends it; nothing is accepted). `hang_after_accept`: the email is accepted (and its
 * Idempotency-Key bound) but the answer never comes, as when a response is lost on the way back.
 */
export type FakeResendMode =
  | 'ok'
  | 'unauthorized'
  | 'invalid_recipient'
  | 'server_error'
  | 'restricted_key'
  | 'rate_limited'
  | 'hang'
  | 'hang_after_accept';

export interface FakeResend {
  /** Base URL to give the SDK (`baseUrl` option or RESEND_BASE_URL). */
  url: string;
  apiKey: string;
  requests: RecordedRequest[];
  emails: AcceptedEmail[];
  /** The next `count` requests (any endpoint) fail with `failure`; later calls queue after earlier ones. */
  failNext(count: number, failure: ScriptedFailure): void;
  setMode(mode: FakeResendMode): void;
  /** Artificial latency per request, for benchmarks and timeout tests. */
  setDelay(ms: number): void;
  /** Forgets requests, emails, idempotency records, scripted failures and the mode. */
  reset(): void;
  close(): Promise<void>;
}

const MAX_BATCH = 100;
const MAX_IDEMPOTENCY_KEY = 256;
const ADDRESS = /^(?:[^<>]*<\s*([^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)\s*>|([^\s@<>]+@[^\s@<>]+\.[^\s@<>]+))$/;

function defaultErrorBody(status: number): { statusCode: number; name: string; message: string } {
  switch (status) {
    case 400:
      return { statusCode: 400, name: 'validation_error', message: 'Invalid request' };
    case 401:
      return { statusCode: 401, name: 'missing_api_key', message: 'Missing API key in the authorization header.' };
    case 403:
      return { statusCode: 403, name: 'invalid_api_key', message: 'API key is invalid' };
    case 422:
      return {
        statusCode: 422,
        name: 'validation_error',
        message: 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
      };
    case 429:
      return {
        statusCode: 429,
        name: 'rate_limit_exceeded',
        message: 'Too many requests. You can only make 2 requests per second.',
      };
    default:
      return status >= 500
        ? { statusCode: status, name: 'internal_server_error', message: 'An unexpected error occurred.' }
        : { statusCode: status, name: 'application_error', message: `HTTP ${status}` };
  }
}

const modeFailures: Record<Exclude<FakeResendMode, 'ok' | 'restricted_key' | 'hang' | 'hang_after_accept'>, ScriptedFailure> = {
  unauthorized: { status: 401, body: { statusCode: 401, name: 'invalid_api_key', message: 'API key is invalid' } },
  invalid_recipient: { status: 422 },
  server_error: { status: 500 },
  rate_limited: { status: 429, headers: { 'retry-after': '1' } },
};

/** Returns an error message for one email payload, or null when Resend would accept it. */
function validateEmail(payload: unknown): string | null {
  if (!payload || typeof payload !== 'object') return 'Each email must be an object.';
  const email = payload as Partial<EmailPayload>;
  if (!email.from) return 'Missing `from` field.';
  if (!ADDRESS.test(email.from)) return 'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.';
  if (!email.to || (Array.isArray(email.to) && email.to.length === 0)) return 'Missing `to` field.';
  for (const field of ['to', 'cc', 'bcc'] as const) {
    const value = email[field];
    const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
    if (list.length > 50) return `Too many recipients in \`${field}\`; the maximum is 50.`;
    if (list.some((a) => typeof a !== 'string' || !ADDRESS.test(a))) {
      return `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`;
    }
  }
  if (!email.subject) return 'Missing `subject` field.';
  if (!email.html && !email.text) return 'Missing `html` or `text` field.';
  return null;
}

/** Starts the fake on 127.0.0.1 and an ephemeral port. */
export async function startFakeResend(options: { apiKey?: string; delayMs?: number } = {}): Promise<FakeResend> {
  const apiKey = options.apiKey ?? 're_test_fake_0123456789abcdef';
  let delayMs = options.delayMs ?? 0;
  let mode: FakeResendMode = 'ok';
  let script: ScriptedFailure[] = [];
  const requests: RecordedRequest[] = [];
  const emails: AcceptedEmail[] = [];
  const idempotency = new Map<string, { fingerprint: string; status: number; body: unknown }>();

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      respond(res, 500, { statusCode: 500, name: 'internal_server_error', message: String(err) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const record: RecordedRequest = { method, path, headers, body, status: 0, replayed: false };
    requests.push(record);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));

    // Decided on arrival, so a request that came in during a hang stays unanswered after the mode changes.
    const hangAfterAccept = mode === 'hang_after_accept';
    const answer = (status: number, payload: unknown, extraHeaders: Record<string, string> = {}) => {
      record.status = status;
      if (hangAfterAccept) {
        record.hung = true;
        return;
      }
      respond(res, status, payload, extraHeaders);
    };

    const scripted = script.shift();
    if (scripted) return answer(scripted.status, scripted.body ?? defaultErrorBody(scripted.status), scripted.headers);
    if (mode === 'hang') {
      // Never answered: the client gives up (its timeout) or close() cuts the socket.
      record.hung = true;
      return;
    }
    if (mode !== 'ok' && mode !== 'restricted_key' && mode !== 'hang_after_accept') {
      const failure = modeFailures[mode];
      return answer(failure.status, failure.body ?? defaultErrorBody(failure.status), failure.headers);
    }

    const auth = headers['authorization'];
    if (!auth) return answer(401, defaultErrorBody(401));
    if (auth !== `Bearer ${apiKey}`) return answer(403, defaultErrorBody(403));

    if (method === 'GET' && path === '/domains') {
      if (mode === 'restricted_key') {
        return answer(401, { statusCode: 401, name: 'restricted_api_key', message: 'This API key is restricted to only send emails' });
      }
      return answer(200, {
        object: 'list',
        has_more: false,
        data: [
          { id: 'd91cd9bd-1176-453e-8fc1-35364d380206', name: 'example.test', status: 'verified', created_at: '2024-01-01 00:00:00.000000+00', region: 'us-east-1', capabilities: { sending: 'enabled', receiving: 'disabled' } },
        ],
      });
    }

    const isSingle = method === 'POST' && path === '/emails';
    const isBatch = method === 'POST' && path === '/emails/batch';
    if (!isSingle && !isBatch) return answer(404, { statusCode: 404, name: 'not_found', message: 'Route not found' });

    const key = headers['idempotency-key'];
    const fingerprint = createHash('sha256').update(`${method} ${path} ${headers['x-batch-validation'] ?? ''} ${raw}`).digest('hex');
    if (key !== undefined) {
      if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY) {
        return answer(400, { statusCode: 400, name: 'invalid_idempotency_key', message: 'The key must be between 1-256 chars.' });
      }
      const previous = idempotency.get(key);
      if (previous) {
        if (previous.fingerprint !== fingerprint) {
          return answer(409, {
            statusCode: 409,
            name: 'invalid_idempotent_request',
            message: 'Same idempotency key used with a different request payload.',
          });
        }
        record.replayed = true;
        return answer(previous.status, previous.body);
      }
    }
    const remember = (status: number, payload: unknown) => {
      // Like Resend, only a request that created something is bound to its key; a rejected one may be retried.
      if (key !== undefined && status < 300) idempotency.set(key, { fingerprint, status, body: payload });
      answer(status, payload);
    };

    if (isSingle) {
      const problem = validateEmail(body);
      if (problem) return answer(422, { statusCode: 422, name: 'validation_error', message: problem });
      const id = randomUUID();
      emails.push({ id, payload: body as EmailPayload, idempotencyKey: key, via: 'single' });
      return remember(200, { id });
    }

    if (!Array.isArray(body)) return answer(422, { statusCode: 422, name: 'validation_error', message: 'The batch must be an array of emails.' });
    if (body.length > MAX_BATCH) {
      return answer(422, { statusCode: 422, name: 'validation_error', message: `Too many emails in the batch; the maximum is ${MAX_BATCH}.` });
    }
    const problems = body.map(validateEmail);
    const permissive = headers['x-batch-validation'] === 'permissive';
    if (!permissive) {
      const first = problems.findIndex((p) => p !== null);
      if (first >= 0) return answer(422, { statusCode: 422, name: 'validation_error', message: `emails[${first}]: ${problems[first]}` });
    }
    const data: { id: string }[] = [];
    const errors: { index: number; message: string }[] = [];
    body.forEach((payload: unknown, index) => {
      const problem = problems[index];
      if (problem) {
        errors.push({ index, message: problem });
        return;
      }
      const id = randomUUID();
      data.push({ id });
      emails.push({ id, payload: payload as EmailPayload, idempotencyKey: key, via: 'batch' });
    });
    return remember(200, permissive ? { data, errors } : { data });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    emails,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) script.push(failure);
    },
    setMode(next) {
      mode = next;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    reset() {
      requests.length = 0;
      emails.length = 0;
      idempotency.clear();
      script = [];
      mode = 'ok';
    },
    async close() {
      // fetch keeps sockets alive; without this, close() would wait for them to time out.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function respond(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
