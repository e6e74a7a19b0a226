import { Group, Pagination, Text } from '@mantine/core';
import type { Pagination as PageInfo } from '../api/types';

/** "1–50 of 1,234" and page links under a paginated table (links only when there are several pages; nothing when empty). */
export function Pager({ info, onChange, noun = 'items' }: { info: PageInfo | undefined; onChange: (page: number) => void; noun?: string }) {
  if (!info || info.total === 0) return null;
  const first = (info.page - 1) * info.limit + 1;
  const last = Math.min(info.page * info.limit, info.total);
  return (
    <Group justify="space-between" wrap="wrap" gap="xs">
      <Text size="sm" c="dimmed" aria-live="polite">
        {`${first.toLocaleString()}–${last.toLocaleString()} of ${info.total.toLocaleString()} ${noun}`}
      </Text>
      {info.totalPages > 1 && (
        <Pagination
          total={info.totalPages}
          value={info.page}
          onChange={onChange}
          size="sm"
          siblings={1}
          getControlProps={(control) => ({ 'aria-label': control === 'previous' ? 'Previous page' : control === 'next' ? 'Next page' : control === 'first' ? 'First page' : 'Last page' })}
          getItemProps={(page) => ({ 'aria-label': `Page ${page}` })}
        />
      )}
    </Group>
  );
}
