import { Anchor, Group, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { AUDIENCE_KEYS, notifyDone, notifyError } from '../api/audience';
import { api, get } from '../api/client';
import type { Contact, Data, List, Paged } from '../api/types';
import { ContactStatusBadge } from '../components/ContactStatusBadge';
import { EditButton } from '../components/EditGuard';
import { formatDate, fullName } from '../components/format';
import { Page, QueryState } from '../components/Page';
import { Pager } from '../components/Pager';
import { EmptyRow } from '../components/EmptyRow';

/** One list: its description and its members (contacts filtered by list), each removable. */
export function ListPage() {
  const id = Number(useParams().id);
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const list = useQuery({ queryKey: ['lists', 'one', id], queryFn: () => get<Data<List>>(`/lists/${id}`) });
  const members = useQuery({
    queryKey: ['contacts', { listId: String(id), page }],
    queryFn: () => get<Paged<Contact>>('/contacts', { listId: id, page, limit: 50 }),
    placeholderData: keepPreviousData,
  });
  const remove = useMutation({
    mutationFn: (c: Contact) => api('DELETE', `/lists/${id}/contacts`, { contactId: c.id }),
    onSuccess: async (_r, c) => {
      notifyDone(`Removed ${c.email} from the list.`);
      await Promise.all(AUDIENCE_KEYS.map((queryKey) => queryClient.invalidateQueries({ queryKey: [...queryKey] })));
    },
    onError: notifyError('Could not remove the contact'),
  });
  const l = list.data?.data;

  return (
    <Page
      title={l ? l.name : 'List'}
      actions={
        <Anchor component={Link} to={`/contacts?listId=${id}`} size="sm">
          Open in Contacts (filters, export, bulk actions)
        </Anchor>
      }
    >
      <Anchor component={Link} to="/lists" size="sm">
        ← All lists
      </Anchor>
      <QueryState isLoading={list.isLoading} error={list.error}>
        <Stack gap={4}>
          {l?.description && <Text size="sm">{l.description}</Text>}
          <Text size="sm" c="dimmed">
            {l?.memberCount.toLocaleString()} members
          </Text>
        </Stack>
      </QueryState>
      <QueryState isLoading={members.isLoading} error={members.error}>
        <Table.ScrollContainer minWidth={560}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Email</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Added</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(members.data?.data ?? []).map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/contacts/${c.id}`} size="sm">
                      {c.email}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{fullName(c) ?? '—'}</Table.Td>
                  <Table.Td>
                    <ContactStatusBadge status={c.status} />
                  </Table.Td>
                  <Table.Td>{formatDate(c.createdAt)}</Table.Td>
                  <Table.Td>
                    <Group justify="flex-end">
                      <EditButton size="xs" variant="subtle" color="red" aria-label={`Remove ${c.email} from the list`} onClick={() => remove.mutate(c)}>
                        Remove
                      </EditButton>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
              {members.data?.data.length === 0 && (
                <EmptyRow colSpan={5}>No members. Add contacts from the Contacts page (select them, then “Add to list”), a contact’s page, or an import.</EmptyRow>
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Pager info={members.data?.pagination} noun="members" onChange={setPage} />
      </QueryState>
    </Page>
  );
}
