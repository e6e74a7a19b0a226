/**
 * An email's stored HTML as the dashboard may show it: the open-tracking pixel removed and each
 * click-tracking link pointed back at its destination. Otherwise looking at a sent message in the
 * send log would record an open (the pixel loads) and a click on a link would record a click, as if
 * the recipient had done it.
 *
 * Click tokens are `<base64url JSON payload>.<signature>` (src/crypto/signing.ts) with the target in
 * `u`; the payload is read, not verified — it only decides where a preview link points.
 */
const OPEN_PATH = /\/t\/o\/[^/?#"']+/;
const CLICK_TOKEN = /\/t\/c\/([^/?#"']+)/;

function clickTarget(href: string): string | null {
  const token = CLICK_TOKEN.exec(href)?.[1];
  const payload = token?.split('.')[0];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const url = (JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as { u?: unknown }).u;
    return typeof url === 'string' ? url : null;
  } catch {
    return null;
  }
}

export function withoutTracking(html: string): string {
  if (!html.includes('/t/o/') && !html.includes('/t/c/')) return html;
  // DOMParser builds an inert document: nothing in it loads or runs.
  const doc = new DOMParser().parseFromString(html, 'text/html');
  for (const img of Array.from(doc.querySelectorAll('img'))) {
    if (OPEN_PATH.test(img.getAttribute('src') ?? '')) img.remove();
  }
  for (const a of Array.from(doc.querySelectorAll('a[href]'))) {
    const href = a.getAttribute('href') ?? '';
    if (!CLICK_TOKEN.test(href)) continue;
    const target = clickTarget(href);
    if (target) a.setAttribute('href', target);
    else a.removeAttribute('href');
  }
  return `<!doctype html>\n${doc.documentElement.outerHTML}`;
}
