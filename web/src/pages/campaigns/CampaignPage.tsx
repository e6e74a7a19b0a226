import { BarChart } from '@mantine/charts';
import { Alert, Anchor, Button, Group, Modal, Paper, Progress, SimpleGrid, Stack, Table, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { del, errorMessage, get, post } from '../../api/client';
import type { Campaign, CampaignStats, CampaignStatus, One, Paged, Recipient, RecipientStatus } from '../../api/messages';
import { useSession } from '../../auth/session';
import { EditGuard } from '../../components/EditGuard';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';
import { StatusBadge } from '../../components/StatusBadge';
import { CampaignComposer } from './CampaignComposer';
import { EmptyRow } from '../../components/EmptyRow';

/** `campaigns/new`: the composer for a new draft. */
export function NewCampaignPage() {
  return (
    <Page title="New campaign">
      <CampaignComposer />
    </Page>
  );
}

type Action = 'send' | 'pause' | 'resume' | 'cancel' | 'retry-failed';
/** The states in which the API allows each action (src/services/campaigns.ts). */
const ALLOWED: Record<Action | 'schedule' | 'delete' | 'edit', CampaignStatus[]> = {
  schedule: ['draft', 'scheduled'],
  send: ['draft', 'scheduled'],
  pause: ['sending'],
  resume: ['paused'],
  cancel: ['draft', 'scheduled', 'sending', 'paused'],
  'retry-failed': ['sent', 'failed'],
  delete: ['draft'],
  edit: ['draft', 'scheduled'],
};
const LABELS: Record<Action, string> = { send: 'Send now', pause: 'Pause', resume: 'Resume', cancel: 'Cancel campaign', 'retry-failed': 'Retry failed' };

function localInputValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** `campaigns/:id`: status, lifecycle actions, live progress, stats, recipients; the composer while editable. */
export function CampaignPage() {
  const { id } = useParams();
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [scheduling, setScheduling] = useState(false);
  const [scheduleAt, setScheduleAt] = useState(() => localInputValue(new Date(Date.now() + 60 * 60_000)));
  const [testing, setTesting] = useState(false);
  const { session } = useSession();
  const [testTo, setTestTo] = useState(session?.user.email ?? '');
  const [confirm, setConfirm] = useState<Action | 'delete' | null>(null);

  const campaign = useQuery({
    queryKey: ['campaigns', Number(id)],
    queryFn: ({ signal }) => get<One<Campaign>>(`/campaigns/${id}`, undefined, signal).then((r) => r.data),
    // Live while it sends (and while scheduled, to catch the start).
    refetchInterval: (q) => (q.state.data?.status === 'sending' || q.state.data?.status === 'scheduled' ? 2000 : false),
  });
  const status = campaign.data?.status;
  const invalidate = () => queryClient.invalidateQueries({ queryKey: ['campaigns'] });

  const act = useMutation({
    mutationFn: async (action: Action | 'delete' | 'schedule') => {
      if (action === 'delete') return del(`/campaigns/${id}`);
      if (action === 'schedule') return post(`/campaigns/${id}/schedule`, { scheduledAt: new Date(scheduleAt).toISOString() });
      return post(`/campaigns/${id}/${action}`);
    },
    onSuccess: (result, action) => {
      setConfirm(null);
      setScheduling(false);
      if (action === 'delete') {
        notifications.show({ color: 'green', message: 'Draft deleted' });
        void invalidate();
        navigate('/campaigns');
        return;
      }
      const retrying = action === 'retry-failed' ? (result as One<{ retrying: number }>).data.retrying : null;
      notifications.show({
        color: 'green',
        message: action === 'schedule' ? `Scheduled for ${new Date(scheduleAt).toLocaleString()}` : retrying !== null ? `Retrying ${retrying} failed recipients` : `${LABELS[action as Action]}: done`,
      });
      void invalidate();
    },
    onError: (err) => notifications.show({ color: 'red', title: 'The campaign did not change', message: errorMessage(err) }),
  });
  const test = useMutation({
    mutationFn: () => post<One<{ sendId: number }>>(`/campaigns/${id}/test`, { to: testTo }),
    onSuccess: ({ data }) => {
      setTesting(false);
      notifications.show({ color: 'green', message: `Test copy on its way to ${testTo} (send ${data.sendId})` });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Test send failed', message: errorMessage(err) }),
  });

  const button = (action: Action, extra: { color?: string; variant?: string } = {}) => {
    const nothingFailed = action === 'retry-failed' && campaign.data?.failedCount === 0;
    const allowed = status !== undefined && ALLOWED[action].includes(status) && !nothingFailed;
    const reason = nothingFailed && status && ALLOWED[action].includes(status) ? 'No recipient failed' : `Only when the campaign is ${ALLOWED[action].join(' or ')}`;
    return (
      <EditGuard key={action} reason={allowed ? null : reason}>
        <Button size="sm" variant={extra.variant ?? 'default'} color={extra.color} disabled={!canEdit || !allowed} onClick={() => setConfirm(action)}>
          {LABELS[action]}
        </Button>
      </EditGuard>
    );
  };

  const c = campaign.data;
  return (
    <QueryState isLoading={campaign.isLoading} error={campaign.error}>
      {c && (
        <Page
          title={
            <Group gap="sm" component="span">
              {c.name} <StatusBadge status={c.status} />
            </Group>
          }
          actions={
            <Group gap="xs" wrap="wrap">
              <EditGuard>
                <Button size="sm" variant="default" disabled={!canEdit} onClick={() => setTesting(true)}>
                  Send test
                </Button>
              </EditGuard>
              <EditGuard reason={ALLOWED.schedule.includes(c.status) ? null : 'Only a draft or scheduled campaign can be scheduled'}>
                <Button size="sm" variant="default" disabled={!canEdit || !ALLOWED.schedule.includes(c.status)} onClick={() => setScheduling(true)}>
                  {c.status === 'scheduled' ? 'Reschedule' : 'Schedule'}
                </Button>
              </EditGuard>
              {button('send', { variant: 'filled' })}
              {button('pause')}
              {button('resume')}
              {button('retry-failed')}
              {button('cancel', { color: 'red', variant: 'light' })}
              {c.status === 'draft' && (
                <EditGuard>
                  <Button size="sm" color="red" variant="subtle" disabled={!canEdit} onClick={() => setConfirm('delete')}>
                    Delete draft
                  </Button>
                </EditGuard>
              )}
            </Group>
          }
        >
          <CampaignSummary campaign={c} />
          {ALLOWED.edit.includes(c.status) ? (
            <Paper withBorder p="md" component="section" aria-labelledby="compose-title">
              <Title order={3} size="h4" mb="sm" id="compose-title">
                Compose
              </Title>
              <CampaignComposer key={c.updatedAt} campaign={c} />
            </Paper>
          ) : (
            <>
              <CampaignStatsPanel campaign={c} />
              <RecipientsPanel campaign={c} />
            </>
          )}

          <Modal opened={scheduling} onClose={() => setScheduling(false)} title={c.status === 'scheduled' ? 'Reschedule' : 'Schedule'}>
            <Stack>
              <TextInput
                type="datetime-local"
                label="Send at (your local time)"
                description="A time in the past sends now."
                value={scheduleAt}
                onChange={(e) => setScheduleAt(e.currentTarget.value)}
              />
              <Group justify="flex-end">
                <Button variant="default" onClick={() => setScheduling(false)}>
                  Close
                </Button>
                <Button loading={act.isPending} disabled={!scheduleAt} onClick={() => act.mutate('schedule')}>
                  Schedule
                </Button>
              </Group>
            </Stack>
          </Modal>
          <Modal opened={testing} onClose={() => setTesting(false)} title="Send a test copy">
            <Stack>
              <Text size="sm">One copy of the current content, subject prefixed “[Test]”, through this campaign’s sending config. It does not count in the stats.</Text>
              <TextInput type="email" label="Send to" required value={testTo} onChange={(e) => setTestTo(e.currentTarget.value)} />
              <Group justify="flex-end">
                <Button variant="default" onClick={() => setTesting(false)}>
                  Close
                </Button>
                <Button loading={test.isPending} disabled={!testTo.includes('@')} onClick={() => test.mutate()}>
                  Send test
                </Button>
              </Group>
            </Stack>
          </Modal>
          <Modal opened={confirm !== null} onClose={() => setConfirm(null)} title={confirm === 'delete' ? 'Delete this draft?' : confirm ? `${LABELS[confirm]}?` : ''}>
            <Text mb="md">
              {confirm === 'send' && `The audience is frozen now and the campaign starts sending.`}
              {confirm === 'pause' && 'Batches in flight finish; nothing new goes out until you resume.'}
              {confirm === 'resume' && 'Sending continues where it stopped.'}
              {confirm === 'cancel' && 'Nothing more is sent; recipients not yet reached end as skipped. This cannot be undone.'}
              {confirm === 'retry-failed' && `The ${c.failedCount} failed recipients are sent to again.`}
              {confirm === 'delete' && 'The draft is removed for good.'}
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirm(null)}>
                Back
              </Button>
              <Button color={confirm === 'cancel' || confirm === 'delete' ? 'red' : undefined} loading={act.isPending} onClick={() => confirm && act.mutate(confirm)}>
                {confirm === 'delete' ? 'Delete' : confirm ? LABELS[confirm] : ''}
              </Button>
            </Group>
          </Modal>
        </Page>
      )}
    </QueryState>
  );
}

function CampaignSummary({ campaign: c }: { campaign: Campaign }) {
  const done = c.sentCount + c.failedCount + c.suppressedCount + c.skippedCount;
  return (
    <Paper withBorder p="md">
      <Stack gap="xs">
        {c.pausedReason && c.status === 'paused' && (
          <Alert color="yellow" title="Paused">
            {c.pausedReason}
          </Alert>
        )}
        <Group gap="lg" wrap="wrap">
          {c.scheduledAt && <Text size="sm">Scheduled for {new Date(c.scheduledAt).toLocaleString()}</Text>}
          {c.startedAt && <Text size="sm">Started {new Date(c.startedAt).toLocaleString()}</Text>}
          {c.completedAt && <Text size="sm">Finished {new Date(c.completedAt).toLocaleString()}</Text>}
          {c.temporalUiUrl && (
            <Anchor href={c.temporalUiUrl} target="_blank" rel="noreferrer" size="sm">
              Workflow in Temporal UI
            </Anchor>
          )}
        </Group>
        {c.status !== 'draft' && c.status !== 'scheduled' && (
          <>
            <Text size="sm">
              Frozen audience: <b>{c.totalRecipients.toLocaleString()}</b> recipients · <b>{c.progress}%</b> · {done.toLocaleString()} done ({c.sentCount.toLocaleString()} sent, {c.failedCount.toLocaleString()} failed,{' '}
              {c.suppressedCount.toLocaleString()} suppressed, {c.skippedCount.toLocaleString()} skipped)
            </Text>
            <Progress.Root size="xl" role="group" aria-label={`Sending progress ${c.progress}%`}>
              <Progress.Section value={c.totalRecipients ? (100 * c.sentCount) / c.totalRecipients : 0} color="green" aria-label="Sent" />
              <Progress.Section value={c.totalRecipients ? (100 * c.failedCount) / c.totalRecipients : 0} color="red" aria-label="Failed" />
              <Progress.Section value={c.totalRecipients ? (100 * (c.suppressedCount + c.skippedCount)) / c.totalRecipients : 0} color="gray" aria-label="Suppressed or skipped" />
            </Progress.Root>
          </>
        )}
      </Stack>
    </Paper>
  );
}

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

function CampaignStatsPanel({ campaign }: { campaign: Campaign }) {
  const narrow = useMediaQuery('(max-width: 48em)');
  const stats = useQuery({
    queryKey: ['campaigns', campaign.id, 'stats'],
    queryFn: ({ signal }) => get<One<CampaignStats>>(`/campaigns/${campaign.id}/stats`, undefined, signal).then((r) => r.data),
    refetchInterval: campaign.status === 'sending' ? 2000 : 30_000,
  });
  const s = stats.data;
  const metrics = s
    ? ([
        ['Delivered', s.deliveredCount, s.rates.delivered],
        ['Opened', s.openedCount, s.rates.opened],
        ['Clicked', s.clickedCount, s.rates.clicked],
        ['Bounced', s.bouncedCount, s.rates.bounced],
        ['Complained', s.complainedCount, s.rates.complained],
        ['Unsubscribed', s.unsubscribedCount, s.rates.unsubscribed],
      ] as const)
    : [];
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="stats-title">
      <Title order={3} size="h4" mb="sm" id="stats-title">
        Stats
      </Title>
      <QueryState isLoading={stats.isLoading} error={stats.error}>
        {s && (
          <Stack>
            <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }}>
              {metrics.map(([label, n, rate]) => (
                <Stack key={label} gap={0}>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                    {label}
                  </Text>
                  <Text size="xl" fw={700}>
                    {n.toLocaleString()}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {pct(rate)} of sent
                  </Text>
                </Stack>
              ))}
            </SimpleGrid>
            {/* The counts are listed above; the chart is one image to a screen reader. */}
            <div role="img" aria-label="Bar chart of delivered, opened, clicked, bounced, complained and unsubscribed counts">
              <BarChart
                h={220}
                data={metrics.map(([label, n]) => ({ metric: label, count: n }))}
                dataKey="metric"
                // On a phone six labels do not fit side by side (every other one was dropped): bars run sideways there.
                orientation={narrow ? 'vertical' : 'horizontal'}
                // Counts of recipients: whole numbers on the value axis (no 0.25 ticks for a count of 1).
                xAxisProps={narrow ? { allowDecimals: false } : undefined}
                yAxisProps={narrow ? { width: 90 } : { allowDecimals: false }}
                series={[{ name: 'count', label: 'Recipients', color: 'indigo.6' }]}
              />
            </div>
            <Text size="sm" c="dimmed">
              {s.sentCount.toLocaleString()} sent{s.elapsedSeconds > 0 ? ` in ${s.elapsedSeconds}s (${s.sendRatePerSecond}/s)` : ''}.
            </Text>
          </Stack>
        )}
      </QueryState>
    </Paper>
  );
}

const RECIPIENT_TABS: Array<'all' | RecipientStatus> = ['all', 'pending', 'sent', 'failed', 'suppressed', 'skipped'];

function RecipientsPanel({ campaign }: { campaign: Campaign }) {
  const [tab, setTab] = useState<'all' | RecipientStatus>('all');
  const [page, setPage] = useState(1);
  const recipients = useQuery({
    queryKey: ['campaigns', campaign.id, 'recipients', tab, page],
    queryFn: ({ signal }) => get<Paged<Recipient>>(`/campaigns/${campaign.id}/recipients`, { page, limit: 25, status: tab === 'all' ? undefined : tab }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: campaign.status === 'sending' ? 2000 : false,
  });
  const counts: Record<string, number> = {
    all: campaign.totalRecipients,
    pending: Math.max(0, campaign.totalRecipients - campaign.sentCount - campaign.failedCount - campaign.suppressedCount - campaign.skippedCount),
    sent: campaign.sentCount,
    failed: campaign.failedCount,
    suppressed: campaign.suppressedCount,
    skipped: campaign.skippedCount,
  };
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="recipients-title">
      <Title order={3} size="h4" mb="sm" id="recipients-title">
        Recipients
      </Title>
      <Tabs
        value={tab}
        onChange={(v) => {
          setTab((v ?? 'all') as 'all' | RecipientStatus);
          setPage(1);
        }}
      >
        <Tabs.List style={{ flexWrap: 'wrap' }}>
          {RECIPIENT_TABS.map((t) => (
            <Tabs.Tab key={t} value={t}>
              {t} ({(counts[t] ?? 0).toLocaleString()})
            </Tabs.Tab>
          ))}
        </Tabs.List>
      </Tabs>
      <QueryState isLoading={recipients.isLoading} error={recipients.error}>
        <Table.ScrollContainer minWidth={560} mt="sm">
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Email</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Attempt</Table.Th>
                <Table.Th>Error</Table.Th>
                <Table.Th>Updated</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {recipients.data?.data.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>{r.email}</Table.Td>
                  <Table.Td>
                    <StatusBadge status={r.status} />
                  </Table.Td>
                  <Table.Td>{r.attempt}</Table.Td>
                  <Table.Td>
                    <Text size="sm" lineClamp={2}>
                      {r.error ?? ''}
                    </Text>
                  </Table.Td>
                  <Table.Td>{new Date(r.updatedAt).toLocaleString()}</Table.Td>
                </Table.Tr>
              ))}
              {recipients.data?.data.length === 0 && (
                <EmptyRow colSpan={5}>No recipients {tab === 'all' ? '' : `in ${tab}`}.</EmptyRow>
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {recipients.data && <Pager page={page} totalPages={recipients.data.pagination.totalPages} total={recipients.data.pagination.total} onChange={setPage} />}
      </QueryState>
    </Paper>
  );
}
