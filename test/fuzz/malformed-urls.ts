/**
 * The part of the fuzz run schemathesis cannot do: it always sends well-formed URLs. Here every path
 * parameter of every operation in the OpenAPI document, and of the public routes outside it (tracking,
 * unsubscribe, provider webhooks, the dashboard), gets escapes that do not decode — invalid UTF-8, a
 * truncated escape, a lone `%` — and a query with the same. Each answer must be a 4xx, never a 5xx.
 */
import http from 'node:http';

/** Values that are not valid percent-encoded UTF-8 (each is inserted into the URL as is). */
export const MALFORMED = ['%E0%A4%A', '%', '%FF', '%C0%AF', '%ED%A0%80', 'x%zz', '%%'];

/** Public routes that are not API operations, with their parameters in OpenAPI form. */
const PUBLIC_ROUTES: Array<[string, string]> = [
  ['GET', '/t/o/{token}'],
  ['GET', '/t/c/{token}'],
  ['GET', '/u/{token}'],
  ['POST', '/u/{token}'],
  ['POST', '/webhooks/resend/{sendingConfigId}'],
  ['GET', '/app/{page}'],
  ['GET', '/docs/assets/{file}'],
];

interface Probe {
  method: string;
  target: string;
  status: number;
}

function request(base: URL, method: string, target: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, method, path: target, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end(method === 'GET' || method === 'DELETE' ? undefined : '{}');
  });
}

/** Every (method, path) case with its probes; a case fails if any probe answered 5xx (or not at all). */
export async function probeMalformedUrls(baseUrl: string, key: string): Promise<{ cases: number; failures: Array<{ method: string; path: string; probes: Probe[] }> }> {
  const base = new URL(baseUrl);
  const doc = (await (await fetch(`${baseUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const routes: Array<[string, string]> = [...PUBLIC_ROUTES];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) routes.push([method.toUpperCase(), path]);
    }
  }
  const failures: Array<{ method: string; path: string; probes: Probe[] }> = [];
  for (const [method, path] of routes) {
    const targets: string[] = [];
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    for (const bad of MALFORMED) {
      // Each parameter malformed in turn, the others a plausible value.
      for (const param of params) targets.push(path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === param ? bad : '1')));
      targets.push(`${path.replace(/\{(\w+)\}/g, '1')}?q=${bad}`);
    }
    const probes: Probe[] = [];
    for (const target of targets) {
      const status = await request(base, method, target, key).catch(() => 0);
      probes.push({ method, target, status });
    }
    const bad = probes.filter((p) => p.status >= 500 || p.status === 0);
    if (bad.length) failures.push({ method, path, probes: bad });
  }
  return { cases: routes.length, failures };
}
