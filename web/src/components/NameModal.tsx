import { Alert, Button, Group, Modal, Stack, Textarea, TextInput } from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { errorMessage } from '../api/client';

/** A small create/rename dialog: a name, and a description when `withDescription`. */
export function NameModal({
  opened,
  onClose,
  title,
  submitLabel,
  initial,
  withDescription,
  busy,
  error,
  onSubmit,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  submitLabel: string;
  initial?: { name: string; description?: string | null };
  withDescription?: boolean;
  busy: boolean;
  error: unknown;
  onSubmit: (value: { name: string; description: string | null }) => void;
}) {
  const [name, setName] = useState(initial?.name ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  useEffect(() => {
    if (opened) {
      setName(initial?.name ?? '');
      setDescription(initial?.description ?? '');
    }
  }, [opened]);

  function submit(e: FormEvent) {
    e.preventDefault();
    onSubmit({ name: name.trim(), description: description.trim() || null });
  }
  return (
    <Modal opened={opened} onClose={onClose} title={title}>
      <form onSubmit={submit}>
        <Stack>
          {error != null && (
            <Alert color="red" role="alert">
              {errorMessage(error)}
            </Alert>
          )}
          <TextInput label="Name" required data-autofocus value={name} onChange={(e) => setName(e.currentTarget.value)} maxLength={200} />
          {withDescription && <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} autosize minRows={2} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={!name.trim()}>
              {submitLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
