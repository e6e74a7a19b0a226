import { Anchor, Button, Group, Modal, Table, Text, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { del, errorMessage, get } from '../../api/client';
import type { Paged, Template } from '../../api/messages';
import { useSession } from '../../auth/session';
import { EditGuard } from '../../components/EditGuard';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';

/** Every template of the site, newest edits visible at a glance; create, open, delete. */
export function TemplatesPage() {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const [deleting, setDeleting] = useState<Template | null>(null);
  const query = useQuery({
    queryKey: ['templates', 'list', page],
    queryFn: ({ signal }) => get<Paged<Template>>('/templates', { page, limit: 25 }, signal),
    placeholderData: keepPreviousData,
  });
  const remove = useMutation({
    mutationFn: (t: Template) => del(`/templates/${t.id}`),
    onSuccess: (_r, t) => {
      notifications.show({ color: 'green', message: `Template “${t.name}” deleted` });
      setDeleting(null);
      void queryClient.invalidateQueries({ queryKey: ['templates'] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not delete', message: errorMessage(err) }),
  });

  return (
    <Page
      title="Templates"
      actions={
        <EditGuard>
          <Button onClick={() => navigate('/templates/new')} disabled={!canEdit}>
            New template
          </Button>
        </EditGuard>
      }
    >
      <QueryState isLoading={query.isLoading} error={query.error}>
        {query.data && query.data.data.length === 0 ? (
          <Text c="dimmed">No templates yet. A template is a subject and a body in Liquid, reused by campaigns, sequences and transactional sends.</Text>
        ) : (
          <Table.ScrollContainer minWidth={560}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Subject</Table.Th>
                  <Table.Th>Updated</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {query.data?.data.map((t) => (
                  <Table.Tr key={t.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/templates/${t.id}`}>
                        {t.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" lineClamp={1} ff="monospace">
                        {t.subject}
                      </Text>
                    </Table.Td>
                    <Table.Td>{new Date(t.updatedAt).toLocaleString()}</Table.Td>
                    <Table.Td>
                      <Group gap="xs" justify="flex-end" wrap="nowrap">
                        <Button size="xs" variant="default" component={Link} to={`/templates/${t.id}`}>
                          {canEdit ? 'Edit' : 'View'}
                        </Button>
                        <EditGuard>
                          <Button size="xs" color="red" variant="light" disabled={!canEdit} onClick={() => setDeleting(t)} aria-label={`Delete template ${t.name}`}>
                            Delete
                          </Button>
                        </EditGuard>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {query.data && <Pager page={page} totalPages={query.data.pagination.totalPages} total={query.data.pagination.total} onChange={setPage} />}
      </QueryState>

      <Modal opened={deleting !== null} onClose={() => setDeleting(null)} title="Delete template?">
        <Text mb="md">
          “{deleting?.name}” will be gone. Emails already sent keep their content; campaigns or steps that still use it will fail to send.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setDeleting(null)}>
            Keep it
          </Button>
          <Button color="red" loading={remove.isPending} onClick={() => deleting && remove.mutate(deleting)}>
            Delete
          </Button>
        </Group>
      </Modal>
    </Page>
  );
}
