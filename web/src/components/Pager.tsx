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

type Position = { page: number; totalPages: number; total: number; limit?: number };

/**
 * Page links under a table, with the total in words ("1–50 of 1,234 contacts" when the page size is
 * known, else "1,234 in all"); links only when there are several pages, nothing when empty. Give it the
 * API's `pagination` object as `info`, or the numbers. `label` names the navigation when a page has
 * more than one list.
 */
export function Pager(props: { onChange: (page: number) => void; noun?: string; label?: string } & ({ info: PageMeta | undefined } | Position)) {
  const pos: Position | undefined = 'info' in props ? props.info : props;
  if (!pos || pos.total === 0) return null;
  const { page, totalPages, total, limit } = pos;
  const words =
    limit !== undefined
      ? `${((page - 1) * limit + 1).toLocaleString()}–${Math.min(page * limit, total).toLocaleString()} of ${total.toLocaleString()} ${props.noun ?? ''}`.trim()
      : `${total.toLocaleString()} ${props.noun ?? 'in all'}`;
  return (
    <Group justify="space-between" wrap="wrap" gap="xs">
      <Text size="sm" c="dimmed" aria-live="polite">
        {words}
      </Text>
      {totalPages > 1 && (
        <Pagination
          total={totalPages}
          value={page}
          onChange={props.onChange}
          size="sm"
          siblings={1}
          aria-label={props.label ?? 'Pages'}
          getControlProps={(control) => ({ 'aria-label': control === 'previous' ? 'Previous page' : control === 'next' ? 'Next page' : control === 'first' ? 'First page' : 'Last page' })}
          getItemProps={(p) => ({ 'aria-label': `Page ${p}` })}
        />
      )}
    </Group>
  );
}
