/** How dates and numbers read on the dashboard (the browser's locale and time zone). */

/** Dates as people read them: "7 Dec 2026, 14:03" in the browser's zone; "—" for none. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—';
  return new Date(value).toLocaleString(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** "3 minutes ago", "in 2 days", for recent or near instants; the date otherwise. */
export function formatRelative(value: string | null | undefined, now = Date.now()): string {
  if (!value) return 'never';
  const diff = new Date(value).getTime() - now;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (abs < 60_000) return rtf.format(Math.round(diff / 1000), 'second');
  if (abs < 3_600_000) return rtf.format(Math.round(diff / 60_000), 'minute');
  if (abs < 86_400_000) return rtf.format(Math.round(diff / 3_600_000), 'hour');
  if (abs < 30 * 86_400_000) return rtf.format(Math.round(diff / 86_400_000), 'day');
  return formatDateTime(value);
}

/** The day alone: "7 Dec 2026"; "—" for none. */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  return new Date(value).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

export function formatNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString();
}

/** "Ada Lovelace" from the contact's names, or undefined when it has none. */
export function fullName(c: { firstName: string | null; lastName: string | null }): string | undefined {
  const name = [c.firstName, c.lastName].filter(Boolean).join(' ');
  return name || undefined;
}
