import { Anchor, Badge, Button, Group, Paper, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { get } from '../../api/client';
import { Page, QueryState } from '../../components/Page';
import { Pager, type Paged } from '../../components/Pager';
import { formatDateTime } from '../../components/format';
import { KIND_LABEL, SEND_KINDS, SEND_STATUSES, STATUS_COLOR, STATUS_LABEL, type SendSummary } from './types';

const FILTERS = ['kind', 'status', 'toEmail', 'from', 'to'] as const;
const PAGE_SIZE = 50;

/**
 * The send log: every email of any kind, newest first. The filters live in the URL
 * (`/sends?status=failed&kind=campaign&page=2`), so the overview and other pages can link to a view.
 */
export function SendsPage() {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get('page')) || 1);
  const query = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? undefined]));
  const sends = useQuery({
    queryKey: ['sends', query, page],
    queryFn: ({ signal }) => get<Paged<SendSummary>>('/sends', { ...query, page, limit: PAGE_SIZE }, signal),
    placeholderData: keepPreviousData,
    // New sends and status changes (delivered, bounced) show up while the page is open.
    refetchInterval: 15_000,
  });

  /** Sets (or clears) one filter and goes back to page 1. */
  const setFilter = (name: (typeof FILTERS)[number] | 'page', value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== 'page') next.delete('page');
    setParams(next);
  };

  const [recipient, setRecipient] = useState(params.get('toEmail') ?? '');
  useEffect(() => setRecipient(params.get('toEmail') ?? ''), [params]);
  const searchRecipient = (e: FormEvent) => {
    e.preventDefault();
    setFilter('toEmail', recipient.trim() || null);
  };
  const filtered = FILTERS.some((f) => params.get(f));
  // Below 768 px a six-column table would hide the subject (the link to a send): a list of cards instead.
  const narrow = useMediaQuery('(max-width: 48em)');

  return (
    <Page title="Send log">
      <Stack gap="sm">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <Select
            label="Kind"
            placeholder="All kinds"
            clearable
            data={SEND_KINDS.map((k) => ({ value: k, label: KIND_LABEL[k] }))}
            value={params.get('kind')}
            onChange={(v) => setFilter('kind', v)}
            w={160}
          />
          <Select
            label="Status"
            placeholder="All statuses"
            clearable
            data={SEND_STATUSES.map((s) => ({ value: s, label: STATUS_LABEL[s] }))}
            value={params.get('status')}
            onChange={(v) => setFilter('status', v)}
            w={160}
          />
          <form onSubmit={searchRecipient} role="search" aria-label="Search by recipient">
            <Group gap={4} align="flex-end" wrap="nowrap">
              <TextInput
                label="Recipient"
                placeholder="ada@example.com"
                type="email"
                value={recipient}
                onChange={(e) => setRecipient(e.currentTarget.value)}
                w={220}
              />
              <Button type="submit" variant="default">
                Search
              </Button>
            </Group>
          </form>
          <TextInput label="From date" type="date" value={params.get('from') ?? ''} onChange={(e) => setFilter('from', e.currentTarget.value || null)} w={150} />
          <TextInput label="To date" type="date" value={params.get('to') ?? ''} onChange={(e) => setFilter('to', e.currentTarget.value || null)} w={150} />
          {filtered && (
            <Button variant="subtle" onClick={() => setParams(new URLSearchParams())}>
              Clear filters
            </Button>
          )}
        </Group>

        <QueryState isLoading={sends.isLoading} error={sends.error}>
          {sends.data && sends.data.data.length === 0 ? (
            <Text c="dimmed" py="lg">
              {filtered ? 'No sends match these filters.' : 'Nothing has been sent yet. Transactional email, campaigns and sequences all show up here.'}
            </Text>
          ) : narrow ? (
            <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: 'none' }} aria-label="Sends">
              {sends.data?.data.map((s) => (
                <Paper key={s.id} withBorder p="sm" component="li">
                  <Group justify="space-between" wrap="nowrap" align="flex-start" gap="xs">
                    <Anchor component={Link} to={`/sends/${s.id}`} fw={500} style={{ overflowWrap: 'anywhere' }}>
                      {s.subject || '(no subject)'}
                    </Anchor>
                    <Badge color={STATUS_COLOR[s.status]} variant="light" style={{ flexShrink: 0 }}>
                      {STATUS_LABEL[s.status]}
                    </Badge>
                  </Group>
                  <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
                    {s.toEmail}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {KIND_LABEL[s.kind]} · {formatDateTime(s.createdAt)}
                    {s.attempts > 1 ? ` · ${s.attempts} attempts` : ''}
                  </Text>
                  {s.status === 'failed' && s.error && (
                    <Text size="xs" c="red">
                      {s.error}
                    </Text>
                  )}
                </Paper>
              ))}
            </Stack>
          ) : (
            <Table.ScrollContainer minWidth={760}>
              <Table striped highlightOnHover verticalSpacing="xs" aria-label="Sends" aria-busy={sends.isFetching}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Created</Table.Th>
                    <Table.Th scope="col">Recipient</Table.Th>
                    <Table.Th scope="col">Subject</Table.Th>
                    <Table.Th scope="col">Kind</Table.Th>
                    <Table.Th scope="col">Status</Table.Th>
                    <Table.Th scope="col" ta="right">
                      Attempts
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {sends.data?.data.map((s) => (
                    <Table.Tr key={s.id}>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(s.createdAt)}</Table.Td>
                      <Table.Td>{s.toEmail}</Table.Td>
                      <Table.Td>
                        <Link to={`/sends/${s.id}`}>{s.subject || '(no subject)'}</Link>
                        {s.status === 'failed' && s.error && (
                          <Text size="xs" c="red" lineClamp={1}>
                            {s.error}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>{KIND_LABEL[s.kind]}</Table.Td>
                      <Table.Td>
                        <Badge color={STATUS_COLOR[s.status]} variant="light">
                          {STATUS_LABEL[s.status]}
                        </Badge>
                      </Table.Td>
                      <Table.Td ta="right">{s.attempts}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          {sends.data && <Pager {...sends.data.pagination} onChange={(p) => setFilter('page', p === 1 ? null : String(p))} label="Send log pages" />}
        </QueryState>
      </Stack>
    </Page>
  );
}
