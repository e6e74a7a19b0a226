import { Anchor, Badge, Card, Code, Group, SimpleGrid, Stack, Table, Tabs, Text, Timeline, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { get } from '../../api/client';
import { EmailFrame } from '../../components/EmailFrame';
import { Page, QueryState } from '../../components/Page';
import { formatDateTime } from '../../components/format';
import type { SendingConfig } from '../settings/types';
import { KIND_LABEL, STATUS_COLOR, STATUS_LABEL, type Send } from './types';

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase" component="dt">
        {label}
      </Text>
      <Text size="sm" component="dd" m={0} style={{ overflowWrap: 'anywhere' }}>
        {children}
      </Text>
    </div>
  );
}

const EVENT_LABEL: Record<string, string> = {
  sent: 'Accepted by the provider',
  delivered: 'Delivered',
  delivery_delayed: 'Delivery delayed',
  bounced: 'Bounced',
  complained: 'Marked as spam',
  opened: 'Opened',
  clicked: 'Clicked',
  failed: 'Failed',
  unsubscribed: 'Unsubscribed',
};

/** What an event's data says in one line (the clicked link, the bounce reason). */
function eventDetail(data: Record<string, unknown>): string | null {
  for (const key of ['url', 'reason', 'message', 'error', 'bounceType', 'userAgent']) {
    const value = data[key];
    if (typeof value === 'string' && value) return value;
  }
  return null;
}

/** One send: where it went, what happened to it, and the message exactly as it was rendered. */
export function SendDetailPage() {
  const { id } = useParams();
  const send = useQuery({
    queryKey: ['sends', Number(id)],
    queryFn: () => get<{ data: Send }>(`/sends/${id}`),
    // A queued send is about to change; after that, delivery events trickle in.
    refetchInterval: (q) => (q.state.data?.data.status === 'queued' ? 2_000 : 30_000),
  });
  const configId = send.data?.data.sendingConfigId;
  const config = useQuery({
    queryKey: ['sending-configs', configId],
    queryFn: () => get<{ data: SendingConfig }>(`/sending-configs/${configId}`),
    enabled: configId !== undefined,
  });
  const s = send.data?.data;
  const from = config.data?.data;

  return (
    <Page
      title={s ? s.subject || '(no subject)' : `Send ${id}`}
      actions={
        <Anchor component={Link} to="/sends" size="sm">
          ← Send log
        </Anchor>
      }
    >
      <QueryState isLoading={send.isLoading} error={send.error}>
        {s && (
          <Stack gap="md">
            <Card withBorder>
              <Stack gap="sm">
                <Group gap="xs">
                  <Badge color={STATUS_COLOR[s.status]} variant="light" size="lg">
                    {STATUS_LABEL[s.status]}
                  </Badge>
                  <Badge color="gray" variant="outline">
                    {KIND_LABEL[s.kind]}
                  </Badge>
                </Group>
                {s.error && (
                  <Text c="red" size="sm" role="status">
                    {s.error}
                  </Text>
                )}
                <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing="sm" component="dl" m={0}>
                  <Field label="To">
                    {s.contactId ? (
                      <Anchor component={Link} to={`/contacts/${s.contactId}`}>
                        {s.toEmail}
                      </Anchor>
                    ) : (
                      s.toEmail
                    )}
                  </Field>
                  <Field label="From">
                    {from ? `${from.fromName ? `${from.fromName} <${from.fromEmail}>` : from.fromEmail} (${from.name})` : `Sending config ${s.sendingConfigId}`}
                  </Field>
                  <Field label="Subject">{s.subject || '(no subject)'}</Field>
                  {s.replyTo && <Field label="Reply-to">{s.replyTo}</Field>}
                  {s.cc && s.cc.length > 0 && <Field label="Cc">{s.cc.join(', ')}</Field>}
                  {s.bcc && s.bcc.length > 0 && <Field label="Bcc">{s.bcc.join(', ')}</Field>}
                  <Field label="Created">{formatDateTime(s.createdAt)}</Field>
                  <Field label="Accepted by the provider">{formatDateTime(s.sentAt)}</Field>
                  <Field label="Delivery attempts">{s.attempts}</Field>
                  {s.campaignId && (
                    <Field label="Campaign">
                      <Anchor component={Link} to={`/campaigns/${s.campaignId}`}>
                        Campaign {s.campaignId}
                      </Anchor>
                    </Field>
                  )}
                  {s.sequenceId && (
                    <Field label="Sequence">
                      <Anchor component={Link} to={`/sequences/${s.sequenceId}`}>
                        Sequence {s.sequenceId}
                      </Anchor>
                      {s.stepId ? `, step ${s.stepId}` : ''}
                    </Field>
                  )}
                  {s.providerMessageId && (
                    <Field label="Provider message id">
                      <Code>{s.providerMessageId}</Code>
                    </Field>
                  )}
                </SimpleGrid>
              </Stack>
            </Card>

            <Card withBorder>
              <Title order={3} size="h5" mb="sm">
                What happened
              </Title>
              <Timeline bulletSize={14} lineWidth={2} active={99} aria-label="Events of this send">
                <Timeline.Item title="Created">
                  <Text size="xs" c="dimmed">
                    {formatDateTime(s.createdAt)}
                  </Text>
                </Timeline.Item>
                {s.sentAt && !s.events.some((e) => e.type === 'sent') && (
                  <Timeline.Item title={EVENT_LABEL.sent}>
                    <Text size="xs" c="dimmed">
                      {formatDateTime(s.sentAt)}
                    </Text>
                  </Timeline.Item>
                )}
                {s.status === 'failed' && !s.events.some((e) => e.type === 'failed') && (
                  <Timeline.Item title={`Failed after ${s.attempts} attempt${s.attempts === 1 ? '' : 's'}`} color="red">
                    {s.error && <Text size="sm">{s.error}</Text>}
                    <Text size="xs" c="dimmed">
                      {formatDateTime(s.updatedAt)}
                    </Text>
                  </Timeline.Item>
                )}
                {s.status === 'suppressed' && (
                  <Timeline.Item title="Not sent: the address is suppressed" color="grape">
                    <Text size="xs" c="dimmed">
                      {formatDateTime(s.updatedAt)}
                    </Text>
                  </Timeline.Item>
                )}
                {s.events.map((e) => {
                  const detail = eventDetail(e.data);
                  return (
                    <Timeline.Item key={e.id} title={EVENT_LABEL[e.type] ?? e.type} color={['bounced', 'complained', 'failed'].includes(e.type) ? 'red' : undefined}>
                      {detail && (
                        <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
                          {detail}
                        </Text>
                      )}
                      <Text size="xs" c="dimmed">
                        {formatDateTime(e.occurredAt)}
                      </Text>
                    </Timeline.Item>
                  );
                })}
              </Timeline>
              {s.events.length === 0 && (
                <Text size="sm" c="dimmed" mt="xs">
                  {s.status === 'queued' ? 'Waiting to be sent.' : s.status === 'sent' ? 'No delivery report from the provider yet.' : null}
                </Text>
              )}
            </Card>

            <Card withBorder>
              <Title order={3} size="h5" mb="sm">
                Message
              </Title>
              {s.html === null || s.text === null ? (
                <Text size="sm" c="dimmed">
                  The message body is no longer kept: sends past the retention period keep their subject, status and events.
                </Text>
              ) : (
                <MessageTabs html={s.html} text={s.text} subject={s.subject} headers={s.headers} />
              )}
            </Card>
          </Stack>
        )}
      </QueryState>
    </Page>
  );
}

/** The message as sent: its HTML (tracking taken out, see EmailFrame), plain text and extra headers. */
function MessageTabs({ html, text, subject, headers }: { html: string; text: string; subject: string; headers: Record<string, string> | null }) {
  return (
    <Tabs defaultValue="html" keepMounted={false}>
      <Tabs.List>
        <Tabs.Tab value="html">HTML</Tabs.Tab>
        <Tabs.Tab value="text">Plain text</Tabs.Tab>
        {headers && Object.keys(headers).length > 0 && <Tabs.Tab value="headers">Headers</Tabs.Tab>}
      </Tabs.List>
      <Tabs.Panel value="html" pt="sm">
        <EmailFrame html={html} title={`HTML of “${subject}”`} />
      </Tabs.Panel>
      <Tabs.Panel value="text" pt="sm">
        <Code block style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }} aria-label="Plain text version">
          {text || '(empty)'}
        </Code>
      </Tabs.Panel>
      {headers && (
        <Tabs.Panel value="headers" pt="sm">
          <Table aria-label="Extra headers">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Header</Table.Th>
                <Table.Th scope="col">Value</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {Object.entries(headers).map(([k, v]) => (
                <Table.Tr key={k}>
                  <Table.Td>{k}</Table.Td>
                  <Table.Td style={{ overflowWrap: 'anywhere' }}>{v}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Tabs.Panel>
      )}
    </Tabs>
  );
}
