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

/** "21–40 of 312" and page buttons (hidden when everything fits on one page). */
export function Pager({ meta, onChange, label = 'Pages' }: { meta: PageMeta | undefined; onChange: (page: number) => void; label?: string }) {
  if (!meta || meta.total === 0) return null;
  const first = (meta.page - 1) * meta.limit + 1;
  const last = Math.min(meta.total, meta.page * meta.limit);
  return (
    <Group justify="space-between" gap="sm" wrap="wrap">
      <Text size="sm" c="dimmed">
        {first.toLocaleString()}–{last.toLocaleString()} of {meta.total.toLocaleString()}
      </Text>
      {meta.totalPages > 1 && (
        <Pagination
          total={meta.totalPages}
          value={meta.page}
          onChange={onChange}
          size="sm"
          siblings={1}
          boundaries={1}
          aria-label={label}
          getControlProps={(control) => ({ 'aria-label': `${control} page` })}
          getItemProps={(page) => ({ 'aria-label': `Page ${page}` })}
        />
      )}
    </Group>
  );
}
