import { Anchor, Group, Table, Text, VisuallyHidden } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { AUDIENCE_KEYS, notifyDone, notifyError } from '../api/audience';
import { del, get, post } from '../api/client';
import type { Data, Paged, Tag } from '../api/types';
import { ConfirmButton } from '../components/ConfirmButton';
import { EditButton } from '../components/EditGuard';
import { formatDate, formatNumber } from '../components/format';
import { NameModal } from '../components/NameModal';
import { Page, QueryState } from '../components/Page';
import { Pager } from '../components/Pager';
import { EmptyRow } from '../components/EmptyRow';

/**
 * Tags with contact counts: create and delete. There is no rename: segments and sequence triggers
 * name tags, so the API keeps a tag's name fixed (create the new one and retag instead).
 */
export function TagsPage() {
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const tags = useQuery({ queryKey: ['tags', page], queryFn: () => get<Paged<Tag>>('/tags', { page, limit: 100 }), placeholderData: keepPreviousData });
  const refresh = () => Promise.all(AUDIENCE_KEYS.map((queryKey) => queryClient.invalidateQueries({ queryKey: [...queryKey] })));

  const create = useMutation({
    mutationFn: (name: string) => post<Data<Tag>>('/tags', { name }),
    onSuccess: async ({ data }) => {
      notifyDone(`Created tag ${data.name}.`);
      setCreating(false);
      await refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (tag: Tag) => del(`/tags/${tag.id}`),
    onSuccess: async (_r, tag) => {
      notifyDone(`Deleted tag ${tag.name}.`);
      await refresh();
    },
    onError: notifyError('Could not delete the tag'),
  });

  return (
    <Page title="Tags" actions={<EditButton onClick={() => { create.reset(); setCreating(true); }}>New tag</EditButton>}>
      <Text size="sm" c="dimmed">
        Tags are labels on contacts (“vip”, “trial”). Segments and sequence triggers refer to tags by name, so a tag cannot be renamed.
      </Text>
      <QueryState isLoading={tags.isLoading} error={tags.error}>
        <Table.ScrollContainer minWidth={480}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Tag</Table.Th>
                <Table.Th>Contacts</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(tags.data?.data ?? []).map((tag) => (
                <Table.Tr key={tag.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/contacts?tagId=${tag.id}`} fw={500}>
                      {tag.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{formatNumber(tag.contactCount)}</Table.Td>
                  <Table.Td>{formatDate(tag.createdAt)}</Table.Td>
                  <Table.Td>
                    <Group justify="flex-end">
                      <ConfirmButton
                        size="xs"
                        variant="subtle"
                        aria-label={`Delete tag ${tag.name}`}
                        title={`Delete tag “${tag.name}”?`}
                        message={`It is removed from ${tag.contactCount.toLocaleString()} contacts. Segments that test this tag stop matching them.`}
                        confirmLabel="Delete tag"
                        onConfirm={() => remove.mutateAsync(tag)}
                      >
                        Delete
                      </ConfirmButton>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
              {tags.data?.data.length === 0 && (
                <EmptyRow colSpan={4}>No tags yet.</EmptyRow>
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Pager info={tags.data?.pagination} noun="tags" onChange={setPage} />
      </QueryState>
      <NameModal opened={creating} onClose={() => setCreating(false)} title="New tag" submitLabel="Create tag" busy={create.isPending} error={create.error} onSubmit={(v) => create.mutate(v.name)} />
    </Page>
  );
}
