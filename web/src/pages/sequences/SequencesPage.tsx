import { Anchor, Button, Group, Modal, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { errorMessage, get, post } from '../../api/client';
import type { One, Paged, Sequence } from '../../api/messages';
import { useSendingConfigs } from '../../api/options';
import { useSession } from '../../auth/session';
import { EditGuard } from '../../components/EditGuard';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';
import { StatusBadge } from '../../components/StatusBadge';

export function triggerLabel(s: Pick<Sequence, 'trigger'>): string {
  switch (s.trigger.type) {
    case 'manual':
      return 'Manual (API or dashboard)';
    case 'list_add':
      return `Added to list #${s.trigger.listId}`;
    case 'tag_add':
      return `Tagged with tag #${s.trigger.tagId}`;
    case 'event':
      return `Event “${s.trigger.name}”`;
  }
}

/** Sequences (automated journeys): list and create. */
export function SequencesPage() {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const configs = useSendingConfigs();
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [configId, setConfigId] = useState<string | null>(null);
  const query = useQuery({
    queryKey: ['sequences', 'list', page],
    queryFn: ({ signal }) => get<Paged<Sequence>>('/sequences', { page, limit: 25 }, signal),
    placeholderData: keepPreviousData,
  });
  const create = useMutation({
    mutationFn: () => post<One<Sequence>>('/sequences', { name, sendingConfigId: Number(configId ?? configs.data?.data[0]?.id) }),
    onSuccess: ({ data }) => {
      void queryClient.invalidateQueries({ queryKey: ['sequences'] });
      notifications.show({ color: 'green', message: `Sequence “${data.name}” created; add its steps` });
      navigate(`/sequences/${data.id}`);
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not create the sequence', message: errorMessage(err) }),
  });
  return (
    <Page
      title="Sequences"
      actions={
        <EditGuard>
          <Button disabled={!canEdit} onClick={() => setCreating(true)}>
            New sequence
          </Button>
        </EditGuard>
      }
    >
      <QueryState isLoading={query.isLoading} error={query.error}>
        {query.data && query.data.data.length === 0 ? (
          <Text c="dimmed">No sequences yet. A sequence sends a series of emails, with delays and conditions, to each contact enrolled in it.</Text>
        ) : (
          <Table.ScrollContainer minWidth={560}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Trigger</Table.Th>
                  <Table.Th>Steps</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {query.data?.data.map((s) => (
                  <Table.Tr key={s.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/sequences/${s.id}`}>
                        {s.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={s.status} />
                    </Table.Td>
                    <Table.Td>{triggerLabel(s)}</Table.Td>
                    <Table.Td>{s.steps?.length ?? '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {query.data && <Pager page={page} totalPages={query.data.pagination.totalPages} total={query.data.pagination.total} onChange={setPage} />}
      </QueryState>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New sequence">
        <Stack>
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus />
          <Select
            label="Send with"
            required
            data={(configs.data?.data ?? []).map((c) => ({ value: String(c.id), label: `${c.name} (${c.fromEmail})` }))}
            value={configId ?? (configs.data?.data[0] ? String(configs.data.data[0].id) : null)}
            onChange={setConfigId}
            allowDeselect={false}
          />
          <Text size="sm" c="dimmed">
            It starts active with a manual trigger; set the trigger and options on its page.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setCreating(false)}>
              Close
            </Button>
            <Button loading={create.isPending} disabled={!name.trim() || !configs.data?.data.length} onClick={() => create.mutate()}>
              Create
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Page>
  );
}
