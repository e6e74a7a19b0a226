import { Alert } from '@mantine/core';
import type { Role } from '../auth/session';

/**
 * Says why the write controls of a page are missing: shown instead of them to users whose role may
 * only look (`needs` is the least role that may change things here).
 */
export function RoleNotice({ role, needs, what, readable = true }: { role: Role | undefined; needs: 'owner' | 'editor'; what: string; readable?: boolean }) {
  const allowed = needs === 'owner' ? role === 'owner' : role === 'owner' || role === 'editor';
  if (allowed) return null;
  const sentence = !readable ? `Only owners can see and change ${what}.` : needs === 'owner' ? `Only owners can change ${what}.` : `Your role (${role ?? 'viewer'}) can look but not change ${what}.`;
  return (
    <Alert color="gray" variant="light" title={readable ? 'View only' : 'Owners only'}>
      {sentence} Ask an owner if you need to.
    </Alert>
  );
}
