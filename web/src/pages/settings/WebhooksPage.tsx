import { Anchor, Badge, Button, Group, Modal, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { del, errorMessage, get } from '../../api/client';
import { useSession } from '../../auth/session';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable } from '../../components/DataTable';
import { Page, QueryState } from '../../components/Page';
import { Pager, type Paged } from '../../components/Pager';
import { RoleNotice } from '../../components/RoleNotice';
import type { WebhookEndpoint } from './types';
import { WebhookForm } from './WebhookForm';

/** Outgoing webhooks: where Tidings posts email and contact events. Each endpoint has its delivery log. */
export function WebhooksPage() {
  const { isOwner, session } = useSession();
  const client = useQueryClient();
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<WebhookEndpoint | 'new' | null>(null);
  const endpoints = useQuery({ queryKey: ['webhook-endpoints', 'list', page], queryFn: () => get<Paged<WebhookEndpoint>>('/webhook-endpoints', { page, limit: 50 }) });
  const remove = useMutation({
    mutationFn: (id: number) => del(`/webhook-endpoints/${id}`),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: 'Endpoint deleted' });
      void client.invalidateQueries({ queryKey: ['webhook-endpoints'] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not delete', message: errorMessage(err) }),
  });

  return (
    <Page title="Webhooks" actions={isOwner && <Button onClick={() => setEditing('new')}>Add endpoint</Button>}>
      <Text c="dimmed" size="sm">
        Tidings posts signed JSON to these URLs when email is delivered, opened, clicked, bounces, or a contact unsubscribes, and retries until the receiver answers 2xx.
      </Text>
      <RoleNotice role={session?.user.role} needs="owner" what="webhook endpoints" />
      <QueryState isLoading={endpoints.isLoading} error={endpoints.error}>
        {endpoints.data?.data.length === 0 ? (
          <Text c="dimmed">No webhook endpoints yet.</Text>
        ) : (
          <DataTable
            label="Webhook endpoints"
            rows={endpoints.data?.data ?? []}
            rowKey={(e) => e.id}
            minWidth={720}
            columns={[
              {
                header: 'URL',
                cell: (e) => (
                  <>
                    <Anchor component={Link} to={`/webhooks/${e.id}`} size="sm" style={{ overflowWrap: 'anywhere' }}>
                      {e.url}
                    </Anchor>
                    {e.description && (
                      <Text size="xs" c="dimmed">
                        {e.description}
                      </Text>
                    )}
                  </>
                ),
              },
              {
                header: 'Events',
                cell: (e) =>
                  e.events.length === 0 ? (
                    <Text size="sm">All events</Text>
                  ) : (
                    <Group gap={4}>
                      {e.events.map((t) => (
                        <Badge key={t} variant="outline" color="gray" size="sm" tt="none">
                          {t}
                        </Badge>
                      ))}
                    </Group>
                  ),
              },
              {
                header: 'Status',
                cell: (e) => (
                  <Badge color={e.enabled ? 'teal' : 'gray'} variant="light">
                    {e.enabled ? 'Enabled' : 'Disabled'}
                  </Badge>
                ),
              },
              {
                header: 'Actions',
                hideHeader: true,
                cell: (e) => (
                  <Group gap={4} justify="flex-end" wrap="nowrap">
                    <Button size="xs" variant="light" component={Link} to={`/webhooks/${e.id}`} aria-label={`Delivery log of ${e.url}`}>
                      Deliveries
                    </Button>
                    {isOwner && (
                      <>
                        <Button size="xs" variant="subtle" onClick={() => setEditing(e)} aria-label={`Edit ${e.url}`}>
                          Edit
                        </Button>
                        <ConfirmButton
                          aria-label={`Delete ${e.url}`}
                          title="Delete this endpoint?"
                          message={`${e.url} gets no more events, and its delivery log is deleted with it.`}
                          confirmLabel="Delete"
                          onConfirm={() => remove.mutateAsync(e.id)}
                        >
                          Delete
                        </ConfirmButton>
                      </>
                    )}
                  </Group>
                ),
              },
            ]}
          />
        )}
        {endpoints.data && <Pager {...endpoints.data.pagination} onChange={setPage} label="Endpoint pages" />}
      </QueryState>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? 'Add a webhook endpoint' : 'Edit webhook endpoint'} size="lg" closeOnClickOutside={false}>
        {editing !== null && <WebhookForm initial={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
      </Modal>
    </Page>
  );
}
