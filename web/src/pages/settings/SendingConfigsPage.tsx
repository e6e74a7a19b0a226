import { Alert, Badge, Button, Card, Group, Modal, NumberInput, PasswordInput, Select, SimpleGrid, Stack, Switch, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { del, errorMessage, get, patch, post } from '../../api/client';
import { useSession } from '../../auth/session';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable } from '../../components/DataTable';
import { Page, QueryState } from '../../components/Page';
import type { Paged } from '../../components/Pager';
import { RoleNotice } from '../../components/RoleNotice';
import type { CredentialField, ProviderInfo, SendingConfig } from './types';

const PROVIDER_LABEL: Record<string, string> = { resend: 'Resend', smtp: 'SMTP', log: 'Log (no delivery)' };
const FIELD_LABEL: Record<string, string> = { apiKey: 'API key', host: 'Host', port: 'Port', secure: 'TLS from the start (port 465)', user: 'User name', pass: 'Password' };

type Values = Record<string, string | number | boolean | ''>;

interface FormState {
  name: string;
  provider: string;
  fromEmail: string;
  fromName: string;
  replyTo: string;
  maxPerSecond: number | '';
  trackOpens: boolean;
  trackClicks: boolean;
  webhookSecret: string;
  credentials: Values;
}

const emptyForm = (provider = 'resend'): FormState => ({
  name: '',
  provider,
  fromEmail: '',
  fromName: '',
  replyTo: '',
  maxPerSecond: '',
  trackOpens: true,
  trackClicks: true,
  webhookSecret: '',
  credentials: {},
});

const isSecret = (providers: ProviderInfo[], provider: string, field: string) =>
  providers.find((p) => p.name === provider)?.credentialFields.find((f) => f.name === field)?.secret ?? true;

function CredentialInput({ field, value, onChange }: { field: CredentialField; value: Values[string] | undefined; onChange: (v: Values[string]) => void }) {
  const label = FIELD_LABEL[field.name] ?? field.name;
  const description = field.description;
  if (field.type === 'boolean') {
    return <Switch label={label} description={field.description} checked={value === true || (value === undefined && field.default === true)} onChange={(e) => onChange(e.currentTarget.checked)} />;
  }
  if (field.type === 'integer' || field.type === 'number') {
    return (
      <NumberInput
        label={label}
        description={description}
        placeholder={field.default !== undefined ? String(field.default) : undefined}
        value={value === undefined || value === '' ? '' : Number(value)}
        onChange={(v) => onChange(v === '' ? '' : Number(v))}
        allowDecimal={false}
        min={1}
        max={65535}
      />
    );
  }
  const Input = field.secret ? PasswordInput : TextInput;
  return (
    <Input
      label={label}
      description={description}
      required={field.required}
      autoComplete="off"
      value={typeof value === 'string' ? value : ''}
      onChange={(e) => onChange(e.currentTarget.value)}
    />
  );
}

/** The add/edit dialog. Stored secrets are never shown: editing leaves credentials alone unless new ones are typed. */
function ConfigForm({ providers, initial, onClose }: { providers: ProviderInfo[]; initial: SendingConfig | null; onClose: () => void }) {
  const client = useQueryClient();
  const editing = initial !== null;
  const [form, setForm] = useState<FormState>(() =>
    initial
      ? {
          name: initial.name,
          provider: initial.provider,
          fromEmail: initial.fromEmail,
          fromName: initial.fromName ?? '',
          replyTo: initial.replyTo ?? '',
          maxPerSecond: initial.maxPerSecond ?? '',
          trackOpens: initial.trackOpens,
          trackClicks: initial.trackClicks,
          webhookSecret: '',
          // Non-secret fields (host, port, user) come back as stored; secrets are masked and never prefilled.
          credentials: Object.fromEntries(
            Object.entries(initial.credentials ?? {}).filter(
              ([k, v]) => !isSecret(providers, initial.provider, k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'),
            ),
          ) as Values,
        }
      : emptyForm(),
  );
  const provider = providers.find((p) => p.name === form.provider);
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => setForm((f) => ({ ...f, [key]: value }));

  // Editing keeps the stored credentials unless the user asks to replace them (a new provider must bring its own).
  const [replaceCredentials, setReplaceCredentials] = useState(!editing);
  const providerChanged = editing && initial.provider !== form.provider;
  const sendCredentials = !editing || replaceCredentials || providerChanged;

  const save = useMutation({
    mutationFn: async () => {
      const body: Record<string, unknown> = {
        name: form.name,
        provider: form.provider,
        fromEmail: form.fromEmail,
        fromName: form.fromName.trim() || null,
        replyTo: form.replyTo.trim() || null,
        maxPerSecond: form.maxPerSecond === '' ? null : form.maxPerSecond,
        trackOpens: form.trackOpens,
        trackClicks: form.trackClicks,
      };
      if (form.webhookSecret.trim()) body.webhookSecret = form.webhookSecret.trim();
      if (sendCredentials) body.credentials = Object.fromEntries(Object.entries(form.credentials).filter(([, v]) => v !== ''));
      return editing ? patch(`/sending-configs/${initial.id}`, body) : post('/sending-configs', body);
    },
    onSuccess: () => {
      notifications.show({ color: 'teal', message: editing ? 'Sending config saved' : 'Sending config added' });
      void client.invalidateQueries({ queryKey: ['sending-configs'] });
      onClose();
    },
  });

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
        <TextInput label="Name" description="For you: e.g. “Production (Resend)”" required value={form.name} onChange={(e) => set('name', e.currentTarget.value)} />
        <Select
          label="Provider"
          required
          allowDeselect={false}
          data={providers.map((p) => ({ value: p.name, label: PROVIDER_LABEL[p.name] ?? p.name }))}
          value={form.provider}
          onChange={(v) => v && setForm((f) => ({ ...f, provider: v, credentials: {} }))}
          description={provider?.description}
        />
        {provider && provider.credentialFields.length > 0 && (
          <Card withBorder p="sm">
            <Stack gap="xs">
              <Text size="sm" fw={600}>
                Connection
              </Text>
              {editing && !providerChanged && (
                <Switch
                  label="Replace the stored credentials"
                  description="They are kept, encrypted, and never shown again. Turn this on to enter new ones."
                  checked={replaceCredentials}
                  onChange={(e) => setReplaceCredentials(e.currentTarget.checked)}
                />
              )}
              {sendCredentials &&
                provider.credentialFields.map((field) => (
                  <CredentialInput
                    key={`${form.provider}.${field.name}`}
                    field={field}
                    value={form.credentials[field.name]}
                    onChange={(v) => setForm((f) => ({ ...f, credentials: { ...f.credentials, [field.name]: v } }))}
                  />
                ))}
            </Stack>
          </Card>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="From address" type="email" required value={form.fromEmail} onChange={(e) => set('fromEmail', e.currentTarget.value)} />
          <TextInput label="From name" value={form.fromName} onChange={(e) => set('fromName', e.currentTarget.value)} />
          <TextInput label="Reply-to address" type="email" value={form.replyTo} onChange={(e) => set('replyTo', e.currentTarget.value)} />
          <NumberInput
            label="Rate limit (emails per second)"
            description="Empty means no limit"
            min={1}
            max={10000}
            allowDecimal={false}
            value={form.maxPerSecond}
            onChange={(v) => set('maxPerSecond', v === '' ? '' : Number(v))}
          />
        </SimpleGrid>
        <Group>
          <Switch label="Track opens" checked={form.trackOpens} onChange={(e) => set('trackOpens', e.currentTarget.checked)} />
          <Switch label="Track clicks" checked={form.trackClicks} onChange={(e) => set('trackClicks', e.currentTarget.checked)} />
        </Group>
        {provider?.capabilities.webhooks && (
          <PasswordInput
            label="Resend webhook signing secret"
            description={
              initial?.webhookSecret ? `Stored (${initial.webhookSecret}); leave empty to keep it.` : 'whsec_…, from the webhook you add in Resend; it lets Tidings record deliveries, bounces and complaints.'
            }
            autoComplete="off"
            value={form.webhookSecret}
            onChange={(e) => set('webhookSecret', e.currentTarget.value)}
          />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {editing ? 'Save' : 'Add sending config'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function VerifyButton({ config }: { config: SendingConfig }) {
  const verify = useMutation({
    mutationFn: () => post<{ data: { ok: boolean; message: string } }>(`/sending-configs/${config.id}/verify`),
    onSuccess: ({ data }) =>
      notifications.show({ color: data.ok ? 'teal' : 'red', title: data.ok ? `${config.name}: connection works` : `${config.name}: not accepted`, message: data.message }),
    onError: (err) => notifications.show({ color: 'red', title: 'Could not check the connection', message: errorMessage(err) }),
  });
  return (
    <Button size="xs" variant="light" loading={verify.isPending} onClick={() => verify.mutate()} aria-label={`Test connection of ${config.name}`}>
      Test connection
    </Button>
  );
}

/** Provider accounts and sender identities: list, add, edit, test the credentials, delete. */
export function SendingConfigsPage() {
  const { isOwner, session } = useSession();
  const client = useQueryClient();
  const configs = useQuery({ queryKey: ['sending-configs', 'list'], queryFn: () => get<Paged<SendingConfig>>('/sending-configs', { limit: 100 }) });
  const providers = useQuery({ queryKey: ['providers'], queryFn: () => get<{ data: ProviderInfo[] }>('/providers'), staleTime: Infinity });
  const [editing, setEditing] = useState<SendingConfig | 'new' | null>(null);
  const remove = useMutation({
    mutationFn: (id: number) => del(`/sending-configs/${id}`),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: 'Sending config deleted' });
      void client.invalidateQueries({ queryKey: ['sending-configs'] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not delete', message: errorMessage(err) }),
  });

  return (
    <Page
      title="Sending configs"
      actions={
        isOwner && (
          <Button onClick={() => setEditing('new')} disabled={!providers.data}>
            Add sending config
          </Button>
        )
      }
    >
      <Text c="dimmed" size="sm">
        Each config is a provider account and the sender people see. Campaigns, sequences and the send API pick one by its id.
      </Text>
      <RoleNotice role={session?.user.role} needs="owner" what="sending configs" />
      <QueryState isLoading={configs.isLoading} error={configs.error}>
        {configs.data?.data.length === 0 ? (
          <Text c="dimmed">No sending configs yet.</Text>
        ) : (
          <DataTable
            label="Sending configs"
            rows={configs.data?.data ?? []}
            rowKey={(c) => c.id}
            minWidth={800}
            columns={[
              { header: 'Id', cell: (c) => c.id },
              { header: 'Name', cell: (c) => <Text fw={500} size="sm">{c.name}</Text> },
              {
                header: 'Provider',
                cell: (c) => (
                  <Badge variant="light" color={c.provider === 'log' ? 'gray' : 'indigo'}>
                    {PROVIDER_LABEL[c.provider] ?? c.provider}
                  </Badge>
                ),
              },
              {
                header: 'From',
                cell: (c) => (
                  <>
                    <Text size="sm">{c.fromName ? `${c.fromName} <${c.fromEmail}>` : c.fromEmail}</Text>
                    {c.replyTo && (
                      <Text size="xs" c="dimmed">
                        Reply-to {c.replyTo}
                      </Text>
                    )}
                  </>
                ),
              },
              {
                header: 'Credentials',
                cell: (c) =>
                  c.credentials === null ? (
                    <Text size="sm" c="red">
                      Unreadable (the server’s secret changed): edit and enter them again
                    </Text>
                  ) : Object.keys(c.credentials).length === 0 ? (
                    <Text size="sm" c="dimmed">
                      None needed
                    </Text>
                  ) : (
                    <Text size="sm" ff="monospace">
                      {Object.entries(c.credentials)
                        .map(([k, v]) => `${k}: ${String(v)}`)
                        .join(', ')}
                    </Text>
                  ),
              },
              {
                header: 'Limits and tracking',
                cell: (c) => (
                  <>
                    <Text size="sm">{c.maxPerSecond ? `${c.maxPerSecond}/s` : 'No rate limit'}</Text>
                    <Text size="xs" c="dimmed">
                      Opens {c.trackOpens ? 'tracked' : 'not tracked'}, clicks {c.trackClicks ? 'tracked' : 'not tracked'}
                    </Text>
                  </>
                ),
              },
              {
                header: 'Actions',
                hideHeader: true,
                cell: (c) =>
                  isOwner && (
                    <Group gap={4} wrap="nowrap" justify="flex-end">
                      <VerifyButton config={c} />
                      <Button size="xs" variant="subtle" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>
                        Edit
                      </Button>
                      <ConfirmButton
                        aria-label={`Delete ${c.name}`}
                        title={`Delete “${c.name}”?`}
                        message="Campaigns, sequences and API calls using it will fail until they use another config. A config the send log refers to cannot be deleted."
                        confirmLabel="Delete"
                        onConfirm={() => remove.mutateAsync(c.id)}
                      >
                        Delete
                      </ConfirmButton>
                    </Group>
                  ),
              },
            ]}
          />
        )}
      </QueryState>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? 'Add a sending config' : `Edit “${editing?.name ?? ''}”`} size="lg">
        {editing !== null && providers.data && <ConfigForm providers={providers.data.data} initial={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
      </Modal>
    </Page>
  );
}
