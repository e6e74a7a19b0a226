/**
 * Where to go after sign-in: the `next` query value when it is a path inside the app, else the
 * overview. Anything that could leave the app (`//evil.test`, `https://…`, `/\evil`) is ignored,
 * so a crafted sign-in link cannot redirect elsewhere.
 */
export function safeNextPath(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  try {
    const url = new URL(next, 'http://app.invalid');
    return url.host === 'app.invalid' ? url.pathname + url.search + url.hash : '/';
  } catch {
    return '/';
  }
}
