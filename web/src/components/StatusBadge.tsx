import { Badge } from '@mantine/core';

const COLORS: Record<string, string> = {
  draft: 'gray',
  scheduled: 'blue',
  sending: 'indigo',
  sent: 'green',
  paused: 'yellow',
  cancelled: 'gray',
  failed: 'red',
  active: 'green',
  archived: 'gray',
  completed: 'teal',
  exited: 'orange',
  unenrolled: 'gray',
  pending: 'blue',
  suppressed: 'orange',
  skipped: 'gray',
  running: 'indigo',
};

/** A status word in its colour (campaign, sequence, enrollment or recipient states). */
export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={COLORS[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}
