import { Alert } from '@mantine/core';
import type { Role } from '../auth/session';

/**
 * Says why the write controls of a page are missing: shown instead of them to users whose role may
 * only look (`needs` is the least role that may change things here).
 */
export function RoleNotice({ role, needs, what }: { role: Role | undefined; needs: 'owner' | 'editor'; what: string }) {
  const allowed = needs === 'owner' ? role === 'owner' : role === 'owner' || role === 'editor';
  if (allowed) return null;
  return (
    <Alert color="gray" variant="light" title="View only">
      {needs === 'owner' ? `Only owners can change ${what}.` : `Your role (${role ?? 'viewer'}) can look but not change ${what}.`} Ask an owner if you need
      to.
    </Alert>
  );
}
