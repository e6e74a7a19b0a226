import { Group, Pagination, Text } from '@mantine/core';
import type { Pagination as PageInfo } from '../api/types';

type Position = { page: number; totalPages: number; total: number; limit?: number };

/**
 * Page links under a table, with the total in words ("1–50 of 1,234 contacts" when the page size is
 * known, else "1,234 in all"); links only when there are several pages, nothing when empty. Give it the
 * API's `pagination` object as `info`, or the numbers.
 */
export function Pager(props: { onChange: (page: number) => void; noun?: string } & ({ info: PageInfo | undefined } | Position)) {
  const pos: Position | undefined = 'info' in props ? props.info : props;
  if (!pos || pos.total === 0) return null;
  const { page, totalPages, total, limit } = pos;
  const noun = props.noun ?? 'in all';
  const words =
    limit !== undefined
      ? `${((page - 1) * limit + 1).toLocaleString()}–${Math.min(page * limit, total).toLocaleString()} of ${total.toLocaleString()} ${props.noun ?? ''}`.trim()
      : `${total.toLocaleString()} ${noun}`;
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
          aria-label="Pages"
          getControlProps={(control) => ({ 'aria-label': control === 'previous' ? 'Previous page' : control === 'next' ? 'Next page' : control === 'first' ? 'First page' : 'Last page' })}
          getItemProps={(p) => ({ 'aria-label': `Page ${p}` })}
        />
      )}
    </Group>
  );
}
