import { Anchor, Button, Group, Progress, SegmentedControl, Table, Text } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { get } from '../../api/client';
import type { Campaign, CampaignStatus, Paged } from '../../api/messages';
import { useSession } from '../../auth/session';
import { EditGuard } from '../../components/EditGuard';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';
import { StatusBadge } from '../../components/StatusBadge';

const FILTERS: Array<{ value: '' | CampaignStatus; label: string }> = [
  { value: '', label: 'All' },
  { value: 'draft', label: 'Drafts' },
  { value: 'scheduled', label: 'Scheduled' },
  { value: 'sending', label: 'Sending' },
  { value: 'sent', label: 'Sent' },
];

function when(c: Campaign): string {
  if (c.completedAt) return `Finished ${new Date(c.completedAt).toLocaleString()}`;
  if (c.startedAt) return `Started ${new Date(c.startedAt).toLocaleString()}`;
  if (c.scheduledAt) return `For ${new Date(c.scheduledAt).toLocaleString()}`;
  return `Created ${new Date(c.createdAt).toLocaleDateString()}`;
}

/** Campaigns newest first, with their status and progress; sending ones refresh every 2 s. */
export function CampaignsPage() {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState<'' | CampaignStatus>('');
  const query = useQuery({
    queryKey: ['campaigns', 'list', page, status],
    queryFn: ({ signal }) => get<Paged<Campaign>>('/campaigns', { page, limit: 25, status }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.data.some((c) => c.status === 'sending') ? 2000 : false),
  });
  return (
    <Page
      title="Campaigns"
      actions={
        <EditGuard>
          <Button onClick={() => navigate('/campaigns/new')} disabled={!canEdit}>
            New campaign
          </Button>
        </EditGuard>
      }
    >
      <SegmentedControl
        aria-label="Show campaigns"
        data={FILTERS}
        value={status}
        onChange={(v) => {
          setStatus(v as '' | CampaignStatus);
          setPage(1);
        }}
        style={{ alignSelf: 'flex-start', maxWidth: '100%', overflowX: 'auto' }}
      />
      <QueryState isLoading={query.isLoading} error={query.error}>
        {query.data && query.data.data.length === 0 ? (
          <Text c="dimmed">No campaigns{status ? ` ${status}` : ''} yet.</Text>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Recipients</Table.Th>
                  <Table.Th>Progress</Table.Th>
                  <Table.Th>When</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {query.data?.data.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/campaigns/${c.id}`}>
                        {c.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={c.status} />
                    </Table.Td>
                    <Table.Td>{c.totalRecipients > 0 ? c.totalRecipients.toLocaleString() : '—'}</Table.Td>
                    <Table.Td miw={120}>
                      {c.status === 'draft' || c.status === 'scheduled' ? (
                        '—'
                      ) : (
                        <Group gap="xs" wrap="nowrap">
                          <Progress value={c.progress} w={80} aria-label={`${c.name}: ${c.progress}% done`} />
                          <Text size="xs">{c.progress}%</Text>
                        </Group>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{when(c)}</Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {query.data && <Pager page={page} totalPages={query.data.pagination.totalPages} total={query.data.pagination.total} onChange={setPage} />}
      </QueryState>
    </Page>
  );
}
