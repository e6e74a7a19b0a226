import { Alert, Button, Group, MultiSelect, Stack, Switch, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorMessage, patch, post } from '../../api/client';
import { CopyField } from '../../components/CopyField';
import { WEBHOOK_EVENT_TYPES, type WebhookEndpoint } from './types';

/** The signing secret, shown once after create or rotate. */
export function SecretOnce({ secret, onDone }: { secret: string; onDone: () => void }) {
  return (
    <Stack>
      <Alert color="yellow" title="Copy the signing secret now">
        Your receiver checks each request’s signature with it (Standard Webhooks). It is shown only this once; rotate it to get a new one.
      </Alert>
      <CopyField label="Signing secret" value={secret} />
      <Group justify="flex-end">
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}

/** Create or edit an endpoint; after a create, the secret is shown once. */
export function WebhookForm({ initial, onClose }: { initial: WebhookEndpoint | null; onClose: () => void }) {
  const client = useQueryClient();
  const [url, setUrl] = useState(initial?.url ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [events, setEvents] = useState<string[]>(initial?.events ?? []);
  const [enabled, setEnabled] = useState(initial?.enabled ?? true);
  const save = useMutation({
    mutationFn: () => {
      const body = { url: url.trim(), description: description.trim() || null, events, enabled };
      return initial ? patch<{ data: WebhookEndpoint }>(`/webhook-endpoints/${initial.id}`, body) : post<{ data: WebhookEndpoint }>('/webhook-endpoints', body);
    },
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['webhook-endpoints'] });
      notifications.show({ color: 'teal', message: initial ? 'Endpoint saved' : 'Endpoint added' });
      if (initial) onClose();
    },
  });

  if (!initial && save.data) return <SecretOnce secret={save.data.data.secret} onDone={onClose} />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        {save.error && (
          <Alert color="red" role="alert">
            {errorMessage(save.error)}
          </Alert>
        )}
        <TextInput label="URL" type="url" required placeholder="https://example.com/webhooks/tidings" value={url} onChange={(e) => setUrl(e.currentTarget.value)} />
        <TextInput label="Description" placeholder="CRM sync" maxLength={500} value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
        <MultiSelect
          label="Events"
          description="None chosen means every event."
          placeholder={events.length === 0 ? 'All events' : undefined}
          data={[...WEBHOOK_EVENT_TYPES]}
          value={events}
          onChange={setEvents}
          clearable
          searchable
        />
        <Switch label="Enabled" description="A disabled endpoint gets nothing; retries in progress stop." checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {initial ? 'Save' : 'Add endpoint'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
