import { Tooltip } from '@mantine/core';
import type { ReactElement } from 'react';
import { useSession } from '../auth/session';

export const VIEWER_HINT = 'Your role is viewer: you can look, not change';

/**
 * Wraps a write control: for a viewer the control (which the caller disables with `useSession().canEdit`)
 * gets a tooltip saying why. The wrapper span keeps the tooltip working on a disabled button.
 */
export function EditGuard({ children, reason }: { children: ReactElement; reason?: string | null }) {
  const { canEdit } = useSession();
  const why = !canEdit ? VIEWER_HINT : reason;
  if (!why) return children;
  return (
    <Tooltip label={why} withArrow multiline maw={260}>
      <span style={{ display: 'inline-block' }}>{children}</span>
    </Tooltip>
  );
}
