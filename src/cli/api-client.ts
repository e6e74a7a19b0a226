import { CliError } from './errors.js';

interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: { path: string; message: string }[] };
}

/** A tiny client for the Tidings HTTP API: bearer auth, `{data}` unwrapping, errors as one line. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  /**
   * `body` may be a stream (say a file being uploaded as text/csv): it is sent as it is read, which
   * fetch only allows in half-duplex mode.
   */
  async request<T>(
    method: string,
    path: string,
    body?: FormData | ReadableStream<Uint8Array>,
    headers: Record<string, string> = {},
  ): Promise<{ data: T; pagination?: { total: number } }> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/v1${path}`, {
        method,
        headers: { ...headers, authorization: `Bearer ${this.apiKey}` },
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`Cannot reach the Tidings API at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? String(err)}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json as ApiErrorBody | undefined)?.error;
      const extra = (e?.details ?? []).filter((d) => d.message !== e?.message);
      const details = extra.length ? ` (${extra.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')})` : '';
      throw new CliError(`${e?.message ?? `HTTP ${res.status} ${res.statusText}`}${details}`);
    }
    return json as { data: T; pagination?: { total: number } };
  }
}
