import { Group, Paper, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import type { ReactNode } from 'react';

export interface Column<T> {
  /** The column header (also the label of the value in the narrow layout). */
  header: string;
  cell: (row: T) => ReactNode;
  /** The header is read by screen readers only (an actions column). */
  hideHeader?: boolean;
  align?: 'left' | 'right';
}

/**
 * A table at 768 px and wider; below, one card per row with each value under its column's name, so
 * nothing (least of all the row's buttons) hides behind a horizontal scroll on a phone.
 */
export function DataTable<T>({ label, rows, rowKey, columns, minWidth = 640, dimmed }: {
  /** The accessible name of the table (or list). */
  label: string;
  rows: T[];
  rowKey: (row: T) => string | number;
  columns: Array<Column<T>>;
  minWidth?: number;
  /** Rows shown greyed out (revoked, disabled). */
  dimmed?: (row: T) => boolean;
}) {
  const narrow = useMediaQuery('(max-width: 48em)');
  if (narrow) {
    return (
      <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: 'none' }} aria-label={label}>
        {rows.map((row) => (
          <Paper key={rowKey(row)} withBorder p="sm" component="li" c={dimmed?.(row) ? 'dimmed' : undefined}>
            <Stack gap={6}>
              {columns.map((col) =>
                col.hideHeader ? (
                  <Group key={col.header} justify="flex-end" gap={4}>
                    {col.cell(row)}
                  </Group>
                ) : (
                  <div key={col.header}>
                    <Text size="xs" c="dimmed" fw={600}>
                      {col.header}
                    </Text>
                    <div style={{ overflowWrap: 'anywhere', fontSize: 'var(--mantine-font-size-sm)' }}>{col.cell(row)}</div>
                  </div>
                ),
              )}
            </Stack>
          </Paper>
        ))}
      </Stack>
    );
  }
  return (
    <Table.ScrollContainer minWidth={minWidth}>
      <Table verticalSpacing="sm" aria-label={label}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((col) => (
              <Table.Th key={col.header} scope="col" ta={col.align}>
                {col.hideHeader ? <VisuallyHidden>{col.header}</VisuallyHidden> : col.header}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={rowKey(row)} c={dimmed?.(row) ? 'dimmed' : undefined}>
              {columns.map((col) => (
                <Table.Td key={col.header} ta={col.align}>
                  {col.cell(row)}
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
