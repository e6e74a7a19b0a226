/**
 * The dashboard's only way to the server: /api/v1, authenticated by the session cookie, with the
 * session's CSRF token on every write (the server refuses cookie-authenticated writes without it).
 */

/** The JSON error envelope every /api/v1 error uses. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: Array<{ path: string; message: string }> };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthenticated: (() => void) | null = null;

/** Remembered from the sign-in or session answer; sent as X-CSRF-Token on writes. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when any request answers 401, so an expired session sends the user back to sign-in. */
export function setUnauthenticatedHandler(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

async function errorOf(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as ApiErrorBody | null;
  if (body?.error) return new ApiError(res.status, body.error.code, body.error.message, body.error.details);
  return new ApiError(res.status, 'http_error', `${res.status} ${res.statusText}`);
}

/**
 * One request to /api/v1 (`path` is relative to it: `/contacts`). JSON in and out; FormData is sent
 * as multipart, a Blob as the raw body with its type. Resolves to the parsed body (undefined for 204), rejects with an ApiError.
 */
export async function api<T = unknown>(method: string, path: string, body?: unknown, init: { query?: Query; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const write = !['GET', 'HEAD'].includes(method);
  if (write && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body instanceof Blob) {
    // A file sent as the raw body (e.g. a CSV to /suppressions/import), with its own type.
    headers['Content-Type'] = body.type || 'application/octet-stream';
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(withQuery(`/api/v1${path}`, init.query), {
    method,
    headers,
    body: payload,
    credentials: 'same-origin',
    signal: init.signal,
  });
  if (res.status === 401 && !path.startsWith('/auth/')) onUnauthenticated?.();
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

export const get = <T,>(path: string, query?: Query, signal?: AbortSignal) => api<T>('GET', path, undefined, { query, signal });
export const post = <T,>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const patch = <T,>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T,>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T = void,>(path: string) => api<T>('DELETE', path);

/** A human sentence for an error caught from {@link api}, with the first field error when there is one. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    const first = err.details[0];
    return first ? `${err.message}: ${first.path ? `${first.path}: ` : ''}${first.message}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
