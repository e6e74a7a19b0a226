import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { errorMessage, get } from './client';
import type { List, Paged, Segment, Tag } from './types';

/**
 * Lookups shared by the audience pages: the site's lists, tags and segments for pickers and for
 * showing names instead of ids. The API pages by 100 at most; these take the first 100 by name/id,
 * which covers the pickers' use (a site with more sees the first 100 and can still type to search
 * contacts by list on the Lists page).
 */
export function useLists() {
  return useQuery({ queryKey: ['lists', 'all'], queryFn: () => get<Paged<List>>('/lists', { limit: 100 }) });
}
export function useTags() {
  return useQuery({ queryKey: ['tags', 'all'], queryFn: () => get<Paged<Tag>>('/tags', { limit: 100 }) });
}
export function useSegments() {
  return useQuery({ queryKey: ['segments', 'all'], queryFn: () => get<Paged<Segment>>('/segments', { limit: 100 }) });
}

/** A name for a list id, from the lookup (or `List #3` while it loads or when it is past the first 100). */
export function listName(lists: List[] | undefined, id: number): string {
  return lists?.find((l) => l.id === id)?.name ?? `List #${id}`;
}

export function notifyError(title: string) {
  return (err: unknown) => notifications.show({ color: 'red', title, message: errorMessage(err) });
}
export function notifyDone(message: string) {
  notifications.show({ color: 'green', message });
}

/** Query keys every contact change must refresh (contacts, counts on lists/tags/segments). */
export const AUDIENCE_KEYS = [['contacts'], ['contact'], ['lists'], ['tags'], ['segments'], ['segment']] as const;
