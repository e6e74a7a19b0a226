import { Alert, Badge, Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { del, errorMessage, get, post } from '../../api/client';
import { useSession } from '../../auth/session';
import { ConfirmButton } from '../../components/ConfirmButton';
import { CopyField } from '../../components/CopyField';
import { DataTable } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { Page, QueryState } from '../../components/Page';
import { Pager, type Paged } from '../../components/Pager';
import { RoleNotice } from '../../components/RoleNotice';
import type { ApiKey } from './types';

/** The create dialog: a name, then the key itself, shown this once. */
function CreateKey({ onClose }: { onClose: () => void }) {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => post<{ data: ApiKey & { key: string } }>('/api-keys', name.trim() ? { name: name.trim() } : {}),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['api-keys'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };

  if (create.data) {
    return (
      <Stack>
        <Alert color="yellow" title="Copy the key now">
          This is the only time Tidings shows it. Store it where your code reads secrets; if it is lost, create a new key and revoke this one.
        </Alert>
        <CopyField label="API key" value={create.data.data.key} />
        <Group justify="flex-end">
          <Button onClick={onClose}>Done</Button>
        </Group>
      </Stack>
    );
  }
  return (
    <form onSubmit={submit}>
      <Stack>
        {create.error && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <TextInput label="Name" description="Where it is used, e.g. “website signup form”" maxLength={100} value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create key
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** API keys of the site: who can call /api/v1 without signing in. Owners create and revoke them. */
export function ApiKeysPage() {
  const { isOwner, session } = useSession();
  const client = useQueryClient();
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  // The key list is the site's access list: the server shows it to owners only.
  const keys = useQuery({ queryKey: ['api-keys', page], queryFn: () => get<Paged<ApiKey>>('/api-keys', { page, limit: 50 }), enabled: isOwner });
  const revoke = useMutation({
    mutationFn: (id: number) => del(`/api-keys/${id}`),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: 'API key revoked' });
      void client.invalidateQueries({ queryKey: ['api-keys'] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not revoke the key', message: errorMessage(err) }),
  });

  return (
    <Page title="API keys" actions={isOwner && <Button onClick={() => setCreating(true)}>Create API key</Button>}>
      <Text c="dimmed" size="sm">
        Programs use a key to call the Tidings API (send transactional email, sync contacts). Keys are stored hashed: only their first characters are shown.
      </Text>
      <RoleNotice role={session?.user.role} needs="owner" what="API keys" readable={false} />
      {isOwner && (
        <QueryState isLoading={keys.isLoading} error={keys.error}>
          {keys.data?.data.length === 0 ? (
            <Text c="dimmed">No API keys.</Text>
          ) : (
            <DataTable
              label="API keys"
              rows={keys.data?.data ?? []}
              rowKey={(k) => k.id}
              dimmed={(k) => k.revokedAt !== null}
              columns={[
                { header: 'Name', cell: (k) => <Text fw={500} size="sm">{k.name}</Text> },
                { header: 'Key', cell: (k) => <Text ff="monospace" size="sm">{k.prefix}…</Text> },
                { header: 'Created', cell: (k) => formatDateTime(k.createdAt) },
                { header: 'Last used', cell: (k) => <span title={formatDateTime(k.lastUsedAt)}>{formatRelative(k.lastUsedAt)}</span> },
                {
                  header: 'Status',
                  cell: (k) =>
                    k.revokedAt ? (
                      <Badge color="gray" variant="light" title={`Revoked ${formatDateTime(k.revokedAt)}`}>
                        Revoked
                      </Badge>
                    ) : (
                      <Badge color="teal" variant="light">
                        Active
                      </Badge>
                    ),
                },
                {
                  header: 'Actions',
                  hideHeader: true,
                  align: 'right',
                  cell: (k) =>
                    !k.revokedAt && (
                      <ConfirmButton
                        aria-label={`Revoke ${k.name}`}
                        title={`Revoke “${k.name}”?`}
                        message={`Programs using ${k.prefix}… stop working at once. This cannot be undone.`}
                        confirmLabel="Revoke key"
                        onConfirm={() => revoke.mutateAsync(k.id)}
                      >
                        Revoke
                      </ConfirmButton>
                    ),
                },
              ]}
            />
          )}
          {keys.data && <Pager {...keys.data.pagination} onChange={setPage} label="API key pages" />}
        </QueryState>
      )}
      <Modal opened={creating} onClose={() => setCreating(false)} title="Create an API key" closeOnClickOutside={false}>
        {creating && <CreateKey onClose={() => setCreating(false)} />}
      </Modal>
    </Page>
  );
}
