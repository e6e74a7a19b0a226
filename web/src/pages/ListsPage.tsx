import { Anchor, Group, Table, Text, VisuallyHidden } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { notifyDone, notifyError } from '../api/audience';
import { del, get, patch, post } from '../api/client';
import type { Data, List, Paged } from '../api/types';
import { ConfirmButton } from '../components/ConfirmButton';
import { EditButton } from '../components/EditGuard';
import { formatDate, formatNumber } from '../components/format';
import { NameModal } from '../components/NameModal';
import { Page, QueryState } from '../components/Page';
import { Pager } from '../components/Pager';
import { EmptyRow } from '../components/EmptyRow';

/** Lists with member counts: create, rename, delete; a list's name opens its members. */
export function ListsPage() {
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<List | 'new' | null>(null);
  const lists = useQuery({ queryKey: ['lists', page], queryFn: () => get<Paged<List>>('/lists', { page, limit: 50 }), placeholderData: keepPreviousData });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['lists'] });

  const save = useMutation({
    mutationFn: (v: { name: string; description: string | null }) =>
      editing === 'new' ? post<Data<List>>('/lists', v) : patch<Data<List>>(`/lists/${(editing as List).id}`, v),
    onSuccess: async ({ data }) => {
      notifyDone(editing === 'new' ? `Created list ${data.name}.` : `Saved list ${data.name}.`);
      setEditing(null);
      await refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (list: List) => del(`/lists/${list.id}`),
    onSuccess: async (_r, list) => {
      notifyDone(`Deleted list ${list.name}.`);
      await refresh();
    },
    onError: notifyError('Could not delete the list'),
  });

  return (
    <Page title="Lists" actions={<EditButton onClick={() => { save.reset(); setEditing('new'); }}>New list</EditButton>}>
      <QueryState isLoading={lists.isLoading} error={lists.error}>
        <Table.ScrollContainer minWidth={560}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Members</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(lists.data?.data ?? []).map((list) => (
                <Table.Tr key={list.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/lists/${list.id}`} fw={500}>
                      {list.name}
                    </Anchor>
                    {list.description && (
                      <Text size="xs" c="dimmed" lineClamp={1}>
                        {list.description}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{formatNumber(list.memberCount)}</Table.Td>
                  <Table.Td>{formatDate(list.createdAt)}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" justify="flex-end" wrap="nowrap">
                      <EditButton size="xs" variant="default" onClick={() => { save.reset(); setEditing(list); }} aria-label={`Rename ${list.name}`}>
                        Rename
                      </EditButton>
                      <ConfirmButton
                        size="xs"
                        variant="subtle"
                        aria-label={`Delete ${list.name}`}
                        title={`Delete list “${list.name}”?`}
                        message={`The list is deleted; its ${list.memberCount.toLocaleString()} contacts stay. Campaigns and segments that use it may stop matching them.`}
                        confirmLabel="Delete list"
                        onConfirm={() => remove.mutateAsync(list)}
                      >
                        Delete
                      </ConfirmButton>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
              {lists.data?.data.length === 0 && (
                <EmptyRow colSpan={4}>No lists yet. A list is a group contacts join or leave, e.g. “Newsletter”.</EmptyRow>
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Pager info={lists.data?.pagination} noun="lists" onChange={setPage} />
      </QueryState>
      <NameModal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === 'new' ? 'New list' : 'Rename list'}
        submitLabel={editing === 'new' ? 'Create list' : 'Save'}
        initial={editing && editing !== 'new' ? editing : undefined}
        withDescription
        busy={save.isPending}
        error={save.error}
        onSubmit={(v) => save.mutate(v)}
      />
    </Page>
  );
}
