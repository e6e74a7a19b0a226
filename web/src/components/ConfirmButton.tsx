import { Button, Group, Modal, Stack, Text, type ButtonProps } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState, type ReactNode } from 'react';
import { EditButton } from './EditGuard';

interface ConfirmButtonProps extends Omit<ButtonProps, 'onClick' | 'children'> {
  /** The button's text. */
  children: ReactNode;
  /** Screen-reader name when the text alone is ambiguous in a table row ("Revoke key ci"). */
  'aria-label'?: string;
  title: string;
  /** What will happen, in words. */
  message: ReactNode;
  confirmLabel: string;
  /** Runs on confirm; the dialog stays open (busy) until it settles and closes when it succeeds. */
  onConfirm: () => Promise<unknown>;
}

/**
 * A destructive action behind a confirmation dialog (delete, revoke, remove). For a viewer the button
 * is disabled with a tooltip saying why (EditButton).
 */
export function ConfirmButton({ children, title, message, confirmLabel, onConfirm, color = 'red', ...button }: ConfirmButtonProps) {
  const [opened, { open, close }] = useDisclosure(false);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <EditButton color={color} variant="subtle" size="xs" {...button} onClick={open}>
        {children}
      </EditButton>
      <Modal opened={opened} onClose={close} title={title} centered>
        <Stack>
          <Text size="sm">{message}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={busy}>
              Cancel
            </Button>
            <Button
              color={color}
              loading={busy}
              onClick={async () => {
                setBusy(true);
                try {
                  await onConfirm();
                  close();
                } catch {
                  // The caller's mutation shows the error; the dialog stays for another try.
                } finally {
                  setBusy(false);
                }
              }}
            >
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
