import { ActionIcon, Alert, Anchor, Badge, Button, Card, Grid, Group, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { AUDIENCE_KEYS, listName, notifyDone, notifyError, useLists, useTags } from '../../api/audience';
import { del, errorMessage, get, patch, post } from '../../api/client';
import type { Contact, Data, Paged, Suppression } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ContactStatusBadge } from '../../components/ContactStatusBadge';
import { EditButton, VIEWER_HINT } from '../../components/EditGuard';
import { formatDateTime, fullName } from '../../components/format';
import { Page, QueryState } from '../../components/Page';
import { useSession } from '../../auth/session';
import { ActivityTimeline } from './ActivityTimeline';
import { RecordEventForm } from './RecordEventForm';

const STANDARD: Array<{ key: keyof Contact; label: string; type?: string }> = [
  { key: 'email', label: 'Email', type: 'email' },
  { key: 'firstName', label: 'First name' },
  { key: 'lastName', label: 'Last name' },
  { key: 'phone', label: 'Phone' },
  { key: 'company', label: 'Company' },
  { key: 'city', label: 'City' },
  { key: 'country', label: 'Country' },
  { key: 'timezone', label: 'Time zone (IANA, e.g. Europe/Paris)' },
  { key: 'source', label: 'Source' },
];

/** One contact: its fields (editable by editors), lists, tags, subscription and activity timeline. */
export function ContactPage() {
  const id = Number(useParams().id);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const contact = useQuery({ queryKey: ['contact', id], queryFn: () => get<Data<Contact>>(`/contacts/${id}`) });
  const c = contact.data?.data;
  const suppression = useQuery({
    queryKey: ['suppressions', { email: c?.email }],
    queryFn: () => get<Paged<Suppression>>('/suppressions', { email: c!.email, limit: 1 }),
    enabled: !!c,
  });
  const suppressed = suppression.data?.data[0];

  const refresh = () => Promise.all(AUDIENCE_KEYS.map((queryKey) => queryClient.invalidateQueries({ queryKey: [...queryKey] })));
  const setStatus = useMutation({
    mutationFn: (status: Contact['status']) => patch<Data<Contact>>(`/contacts/${id}`, { status }),
    onSuccess: async ({ data }) => {
      notifyDone(data.status === 'subscribed' ? `${data.email} is subscribed again.` : `${data.email} is unsubscribed.`);
      await refresh();
    },
    onError: notifyError('Could not change the subscription'),
  });
  const remove = useMutation({
    mutationFn: () => del(`/contacts/${id}`),
    onSuccess: async () => {
      notifyDone(`Deleted ${c?.email ?? 'the contact'}.`);
      await refresh();
      navigate('/contacts');
    },
    onError: notifyError('Could not delete the contact'),
  });

  return (
    <Page
      title={c ? (fullName(c) ?? c.email) : 'Contact'}
      actions={
        c && (
          <>
            {c.status === 'subscribed' ? (
              <ConfirmButton
                variant="default"
                size="sm"
                color="gray"
                title="Unsubscribe this contact?"
                message={`${c.email} will get no more campaigns or sequence emails. Transactional emails are still sent.`}
                confirmLabel="Unsubscribe"
                onConfirm={() => setStatus.mutateAsync('unsubscribed')}
              >
                Unsubscribe
              </ConfirmButton>
            ) : (
              <ConfirmButton
                variant="default"
                size="sm"
                color="indigo"
                title="Subscribe this contact again?"
                message={
                  c.status === 'unsubscribed'
                    ? `Only do this if ${c.email} asked to receive your emails again.`
                    : `${c.email} is marked ${c.status}. Sending to an address that ${c.status === 'bounced' ? 'bounces' : 'complained'} hurts your sender reputation; only resubscribe if you know it is fixed.`
                }
                confirmLabel="Resubscribe"
                onConfirm={() => setStatus.mutateAsync('subscribed')}
              >
                Resubscribe
              </ConfirmButton>
            )}
            <ConfirmButton
              variant="light"
              size="sm"
              title="Delete this contact?"
              message={`${c.email} and its list memberships, tags and events are deleted. Its sends stay in the send log. This cannot be undone.`}
              confirmLabel="Delete contact"
              onConfirm={() => remove.mutateAsync()}
            >
              Delete
            </ConfirmButton>
          </>
        )
      }
    >
      <Anchor component={Link} to="/contacts" size="sm">
        ← All contacts
      </Anchor>
      <QueryState isLoading={contact.isLoading} error={contact.error}>
        {c && (
          <Stack gap="md">
            <Group gap="sm" wrap="wrap">
              <Text fw={500}>{c.email}</Text>
              <ContactStatusBadge status={c.status} />
              <Text size="sm" c="dimmed">
                Added {formatDateTime(c.createdAt)}
                {c.subscribedAt && ` · subscribed ${formatDateTime(c.subscribedAt)}`}
                {c.unsubscribedAt && ` · unsubscribed ${formatDateTime(c.unsubscribedAt)}`}
              </Text>
            </Group>
            {suppressed && (
              <Alert color="orange" title="This address is suppressed">
                No email of any kind is sent to {suppressed.email} (reason: {suppressed.reason.replace('_', ' ')}
                {suppressed.note ? `, “${suppressed.note}”` : ''}). Lift it on the <Anchor component={Link} to="/suppressions" inherit>Suppressions</Anchor> page.
              </Alert>
            )}
            <Grid gap="md">
              <Grid.Col span={{ base: 12, md: 7 }}>
                <ProfileCard contact={c} onSaved={refresh} />
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 5 }}>
                <Stack gap="md">
                  <ListsCard contact={c} onChanged={refresh} />
                  <TagsCard contact={c} onChanged={refresh} />
                  <RecordEventForm contactId={c.id} />
                </Stack>
              </Grid.Col>
            </Grid>
            <Card withBorder>
              <Title order={3} size="h4" mb="sm">
                Activity
              </Title>
              <ActivityTimeline contactId={c.id} />
            </Card>
          </Stack>
        )}
      </QueryState>
    </Page>
  );
}

function cfText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
/** Keeps a number or boolean a number or boolean when the text still reads as one. */
function cfValue(text: string, original: unknown): unknown {
  if (typeof original === 'number' && text.trim() !== '' && !Number.isNaN(Number(text))) return Number(text);
  if (typeof original === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  if (original !== null && typeof original === 'object') {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function ProfileCard({ contact, onSaved }: { contact: Contact; onSaved: () => Promise<unknown> }) {
  const { canEdit } = useSession();
  const initial = () => Object.fromEntries(STANDARD.map((f) => [f.key, (contact[f.key] as string | null) ?? '']));
  const initialCustom = () => Object.fromEntries(Object.entries(contact.customFields).map(([k, v]) => [k, cfText(v)]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [custom, setCustom] = useState<Record<string, string>>(initialCustom);
  const [newField, setNewField] = useState({ name: '', value: '' });
  // A refetch after someone else's change resets the form when it has no unsaved edits.
  useEffect(() => {
    setValues(initial());
    setCustom(initialCustom());
  }, [contact.updatedAt]);

  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = {};
      for (const f of STANDARD) {
        const before = (contact[f.key] as string | null) ?? '';
        const now = values[f.key] ?? '';
        if (now !== before) body[f.key] = f.key === 'email' ? now : now.trim() === '' ? null : now;
      }
      const customFields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(custom)) if (v !== cfText(contact.customFields[k])) customFields[k] = cfValue(v, contact.customFields[k]);
      if (newField.name.trim()) customFields[newField.name.trim()] = newField.value;
      if (Object.keys(customFields).length) body.customFields = customFields;
      return patch<Data<Contact>>(`/contacts/${contact.id}`, body);
    },
    onSuccess: async () => {
      setNewField({ name: '', value: '' });
      notifyDone('Contact saved.');
      await onSaved();
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }

  return (
    <Card withBorder component="form" onSubmit={submit}>
      <Stack gap="sm">
        <Title order={3} size="h4">
          Profile
        </Title>
        {!canEdit && (
          <Text size="sm" c="dimmed">
            {VIEWER_HINT}
          </Text>
        )}
        {save.error && (
          <Alert color="red" role="alert">
            {errorMessage(save.error)}
          </Alert>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          {STANDARD.map((f) => (
            <TextInput
              key={f.key}
              label={f.label}
              type={f.type}
              required={f.key === 'email'}
              readOnly={!canEdit}
              value={values[f.key] ?? ''}
              onChange={(e) => {
                const v = e.currentTarget.value;
                setValues((s) => ({ ...s, [f.key]: v }));
              }}
            />
          ))}
        </SimpleGrid>
        <Title order={4} size="h5" mt="xs">
          Custom fields
        </Title>
        {Object.keys(custom).length === 0 && (
          <Text size="sm" c="dimmed">
            None yet.
          </Text>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          {Object.entries(custom).map(([k, v]) => (
            <TextInput
              key={k}
              label={k}
              readOnly={!canEdit}
              value={v}
              onChange={(e) => {
                const value = e.currentTarget.value;
                setCustom((s) => ({ ...s, [k]: value }));
              }}
            />
          ))}
        </SimpleGrid>
        {canEdit && (
          <Group grow align="flex-end" gap="sm">
            <TextInput
              label="New field name"
              placeholder="plan"
              value={newField.name}
              onChange={(e) => {
                const name = e.currentTarget.value;
                setNewField((f) => ({ ...f, name }));
              }}
              error={newField.name && !/^[A-Za-z_][A-Za-z0-9_-]{0,99}$/.test(newField.name) ? 'Letters, digits, _ and -' : undefined}
            />
            <TextInput
              label="New field value"
              placeholder="pro"
              value={newField.value}
              onChange={(e) => {
                const value = e.currentTarget.value;
                setNewField((f) => ({ ...f, value }));
              }}
            />
          </Group>
        )}
        <Group justify="flex-end">
          <EditButton type="submit" loading={save.isPending}>
            Save changes
          </EditButton>
        </Group>
      </Stack>
    </Card>
  );
}

function ListsCard({ contact, onChanged }: { contact: Contact; onChanged: () => Promise<unknown> }) {
  const { canEdit } = useSession();
  const lists = useLists();
  const [pick, setPick] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: (listId: number) => post(`/contacts/${contact.id}/lists`, { listId }),
    onSuccess: async () => {
      setPick(null);
      await onChanged();
    },
    onError: notifyError('Could not add to the list'),
  });
  const remove = useMutation({
    mutationFn: (listId: number) => del(`/contacts/${contact.id}/lists/${listId}`),
    onSuccess: onChanged,
    onError: notifyError('Could not remove from the list'),
  });
  const options = (lists.data?.data ?? []).filter((l) => !contact.lists.includes(l.id)).map((l) => ({ value: String(l.id), label: l.name }));

  return (
    <Card withBorder>
      <Stack gap="sm">
        <Title order={3} size="h4">
          Lists
        </Title>
        <Group gap={6}>
          {contact.lists.length === 0 && (
            <Text size="sm" c="dimmed">
              In no list.
            </Text>
          )}
          {contact.lists.map((listId) => {
            const name = listName(lists.data?.data, listId);
            return (
              <Badge
                key={listId}
                size="lg"
                variant="light"
                rightSection={
                  canEdit && (
                    <ActionIcon size="xs" variant="transparent" aria-label={`Remove from ${name}`} onClick={() => remove.mutate(listId)} loading={remove.isPending && remove.variables === listId}>
                      ×
                    </ActionIcon>
                  )
                }
              >
                <Anchor component={Link} to={`/lists/${listId}`} inherit c="inherit" underline="always">
                  {name}
                </Anchor>
              </Badge>
            );
          })}
        </Group>
        {canEdit ? (
          <Group gap="xs" align="flex-end">
            <Select label="Add to list" placeholder={options.length ? 'Pick a list' : 'No other list'} data={options} value={pick} onChange={setPick} searchable style={{ flex: 1 }} />
            <Button disabled={!pick} loading={add.isPending} onClick={() => pick && add.mutate(Number(pick))}>
              Add
            </Button>
          </Group>
        ) : (
          <Text size="xs" c="dimmed">
            Viewers cannot change list membership.
          </Text>
        )}
      </Stack>
    </Card>
  );
}

function TagsCard({ contact, onChanged }: { contact: Contact; onChanged: () => Promise<unknown> }) {
  const { canEdit } = useSession();
  const tags = useTags();
  const [tag, setTag] = useState('');
  const add = useMutation({
    mutationFn: (name: string) => post(`/contacts/${contact.id}/tags`, { tag: name }),
    onSuccess: async () => {
      setTag('');
      await onChanged();
    },
    onError: notifyError('Could not add the tag'),
  });
  const remove = useMutation({
    mutationFn: (name: string) => del(`/contacts/${contact.id}/tags/${encodeURIComponent(name)}`),
    onSuccess: onChanged,
    onError: notifyError('Could not remove the tag'),
  });
  const suggestions = (tags.data?.data ?? []).map((t) => t.name).filter((n) => !contact.tags.includes(n));

  return (
    <Card withBorder>
      <Stack gap="sm">
        <Title order={3} size="h4">
          Tags
        </Title>
        <Group gap={6}>
          {contact.tags.length === 0 && (
            <Text size="sm" c="dimmed">
              No tags.
            </Text>
          )}
          {contact.tags.map((name) => (
            <Badge
              key={name}
              size="lg"
              variant="outline"
              rightSection={
                canEdit && (
                  <ActionIcon size="xs" variant="transparent" aria-label={`Remove tag ${name}`} onClick={() => remove.mutate(name)}>
                    ×
                  </ActionIcon>
                )
              }
            >
              {name}
            </Badge>
          ))}
        </Group>
        {canEdit && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (tag.trim()) add.mutate(tag.trim());
            }}
          >
            <Group gap="xs" align="flex-end">
              <TextInput label="Add a tag" placeholder="vip" value={tag} onChange={(e) => setTag(e.currentTarget.value)} list="tag-suggestions" style={{ flex: 1 }} />
              <datalist id="tag-suggestions">
                {suggestions.map((n) => (
                  <option key={n} value={n} />
                ))}
              </datalist>
              <Button type="submit" disabled={!tag.trim()} loading={add.isPending}>
                Add
              </Button>
            </Group>
          </form>
        )}
      </Stack>
    </Card>
  );
}
