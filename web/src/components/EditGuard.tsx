import { ActionIcon, Button, Tooltip, type ActionIconProps, type ButtonProps } from '@mantine/core';
import type { MouseEvent, ReactElement, ReactNode } from 'react';
import { useSession } from '../auth/session';

export const VIEWER_HINT = 'Your role is viewer: you can look, not change. Ask an owner for editor access.';

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

type Clickable = { onClick?: (e: MouseEvent<HTMLButtonElement>) => void; type?: 'button' | 'submit'; 'aria-label'?: string };

/**
 * A button for a write action that guards itself: for a viewer it stays visible but disabled
 * (focusable, announced as disabled) with a tooltip saying why, so nobody wonders where the action went.
 */
export function EditButton({ children, onClick, ...props }: ButtonProps & Clickable & { children: ReactNode }) {
  const { canEdit } = useSession();
  if (canEdit) {
    return (
      <Button {...props} onClick={onClick}>
        {children}
      </Button>
    );
  }
  return (
    <Tooltip label={VIEWER_HINT} multiline w={260} withArrow>
      <Button {...props} type="button" data-disabled aria-disabled onClick={(e) => e.preventDefault()}>
        {children}
      </Button>
    </Tooltip>
  );
}

/** An icon-only write action (its aria-label is required), disabled with a tooltip for viewers. */
export function EditIcon({ label, children, onClick, ...props }: ActionIconProps & { label: string; onClick?: () => void; children: ReactNode }) {
  const { canEdit } = useSession();
  return (
    <Tooltip label={canEdit ? label : VIEWER_HINT} multiline maw={260} withArrow>
      <ActionIcon
        variant="subtle"
        {...props}
        aria-label={label}
        {...(canEdit ? { onClick } : { 'data-disabled': true, 'aria-disabled': true, onClick: (e: MouseEvent) => e.preventDefault() })}
      >
        {children}
      </ActionIcon>
    </Tooltip>
  );
}
