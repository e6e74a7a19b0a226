import { ApiError, withQuery, type Query } from './client';

/**
 * Downloads a file answer of /api/v1 (e.g. the contacts export) through fetch, so the session cookie
 * and the API's JSON errors work as for every other call, then hands the blob to the browser.
 */
export async function downloadFile(path: string, query: Query, fallbackName: string): Promise<void> {
  const res = await fetch(withQuery(`/api/v1${path}`, query), { credentials: 'same-origin' });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    throw new ApiError(res.status, body?.error?.code ?? 'http_error', body?.error?.message ?? `${res.status} ${res.statusText}`);
  }
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
