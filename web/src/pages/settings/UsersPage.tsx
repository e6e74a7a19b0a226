import { Alert, Badge, Button, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { del, errorMessage, get, patch, post } from '../../api/client';
import { useSession, type Role } from '../../auth/session';
import { ConfirmButton } from '../../components/ConfirmButton';
import { CopyField } from '../../components/CopyField';
import { DataTable } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { Page, QueryState } from '../../components/Page';
import { RoleNotice } from '../../components/RoleNotice';
import type { SiteUser } from './types';

const ROLES: Array<{ value: Role; label: string; description: string }> = [
  { value: 'viewer', label: 'Viewer', description: 'Sees everything, changes nothing.' },
  { value: 'editor', label: 'Editor', description: 'Manages contacts, templates, campaigns and sequences.' },
  { value: 'owner', label: 'Owner', description: 'Everything, plus users, API keys, sending configs and webhooks.' },
];
const ROLE_COLOR: Record<Role, string> = { owner: 'indigo', editor: 'blue', viewer: 'gray' };

const lastSignIn = (u: SiteUser) => u.lastLoginAt ?? u.lastSignInAt ?? null;
const isDisabled = (u: SiteUser) => u.disabled === true || (u.disabledAt !== undefined && u.disabledAt !== null);

/** Invite: pick a role, get a one-time sign-up link to hand over. */
function Invite({ onClose }: { onClose: () => void }) {
  const [role, setRole] = useState<Role>('editor');
  const invite = useMutation({ mutationFn: () => post<{ data: { url: string; expiresAt: string } } | { url: string; expiresAt: string }>('/users/invites', { role }) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  const link = invite.data ? ('data' in invite.data ? invite.data.data : invite.data) : null;
  if (link) {
    return (
      <Stack>
        <Text size="sm">
          Send this link to the person you are inviting. It signs them up as {role} and works once, until {formatDateTime(link.expiresAt)}.
        </Text>
        <CopyField label="Invite link" value={link.url} />
        <Group justify="flex-end">
          <Button onClick={onClose}>Done</Button>
        </Group>
      </Stack>
    );
  }
  return (
    <form onSubmit={submit}>
      <Stack>
        {invite.error && (
          <Alert color="red" role="alert">
            {errorMessage(invite.error)}
          </Alert>
        )}
        <Select
          label="Role"
          required
          allowDeselect={false}
          data={ROLES.map((r) => ({ value: r.value, label: r.label }))}
          value={role}
          onChange={(v) => v && setRole(v as Role)}
          description={ROLES.find((r) => r.value === role)?.description}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={invite.isPending}>
            Create invite link
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The people who can sign in to this site (owners only): invite, change roles, disable, remove. */
export function UsersPage() {
  const { isOwner, session } = useSession();
  const client = useQueryClient();
  const [inviting, setInviting] = useState(false);
  const users = useQuery({ queryKey: ['users'], queryFn: () => get<{ data: SiteUser[] }>('/users', { limit: 100 }), enabled: isOwner });
  const onError = (title: string) => (err: unknown) => notifications.show({ color: 'red', title, message: errorMessage(err) });
  const refresh = () => void client.invalidateQueries({ queryKey: ['users'] });
  const update = useMutation({
    mutationFn: ({ id, ...body }: { id: number; role?: Role; disabled?: boolean }) => patch(`/users/${id}`, body),
    onSuccess: (_d, v) => {
      notifications.show({ color: 'teal', message: v.role ? `Role changed to ${v.role}` : v.disabled ? 'User disabled' : 'User enabled' });
      refresh();
    },
    onError: onError('Could not change the user'),
  });
  const remove = useMutation({
    mutationFn: (id: number) => del(`/users/${id}`),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: 'User removed' });
      refresh();
    },
    onError: onError('Could not remove the user'),
  });

  if (!isOwner) {
    return (
      <Page title="Users">
        <RoleNotice role={session?.user.role} needs="owner" what="who has access" readable={false} />
      </Page>
    );
  }
  return (
    <Page title="Users" actions={<Button onClick={() => setInviting(true)}>Invite user</Button>}>
      <QueryState isLoading={users.isLoading} error={users.error}>
        <DataTable
          label="Users"
          rows={users.data?.data ?? []}
          rowKey={(u) => u.id}
          minWidth={760}
          dimmed={isDisabled}
          columns={[
            {
              header: 'Name',
              cell: (u) => (
                <Text size="sm" fw={500}>
                  {u.name}
                  {u.id === session?.user.id && (
                    <Text span size="xs" c="dimmed">
                      {' '}
                      (you)
                    </Text>
                  )}
                </Text>
              ),
            },
            { header: 'Email', cell: (u) => u.email },
            {
              header: 'Role',
              cell: (u) => (
                <Select
                  aria-label={`Role of ${u.email}`}
                  size="xs"
                  w={120}
                  allowDeselect={false}
                  data={ROLES.map((r) => ({ value: r.value, label: r.label }))}
                  value={u.role}
                  onChange={(v) => v && v !== u.role && update.mutate({ id: u.id, role: v as Role })}
                  leftSection={<Badge size="xs" circle color={ROLE_COLOR[u.role]} aria-hidden />}
                />
              ),
            },
            { header: 'Last sign-in', cell: (u) => <span title={formatDateTime(lastSignIn(u))}>{formatRelative(lastSignIn(u))}</span> },
            {
              header: 'Status',
              cell: (u) => (
                <Badge color={isDisabled(u) ? 'gray' : 'teal'} variant="light">
                  {isDisabled(u) ? 'Disabled' : 'Active'}
                </Badge>
              ),
            },
            {
              header: 'Actions',
              hideHeader: true,
              cell: (u) => (
                <Group gap={4} justify="flex-end" wrap="nowrap">
                  <Button
                    size="xs"
                    variant="subtle"
                    color={isDisabled(u) ? undefined : 'orange'}
                    onClick={() => update.mutate({ id: u.id, disabled: !isDisabled(u) })}
                    aria-label={`${isDisabled(u) ? 'Enable' : 'Disable'} ${u.email}`}
                  >
                    {isDisabled(u) ? 'Enable' : 'Disable'}
                  </Button>
                  <ConfirmButton
                    aria-label={`Remove ${u.email}`}
                    title={`Remove ${u.email}?`}
                    message={u.id === session?.user.id ? 'You will be signed out and lose access to this site.' : 'They lose access to this site at once. Invite them again to undo.'}
                    confirmLabel="Remove user"
                    onConfirm={() => remove.mutateAsync(u.id)}
                  >
                    Remove
                  </ConfirmButton>
                </Group>
              ),
            },
          ]}
        />
      </QueryState>
      <Modal opened={inviting} onClose={() => setInviting(false)} title="Invite a user" closeOnClickOutside={false}>
        {inviting && (
          <Invite
            onClose={() => {
              setInviting(false);
              refresh();
            }}
          />
        )}
      </Modal>
    </Page>
  );
}
