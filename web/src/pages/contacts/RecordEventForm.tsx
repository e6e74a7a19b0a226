import { Alert, Button, Card, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { notifyDone } from '../../api/audience';
import { errorMessage, post } from '../../api/client';
import { useSession } from '../../auth/session';

/** POST /contacts/:id/events by hand: what the customer's product would post (it can start or move sequences). */
export function RecordEventForm({ contactId }: { contactId: number }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [data, setData] = useState('');
  const [dataError, setDataError] = useState<string | null>(null);
  const record = useMutation({
    mutationFn: (body: { name: string; data?: Record<string, unknown> }) =>
      post<{ data: { enrolledInto: number[]; signalled: number } }>(`/contacts/${contactId}/events`, body),
    onSuccess: async ({ data: result }) => {
      notifyDone(
        `Event recorded${result.enrolledInto.length ? `; enrolled into ${result.enrolledInto.length} sequence(s)` : ''}${result.signalled ? `; ${result.signalled} journey(s) notified` : ''}.`,
      );
      setName('');
      setData('');
      await queryClient.invalidateQueries({ queryKey: ['contact', contactId, 'activity'] });
    },
  });
  if (!canEdit) return null;

  function submit(e: FormEvent) {
    e.preventDefault();
    let parsed: Record<string, unknown> | undefined;
    if (data.trim()) {
      try {
        parsed = JSON.parse(data) as Record<string, unknown>;
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      } catch {
        setDataError('Must be a JSON object, e.g. {"plan": "pro"}');
        return;
      }
    }
    setDataError(null);
    record.mutate({ name: name.trim(), data: parsed });
  }

  return (
    <Card withBorder component="form" onSubmit={submit}>
      <Stack gap="sm">
        <Title order={3} size="h4">
          Record an event
        </Title>
        <Text size="xs" c="dimmed">
          As if your product had posted it: sequences triggered by this event name start for this contact.
        </Text>
        {record.error && (
          <Alert color="red" role="alert">
            {errorMessage(record.error)}
          </Alert>
        )}
        <TextInput label="Event name" placeholder="purchased" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <Textarea label="Data (JSON, optional)" placeholder='{"plan": "pro"}' value={data} onChange={(e) => setData(e.currentTarget.value)} error={dataError} autosize minRows={2} />
        <Button type="submit" variant="light" loading={record.isPending} disabled={!name.trim()} w="fit-content">
          Record event
        </Button>
      </Stack>
    </Card>
  );
}
