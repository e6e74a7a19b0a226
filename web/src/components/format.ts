/** How dates and numbers read on the dashboard (the user's locale and time zone). */

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

export function formatNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString();
}

/** "Ada Lovelace" from the contact's names, or undefined when it has none. */
export function fullName(c: { firstName: string | null; lastName: string | null }): string | undefined {
  const name = [c.firstName, c.lastName].filter(Boolean).join(' ');
  return name || undefined;
}
