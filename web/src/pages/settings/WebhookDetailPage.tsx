import { Accordion, Anchor, Badge, Button, Card, Code, Group, Modal, SegmentedControl, Stack, Table, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { errorMessage, get, post } from '../../api/client';
import { useSession } from '../../auth/session';
import { ConfirmButton } from '../../components/ConfirmButton';
import { formatDateTime } from '../../components/format';
import { Page, QueryState } from '../../components/Page';
import { Pager, type Paged } from '../../components/Pager';
import type { WebhookDelivery, WebhookEndpoint } from './types';
import { SecretOnce, WebhookForm } from './WebhookForm';

const STATUS_COLOR = { pending: 'yellow', succeeded: 'teal', failed: 'red' } as const;

/** One endpoint: its settings, a test event, secret rotation, and the delivery log with every attempt. */
export function WebhookDetailPage() {
  const { id } = useParams();
  const { isOwner } = useSession();
  const client = useQueryClient();
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState('all');
  const [editing, setEditing] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const endpoint = useQuery({ queryKey: ['webhook-endpoints', Number(id)], queryFn: () => get<{ data: WebhookEndpoint }>(`/webhook-endpoints/${id}`) });
  const deliveries = useQuery({
    queryKey: ['webhook-endpoints', Number(id), 'deliveries', status, page],
    queryFn: () => get<Paged<WebhookDelivery>>(`/webhook-endpoints/${id}/deliveries`, { page, limit: 25, status: status === 'all' ? undefined : status }),
    placeholderData: keepPreviousData,
    // Retries land in the log while one watches.
    refetchInterval: 10_000,
  });
  const test = useMutation({
    mutationFn: () => post<{ data: WebhookDelivery }>(`/webhook-endpoints/${id}/test`),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: 'Test event queued: it appears in the delivery log below' });
      void client.invalidateQueries({ queryKey: ['webhook-endpoints', Number(id), 'deliveries'] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not send a test event', message: errorMessage(err) }),
  });
  const rotate = useMutation({
    mutationFn: () => post<{ data: WebhookEndpoint }>(`/webhook-endpoints/${id}/rotate-secret`),
    onSuccess: ({ data }) => {
      setSecret(data.secret);
      void client.invalidateQueries({ queryKey: ['webhook-endpoints'] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not rotate the secret', message: errorMessage(err) }),
  });
  const e = endpoint.data?.data;

  return (
    <Page
      title="Webhook endpoint"
      actions={
        <Anchor component={Link} to="/webhooks" size="sm">
          ← Webhooks
        </Anchor>
      }
    >
      <QueryState isLoading={endpoint.isLoading} error={endpoint.error}>
        {e && (
          <Card withBorder>
            <Stack gap="xs">
              <Text fw={600} style={{ overflowWrap: 'anywhere' }}>
                {e.url}
              </Text>
              {e.description && <Text size="sm">{e.description}</Text>}
              <Group gap="xs">
                <Badge color={e.enabled ? 'teal' : 'gray'} variant="light">
                  {e.enabled ? 'Enabled' : 'Disabled'}
                </Badge>
                <Text size="sm" c="dimmed">
                  {e.events.length === 0 ? 'All events' : e.events.join(', ')}
                </Text>
              </Group>
              <Text size="sm">
                Signing secret <Code>{e.secret}</Code>
              </Text>
              {isOwner && (
                <Group gap="xs" mt="xs">
                  <Button size="xs" onClick={() => test.mutate()} loading={test.isPending} disabled={!e.enabled} title={e.enabled ? undefined : 'Enable the endpoint first'}>
                    Send test event
                  </Button>
                  <Button size="xs" variant="default" onClick={() => setEditing(true)}>
                    Edit
                  </Button>
                  <ConfirmButton
                    color="orange"
                    variant="default"
                    title="Rotate the signing secret?"
                    message="The current secret stops working at once: update your receiver with the new one, which is shown once."
                    confirmLabel="Rotate secret"
                    onConfirm={() => rotate.mutateAsync()}
                  >
                    Rotate secret
                  </ConfirmButton>
                </Group>
              )}
            </Stack>
          </Card>
        )}
      </QueryState>

      <Group justify="space-between" mt="sm">
        <Text fw={600} component="h3" m={0}>
          Delivery log
        </Text>
        <SegmentedControl
          size="xs"
          aria-label="Delivery status"
          value={status}
          onChange={(v) => {
            setStatus(v);
            setPage(1);
          }}
          data={[
            { value: 'all', label: 'All' },
            { value: 'pending', label: 'Retrying' },
            { value: 'succeeded', label: 'Succeeded' },
            { value: 'failed', label: 'Failed' },
          ]}
        />
      </Group>
      <QueryState isLoading={deliveries.isLoading} error={deliveries.error}>
        {deliveries.data?.data.length === 0 ? (
          <Text c="dimmed">No deliveries{status === 'all' ? ' yet' : ' with this status'}.</Text>
        ) : (
          <Accordion variant="separated" multiple chevronPosition="left">
            {deliveries.data?.data.map((d) => (
              <Accordion.Item key={d.id} value={String(d.id)}>
                <Accordion.Control aria-label={`Delivery ${d.id}: ${d.eventType}, ${d.status}`}>
                  <Group gap="sm" wrap="wrap">
                    <Badge color={STATUS_COLOR[d.status]} variant="light">
                      {d.status === 'pending' ? 'retrying' : d.status}
                    </Badge>
                    <Text size="sm" fw={500}>
                      {d.eventType}
                    </Text>
                    <Text size="sm" c="dimmed">
                      {formatDateTime(d.createdAt)} · {d.attemptCount} attempt{d.attemptCount === 1 ? '' : 's'}
                      {d.lastStatusCode !== null ? ` · HTTP ${d.lastStatusCode}` : ''}
                    </Text>
                  </Group>
                </Accordion.Control>
                <Accordion.Panel>
                  <Stack gap="sm">
                    {d.lastError && (
                      <Text size="sm" c="red">
                        {d.lastError}
                      </Text>
                    )}
                    <Table.ScrollContainer minWidth={520}>
                      <Table aria-label={`Attempts of delivery ${d.id}`}>
                        <Table.Thead>
                          <Table.Tr>
                            <Table.Th scope="col">Attempt</Table.Th>
                            <Table.Th scope="col">When</Table.Th>
                            <Table.Th scope="col">Response</Table.Th>
                            <Table.Th scope="col">Took</Table.Th>
                          </Table.Tr>
                        </Table.Thead>
                        <Table.Tbody>
                          {d.attempts.map((a) => (
                            <Table.Tr key={a.attempt}>
                              <Table.Td>{a.attempt}</Table.Td>
                              <Table.Td>{formatDateTime(a.createdAt)}</Table.Td>
                              <Table.Td style={{ overflowWrap: 'anywhere' }}>{a.statusCode !== null ? `HTTP ${a.statusCode}` : a.error ?? 'No answer'}</Table.Td>
                              <Table.Td>{a.durationMs} ms</Table.Td>
                            </Table.Tr>
                          ))}
                        </Table.Tbody>
                      </Table>
                    </Table.ScrollContainer>
                    <Text size="xs" c="dimmed">
                      Payload (webhook-id {d.messageId})
                    </Text>
                    <Code block style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                      {JSON.stringify(d.payload, null, 2)}
                    </Code>
                  </Stack>
                </Accordion.Panel>
              </Accordion.Item>
            ))}
          </Accordion>
        )}
        {deliveries.data && <Pager {...deliveries.data.pagination} onChange={setPage} label="Delivery pages" />}
      </QueryState>

      <Modal opened={editing} onClose={() => setEditing(false)} title="Edit webhook endpoint" size="lg">
        {editing && e && <WebhookForm initial={e} onClose={() => setEditing(false)} />}
      </Modal>
      <Modal opened={secret !== null} onClose={() => setSecret(null)} title="New signing secret" closeOnClickOutside={false}>
        {secret && <SecretOnce secret={secret} onDone={() => setSecret(null)} />}
      </Modal>
    </Page>
  );
}
