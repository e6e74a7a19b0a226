import { LineChart } from '@mantine/charts';
import { Anchor, Badge, Card, Group, Progress, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { get } from '../api/client';
import type { CampaignSummary, Paged, SendSummary, SequenceSummary, TimeSeries } from '../api/types';
import { formatDateTime, formatNumber } from '../components/format';
import { Page, QueryState } from '../components/Page';

const DAY_MS = 86_400_000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

const SERIES = [
  { name: 'sent', label: 'Sent', color: 'indigo.6' },
  { name: 'delivered', label: 'Delivered', color: 'green.6' },
  { name: 'opened', label: 'Opened', color: 'teal.5' },
  { name: 'clicked', label: 'Clicked', color: 'cyan.7' },
  { name: 'bounced', label: 'Bounced', color: 'orange.6' },
  { name: 'complained', label: 'Complaints', color: 'red.7' },
] as const;

/** The site at a glance: email activity over time, campaigns sending now, active sequences, recent failures. */
export function OverviewPage() {
  return (
    <Page title="Overview">
      <ActivityChart />
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <RunningCampaigns />
        <ActiveSequences />
      </SimpleGrid>
      <RecentFailures />
    </Page>
  );
}

function ActivityChart() {
  const [days, setDays] = useState('30');
  const to = new Date();
  const from = new Date(to.getTime() - (Number(days) - 1) * DAY_MS);
  const stats = useQuery({
    queryKey: ['stats', 'timeseries', days, isoDay(to)],
    queryFn: () => get<{ data: TimeSeries }>('/stats/timeseries', { from: isoDay(from), to: isoDay(to), interval: 'day' }),
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
  const series = stats.data?.data.series ?? [];
  const data = series.map((b) => ({
    date: new Date(`${b.date}T00:00:00Z`).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' }),
    sent: b.sends,
    delivered: b.events.delivered ?? 0,
    opened: b.events.opened ?? 0,
    clicked: b.events.clicked ?? 0,
    bounced: b.events.bounced ?? 0,
    complained: b.events.complained ?? 0,
  }));
  const totals = Object.fromEntries(SERIES.map((s) => [s.name, data.reduce((n, d) => n + d[s.name], 0)])) as Record<(typeof SERIES)[number]['name'], number>;
  const rate = (n: number) => (totals.sent ? ` (${((n / totals.sent) * 100).toFixed(1)}%)` : '');

  return (
    <Card withBorder>
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Title order={3} size="h4">
            Email activity
          </Title>
          <SegmentedControl
            size="xs"
            value={days}
            onChange={setDays}
            aria-label="Time range"
            data={[
              { value: '7', label: '7 days' },
              { value: '30', label: '30 days' },
              { value: '90', label: '90 days' },
            ]}
          />
        </Group>
        <QueryState isLoading={stats.isLoading} error={stats.error}>
          <SimpleGrid cols={{ base: 2, xs: 3, md: 6 }} spacing="xs">
            {SERIES.map((s) => (
              <Stack key={s.name} gap={0}>
                <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                  {s.label}
                </Text>
                <Text fw={600} size="lg">
                  {formatNumber(totals[s.name])}
                  {s.name !== 'sent' && (
                    <Text span size="xs" c="dimmed" fw={400}>
                      {rate(totals[s.name])}
                    </Text>
                  )}
                </Text>
              </Stack>
            ))}
          </SimpleGrid>
          <div role="img" aria-label={`Line chart of emails sent, delivered, opened, clicked, bounced and complaints per day over the last ${days} days (UTC days). Totals are listed above.`}>
            <LineChart
              h={260}
              data={data}
              dataKey="date"
              series={SERIES.map((s) => ({ name: s.name, label: s.label, color: s.color }))}
              curveType="linear"
              withLegend
              legendProps={{ verticalAlign: 'bottom' }}
              withDots={Number(days) <= 30}
              tickLine="x"
              gridAxis="y"
            />
          </div>
          <Text size="xs" c="dimmed">
            Sends by the day they were queued; deliveries, opens, clicks, bounces and complaints by the day they happened (UTC). Opens count
            once per email.
          </Text>
        </QueryState>
      </Stack>
    </Card>
  );
}

function RunningCampaigns() {
  const campaigns = useQuery({
    queryKey: ['campaigns', 'running'],
    queryFn: async () => {
      const [sending, paused] = await Promise.all([
        get<Paged<CampaignSummary>>('/campaigns', { status: 'sending', limit: 20 }),
        get<Paged<CampaignSummary>>('/campaigns', { status: 'paused', limit: 20 }),
      ]);
      return [...sending.data, ...paused.data];
    },
    refetchInterval: 5000,
  });
  return (
    <Card withBorder>
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={3} size="h4">
            Campaigns sending now
          </Title>
          <Anchor component={Link} to="/campaigns" size="sm">
            All campaigns
          </Anchor>
        </Group>
        <QueryState isLoading={campaigns.isLoading} error={campaigns.error}>
          {campaigns.data?.length === 0 && (
            <Text size="sm" c="dimmed">
              No campaign is sending.
            </Text>
          )}
          {campaigns.data?.map((c) => {
            const done = c.sentCount + c.failedCount + c.suppressedCount + c.skippedCount;
            return (
              <Stack key={c.id} gap={4}>
                <Group justify="space-between" wrap="nowrap">
                  <Anchor component={Link} to={`/campaigns/${c.id}`} size="sm" fw={500} truncate>
                    {c.name}
                  </Anchor>
                  <Group gap={6} wrap="nowrap">
                    {c.status === 'paused' && (
                      <Badge color="yellow" variant="light" size="sm">
                        paused
                      </Badge>
                    )}
                    <Text size="xs" c="dimmed">
                      {formatNumber(c.sentCount)} / {formatNumber(c.totalRecipients)} sent
                    </Text>
                  </Group>
                </Group>
                <Progress
                  value={c.totalRecipients ? (done / c.totalRecipients) * 100 : 0}
                  color={c.status === 'paused' ? 'yellow' : 'indigo'}
                  animated={c.status === 'sending'}
                  aria-label={`${c.name}: ${formatNumber(c.sentCount)} of ${formatNumber(c.totalRecipients)} sent`}
                />
              </Stack>
            );
          })}
        </QueryState>
      </Stack>
    </Card>
  );
}

function ActiveSequences() {
  const sequences = useQuery({ queryKey: ['sequences', 'active'], queryFn: () => get<Paged<SequenceSummary>>('/sequences', { status: 'active', limit: 10 }) });
  const rows = sequences.data?.data ?? [];
  // One small request per sequence: the enrollments list's total is the active-enrollment count.
  const counts = useQueries({
    queries: rows.map((s) => ({
      queryKey: ['sequences', s.id, 'active-enrollments'],
      queryFn: () => get<Paged<unknown>>(`/sequences/${s.id}/enrollments`, { status: 'active', limit: 1 }),
      refetchInterval: 30_000,
    })),
  });
  return (
    <Card withBorder>
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={3} size="h4">
            Active sequences
          </Title>
          <Anchor component={Link} to="/sequences" size="sm">
            All sequences
          </Anchor>
        </Group>
        <QueryState isLoading={sequences.isLoading} error={sequences.error}>
          {rows.length === 0 ? (
            <Text size="sm" c="dimmed">
              No active sequence.
            </Text>
          ) : (
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Sequence</Table.Th>
                  <Table.Th ta="right">Contacts in it</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((s, i) => (
                  <Table.Tr key={s.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/sequences/${s.id}`} size="sm">
                        {s.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td ta="right">{counts[i]?.data ? formatNumber(counts[i].data.pagination.total) : '…'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </QueryState>
      </Stack>
    </Card>
  );
}

function RecentFailures() {
  const failed = useQuery({ queryKey: ['sends', 'failed', 'recent'], queryFn: () => get<Paged<SendSummary>>('/sends', { status: 'failed', limit: 10 }), refetchInterval: 30_000 });
  return (
    <Card withBorder>
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={3} size="h4">
            Recent failures
          </Title>
          <Anchor component={Link} to="/sends?status=failed" size="sm">
            All failed sends
          </Anchor>
        </Group>
        <QueryState isLoading={failed.isLoading} error={failed.error}>
          {failed.data?.data.length === 0 ? (
            <Text size="sm" c="dimmed">
              No failed send.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={560}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>To</Table.Th>
                    <Table.Th>Subject</Table.Th>
                    <Table.Th>Why</Table.Th>
                    <Table.Th>When</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {failed.data?.data.map((s) => (
                    <Table.Tr key={s.id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/sends/${s.id}`} size="sm">
                          {s.toEmail}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" lineClamp={1}>
                          {s.subject}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" c="red" lineClamp={2}>
                          {s.error ?? 'failed'}
                        </Text>
                      </Table.Td>
                      <Table.Td>{formatDateTime(s.createdAt)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </QueryState>
      </Stack>
    </Card>
  );
}
