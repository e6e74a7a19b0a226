import { request } from 'node:http';
import type { FakeResend } from '../../test/helpers/fake-resend.js';

/**
 * One call to a bench's Tidings API (`<base>/api/v1<url>`) over node:http with no client timeout:
 * enrolling a whole list answers only when every journey has started, which on a loaded machine takes
 * longer than fetch's 5-minute header timeout. Answers the response's `data`; fails on a 4xx or 5xx.
 */
export function apiCall<T>(base: string, apiKey: string, method: string, url: string, body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/api/v1${url}`,
      {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const json = JSON.parse(text) as { data: T; error?: unknown };
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${url}: ${res.statusCode} ${JSON.stringify(json.error)}`));
          else resolve(json.data);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Every address got exactly one email with this subject, and `expected` addresses got one. */
export function exactlyOnce(fake: FakeResend, subject: string, expected: number): boolean {
  const perAddress = new Map<string, number>();
  for (const e of fake.emails) {
    if (e.payload.subject !== subject) continue;
    const to = [e.payload.to].flat()[0]!;
    perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
  }
  return perAddress.size === expected && [...perAddress.values()].every((n) => n === 1);
}
