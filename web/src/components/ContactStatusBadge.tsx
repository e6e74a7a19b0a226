import { Badge } from '@mantine/core';
import type { ContactStatus } from '../api/types';

const COLORS: Record<ContactStatus, string> = { subscribed: 'green', unsubscribed: 'gray', bounced: 'orange', complained: 'red' };

export function ContactStatusBadge({ status }: { status: ContactStatus }) {
  return (
    <Badge color={COLORS[status]} variant="light">
      {status}
    </Badge>
  );
}
