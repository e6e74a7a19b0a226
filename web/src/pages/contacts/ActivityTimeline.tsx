import { Anchor, Badge, Button, Code, Group, Stack, Text, Timeline } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { get } from '../../api/client';
import type { ActivityItem, Paged } from '../../api/types';
import { formatDateTime } from '../../components/format';
import { QueryState } from '../../components/Page';

const EVENT_COLORS: Record<string, string> = {
  delivered: 'green',
  opened: 'teal',
  clicked: 'cyan',
  bounced: 'orange',
  complained: 'red',
  failed: 'red',
  unsubscribed: 'gray',
};

function Origin({ item }: { item: { campaignId: number | null; sequenceId: number | null } }) {
  if (item.campaignId) return <Anchor component={Link} to={`/campaigns/${item.campaignId}`} size="xs">campaign #{item.campaignId}</Anchor>;
  if (item.sequenceId) return <Anchor component={Link} to={`/sequences/${item.sequenceId}`} size="xs">sequence #{item.sequenceId}</Anchor>;
  return null;
}

function describe(item: ActivityItem) {
  switch (item.type) {
    case 'send':
      return {
        title: (
          <Group gap={6} wrap="wrap">
            <Text size="sm" fw={500}>
              Sent “{item.subject}”
            </Text>
            <Badge size="xs" variant="light">
              {item.status}
            </Badge>
          </Group>
        ),
        body: (
          <Group gap={8}>
            <Anchor component={Link} to={`/sends/${item.sendId}`} size="xs">
              {item.kind} send #{item.sendId}
            </Anchor>
            <Origin item={item} />
          </Group>
        ),
        color: 'indigo',
      };
    case 'email_event': {
      const url = typeof item.data.url === 'string' ? item.data.url : undefined;
      return {
        title: (
          <Text size="sm" fw={500}>
            Email {item.event.replace('_', ' ')}
          </Text>
        ),
        body: (
          <Group gap={8} wrap="wrap">
            {item.sendId && (
              <Anchor component={Link} to={`/sends/${item.sendId}`} size="xs">
                send #{item.sendId}
              </Anchor>
            )}
            <Origin item={item} />
            {url && (
              <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>
                {url}
              </Text>
            )}
          </Group>
        ),
        color: EVENT_COLORS[item.event] ?? 'gray',
      };
    }
    case 'contact_event':
      return {
        title: (
          <Text size="sm" fw={500}>
            Event “{item.name}”
          </Text>
        ),
        body: Object.keys(item.data).length ? (
          <Code block fz="xs">
            {JSON.stringify(item.data, null, 2)}
          </Code>
        ) : null,
        color: 'grape',
      };
    case 'enrollment_started':
      return {
        title: (
          <Text size="sm" fw={500}>
            Entered a sequence
          </Text>
        ),
        body: (
          <Anchor component={Link} to={`/sequences/${item.sequenceId}`} size="xs">
            sequence #{item.sequenceId}
          </Anchor>
        ),
        color: 'blue',
      };
    case 'enrollment_ended':
      return {
        title: (
          <Text size="sm" fw={500}>
            Left a sequence: {item.status}
            {item.exitReason ? ` (${item.exitReason})` : ''}
          </Text>
        ),
        body: (
          <Anchor component={Link} to={`/sequences/${item.sequenceId}`} size="xs">
            sequence #{item.sequenceId}
          </Anchor>
        ),
        color: item.status === 'failed' ? 'red' : 'gray',
      };
  }
}

/** A contact's timeline (GET /contacts/:id/activity), newest first, 25 at a time. */
export function ActivityTimeline({ contactId }: { contactId: number }) {
  const activity = useInfiniteQuery({
    queryKey: ['contact', contactId, 'activity'],
    queryFn: ({ pageParam }) => get<Paged<ActivityItem>>(`/contacts/${contactId}/activity`, { page: pageParam, limit: 25 }),
    initialPageParam: 1,
    getNextPageParam: (last) => (last.pagination.page < last.pagination.totalPages ? last.pagination.page + 1 : undefined),
  });
  const items = activity.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <QueryState isLoading={activity.isLoading} error={activity.error}>
      {items.length === 0 ? (
        <Text size="sm" c="dimmed">
          Nothing yet: no email sent, no event recorded.
        </Text>
      ) : (
        <Stack>
          <Timeline bulletSize={14} lineWidth={2} active={items.length - 1}>
            {items.map((item, i) => {
              const d = describe(item);
              return (
                <Timeline.Item key={`${item.type}:${i}:${item.at}`} title={d.title} color={d.color}>
                  {d.body}
                  <Text size="xs" c="dimmed" mt={2}>
                    {formatDateTime(item.at)}
                  </Text>
                </Timeline.Item>
              );
            })}
          </Timeline>
          {activity.hasNextPage && (
            <Button variant="default" onClick={() => activity.fetchNextPage()} loading={activity.isFetchingNextPage} w="fit-content">
              Show older activity
            </Button>
          )}
        </Stack>
      )}
    </QueryState>
  );
}
