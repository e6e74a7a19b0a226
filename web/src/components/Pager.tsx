import { Group, Pagination, Text } from '@mantine/core';

/** Page links under a table, with the total in words; nothing when everything fits on one page. */
export function Pager({ page, totalPages, total, onChange }: { page: number; totalPages: number; total: number; onChange: (page: number) => void }) {
  return (
    <Group justify="space-between" wrap="wrap">
      <Text size="sm" c="dimmed">
        {total} in all
      </Text>
      {totalPages > 1 && <Pagination total={totalPages} value={page} onChange={onChange} size="sm" aria-label="Pages" getControlProps={(c) => ({ 'aria-label': c === 'previous' ? 'Previous page' : c === 'next' ? 'Next page' : c })} />}
    </Group>
  );
}
