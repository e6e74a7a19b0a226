import { Anchor, Button, Group, Loader, Table, Text, VisuallyHidden } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { notifyDone, notifyError } from '../../api/audience';
import { del, get } from '../../api/client';
import type { Data, Paged, Segment } from '../../api/types';
import { useSession } from '../../auth/session';
import { ConfirmButton } from '../../components/ConfirmButton';
import { EditButton } from '../../components/EditGuard';
import { formatDate } from '../../components/format';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';
import { EmptyRow } from '../../components/EmptyRow';

function SegmentCount({ id }: { id: number }) {
  const count = useQuery({ queryKey: ['segment', id, 'count'], queryFn: () => get<Data<{ count: number }>>(`/segments/${id}/count`) });
  if (count.isLoading) return <Loader size="xs" aria-label="Counting" />;
  if (count.error) return <Text size="sm" c="red">error</Text>;
  return <>{count.data?.data.count.toLocaleString()}</>;
}

/** Segments: saved rule sets, with how many contacts each matches now. */
export function SegmentsPage() {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const segments = useQuery({ queryKey: ['segments', page], queryFn: () => get<Paged<Segment>>('/segments', { page, limit: 50 }), placeholderData: keepPreviousData });
  const remove = useMutation({
    mutationFn: (s: Segment) => del(`/segments/${s.id}`),
    onSuccess: async (_r, s) => {
      notifyDone(`Deleted segment ${s.name}.`);
      await queryClient.invalidateQueries({ queryKey: ['segments'] });
    },
    onError: notifyError('Could not delete the segment'),
  });

  return (
    <Page
      title="Segments"
      actions={
        canEdit ? (
          <Button component={Link} to="/segments/new">
            New segment
          </Button>
        ) : (
          <EditButton>New segment</EditButton>
        )
      }
    >
      <Text size="sm" c="dimmed">
        A segment is a set of rules (“in France and opened an email in the last 30 days”). Its contacts are worked out when it is used,
        so it follows your audience as it changes.
      </Text>
      <QueryState isLoading={segments.isLoading} error={segments.error}>
        <Table.ScrollContainer minWidth={520}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Contacts now</Table.Th>
                <Table.Th>Updated</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(segments.data?.data ?? []).map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/segments/${s.id}`} fw={500}>
                      {s.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <SegmentCount id={s.id} />
                  </Table.Td>
                  <Table.Td>{formatDate(s.updatedAt)}</Table.Td>
                  <Table.Td>
                    <Group justify="flex-end">
                      <ConfirmButton
                        size="xs"
                        variant="subtle"
                        aria-label={`Delete segment ${s.name}`}
                        title={`Delete segment “${s.name}”?`}
                        message="Its contacts are not touched. A segment used by an unfinished campaign cannot be deleted."
                        confirmLabel="Delete segment"
                        onConfirm={() => remove.mutateAsync(s)}
                      >
                        Delete
                      </ConfirmButton>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
              {segments.data?.data.length === 0 && (
                <EmptyRow colSpan={4}>No segments yet.</EmptyRow>
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Pager info={segments.data?.pagination} noun="segments" onChange={setPage} />
      </QueryState>
    </Page>
  );
}
