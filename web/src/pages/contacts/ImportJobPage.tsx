import { Alert, Anchor, Badge, Card, Code, Group, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { get } from '../../api/client';
import type { Data, ImportJob, ImportRowError, ImportStatus, Paged } from '../../api/types';
import { formatDateTime, formatNumber } from '../../components/format';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';

const STATUS_COLORS: Record<ImportStatus, string> = { queued: 'gray', running: 'blue', completed: 'green', failed: 'red' };

export function ImportStatusBadge({ status }: { status: ImportStatus }) {
  return (
    <Badge color={STATUS_COLORS[status]} variant="light">
      {status}
    </Badge>
  );
}

const finished = (s: ImportStatus | undefined) => s === 'completed' || s === 'failed';

/** One import: a progress bar polled every second until it is done, the counts, and the rejected rows. */
export function ImportJobPage() {
  const id = Number(useParams().id);
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const job = useQuery({
    queryKey: ['imports', 'job', id],
    queryFn: () => get<Data<ImportJob>>(`/imports/${id}`),
    refetchInterval: (q) => (finished(q.state.data?.data.status) ? false : 1000),
  });
  const j = job.data?.data;
  const done = finished(j?.status);
  const errors = useQuery({
    queryKey: ['imports', 'job', id, 'errors', page],
    queryFn: () => get<Paged<ImportRowError>>(`/imports/${id}/errors`, { page, limit: 50 }),
    enabled: !!j && (done || j.errors > 0),
    refetchInterval: done ? false : 2000,
  });

  // Once the import ends, the contacts (and list/tag counts) it touched are stale everywhere.
  useEffect(() => {
    if (done) for (const key of ['contacts', 'lists', 'tags', 'segments']) void queryClient.invalidateQueries({ queryKey: [key] });
  }, [done, queryClient]);

  const percent = j?.totalRows ? Math.round((j.processedRows / j.totalRows) * 100) : j?.status === 'completed' ? 100 : 0;

  return (
    <Page title={j?.filename ? `Import of ${j.filename}` : `Import #${id}`}>
      <Group gap="md">
        <Anchor component={Link} to="/contacts/import" size="sm">
          ← Imports
        </Anchor>
        <Anchor component={Link} to="/contacts" size="sm">
          Contacts
        </Anchor>
      </Group>
      <QueryState isLoading={job.isLoading} error={job.error}>
        {j && (
          <Stack>
            <Card withBorder>
              <Stack gap="sm">
                <Group justify="space-between">
                  <ImportStatusBadge status={j.status} />
                  <Text size="sm" c="dimmed">
                    Started {formatDateTime(j.createdAt)}
                    {j.finishedAt && ` · finished ${formatDateTime(j.finishedAt)}`}
                  </Text>
                </Group>
                <Progress
                  value={percent}
                  size="xl"
                  animated={!done}
                  color={j.status === 'failed' ? 'red' : j.status === 'completed' ? 'green' : 'blue'}
                  aria-label="Import progress"
                  aria-valuetext={`${percent}%`}
                />
                <Text size="sm" aria-live="polite">
                  {j.status === 'queued' && 'Waiting to start…'}
                  {j.status === 'running' && `${formatNumber(j.processedRows)} of ${j.totalRows === null ? '…' : formatNumber(j.totalRows)} rows (${percent}%)`}
                  {j.status === 'completed' && `Done: ${formatNumber(j.processedRows)} rows read.`}
                  {j.status === 'failed' && 'The import stopped.'}
                </Text>
                {j.error && (
                  <Alert color="red" role="alert" title="Why it failed">
                    {j.error}
                  </Alert>
                )}
                <SimpleGrid cols={{ base: 2, sm: 4 }}>
                  <Stat label="Rows" value={j.totalRows} />
                  <Stat label="Created" value={j.created} />
                  <Stat label="Updated" value={j.updated} />
                  <Stat label="Errors" value={j.errors} color={j.errors ? 'red' : undefined} />
                </SimpleGrid>
                {(j.options.listIds.length > 0 || j.options.tags.length > 0) && (
                  <Text size="sm" c="dimmed">
                    {j.options.listIds.length > 0 && `Lists: ${j.options.listIds.map((l) => `#${l}`).join(', ')}. `}
                    {j.options.tags.length > 0 && `Tags: ${j.options.tags.join(', ')}.`}
                  </Text>
                )}
              </Stack>
            </Card>

            {(errors.data?.data.length ?? 0) > 0 && (
              <Stack gap="xs">
                <Title order={3} size="h4">
                  Rows not imported
                </Title>
                <Text size="sm" c="dimmed">
                  Row numbers are line numbers in your file (the header is row 1). Fix these rows and import the file again: rows already
                  imported are only updated.
                </Text>
                <Table.ScrollContainer minWidth={560}>
                  <Table striped aria-label="Rows not imported">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th w={70}>Row</Table.Th>
                        <Table.Th>Problem</Table.Th>
                        <Table.Th>Row as uploaded</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {errors.data!.data.map((e) => (
                        <Table.Tr key={`${e.row}:${e.message}`}>
                          <Table.Td>{e.row}</Table.Td>
                          <Table.Td>{e.message}</Table.Td>
                          <Table.Td>
                            {e.raw ? (
                              <Code fz="xs" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                                {Object.entries(e.raw)
                                  .map(([k, v]) => `${k}: ${v}`)
                                  .join(' · ')}
                              </Code>
                            ) : (
                              '—'
                            )}
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
                <Pager info={errors.data?.pagination} noun="errors" onChange={setPage} />
              </Stack>
            )}
            {errors.error && (
              <Alert color="red" role="alert">
                Could not load the row errors.
              </Alert>
            )}
          </Stack>
        )}
      </QueryState>
    </Page>
  );
}

function Stat({ label, value, color }: { label: string; value: number | null; color?: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="xl" fw={600} c={color}>
        {formatNumber(value)}
      </Text>
    </Stack>
  );
}
