import { Group, Pagination, Text } from '@mantine/core';

/** The `pagination` object of every /api/v1 list answer. */
export interface PageMeta {
  page: number;
  limit: number;
  total: number;
  totalPages: number;
}

/** A paged list answer: `{data, pagination}`. */
export interface Paged<T> {
  data: T[];
  pagination: PageMeta;
}

/**
 * Page links under a table, with the total in words; nothing when everything fits on one page.
 * `label` names the navigation when a page has more than one list.
 */
export function Pager({ page, totalPages, total, onChange, label = 'Pages' }: { page: number; totalPages: number; total: number; onChange: (page: number) => void; label?: string }) {
  return (
    <Group justify="space-between" wrap="wrap">
      <Text size="sm" c="dimmed">
        {total} in all
      </Text>
      {totalPages > 1 && <Pagination total={totalPages} value={page} onChange={onChange} size="sm" aria-label={label} getControlProps={(c) => ({ 'aria-label': c === 'previous' ? 'Previous page' : c === 'next' ? 'Next page' : c })} />}
    </Group>
  );
}
