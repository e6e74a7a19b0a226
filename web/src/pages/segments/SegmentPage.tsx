import { Alert, Anchor, Badge, Card, Group, Loader, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { notifyDone, notifyError } from '../../api/audience';
import { ApiError, del, errorMessage, get, patch, post } from '../../api/client';
import type { Contact, Data, Paged, Segment, SegmentPreview, SegmentRules } from '../../api/types';
import { useSession } from '../../auth/session';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ContactStatusBadge } from '../../components/ContactStatusBadge';
import { EditButton } from '../../components/EditGuard';
import { fullName } from '../../components/format';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';
import { RuleBuilder } from './RuleBuilder';
import { EmptyRow } from '../../components/EmptyRow';

const STARTER: SegmentRules = { operator: 'AND', conditions: [{ type: 'attribute', field: 'status', op: 'eq', value: 'subscribed' }] };

/** Create (`/segments/new`) or edit a segment: name, rules, a live count while editing, and its contacts. */
export function SegmentPage() {
  const param = useParams().id;
  const isNew = param === 'new';
  const id = isNew ? null : Number(param);
  const segment = useQuery({ queryKey: ['segment', id], queryFn: () => get<Data<Segment>>(`/segments/${id}`), enabled: id !== null });
  return (
    <QueryState isLoading={id !== null && segment.isLoading} error={segment.error}>
      {(isNew || segment.data) && <SegmentEditor key={id ?? 'new'} segment={segment.data?.data ?? null} />}
    </QueryState>
  );
}

function SegmentEditor({ segment }: { segment: Segment | null }) {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [name, setName] = useState(segment?.name ?? '');
  const [rules, setRules] = useState<SegmentRules>(segment?.rules ?? STARTER);
  const [debounced] = useDebouncedValue(rules, 400);
  const dirty = !segment || name !== segment.name || JSON.stringify(rules) !== JSON.stringify(segment.rules);
  useEffect(() => {
    if (segment) {
      setName(segment.name);
      setRules(segment.rules);
    }
  }, [segment]);

  // Previewing unsaved rules is a POST, which the server keeps for editors; a viewer cannot change the
  // rules anyway, so they see the saved segment's count.
  const preview = useQuery({
    queryKey: canEdit ? ['segment', 'preview', debounced] : ['segment', segment?.id, 'count', 'as-preview'],
    queryFn: () =>
      canEdit
        ? post<Data<SegmentPreview>>('/segments/preview', { rules: debounced })
        : get<Data<{ count: number }>>(`/segments/${segment!.id}/count`).then(({ data }) => ({ data: { count: data.count, sample: [] as Contact[] } })),
    enabled: canEdit || !!segment,
    placeholderData: keepPreviousData,
    retry: false,
  });
  const ruleErrors = preview.error instanceof ApiError && preview.error.status === 400 ? preview.error.details.filter((d) => d.path.startsWith('rules')) : [];
  const pending = debounced !== rules || preview.isFetching;

  const save = useMutation({
    mutationFn: () => (segment ? patch<Data<Segment>>(`/segments/${segment.id}`, { name, rules }) : post<Data<Segment>>('/segments', { name, rules })),
    onSuccess: async ({ data }) => {
      notifyDone(segment ? 'Segment saved.' : `Created segment ${data.name}.`);
      await queryClient.invalidateQueries({ queryKey: ['segments'] });
      await queryClient.invalidateQueries({ queryKey: ['segment'] });
      if (!segment) navigate(`/segments/${data.id}`, { replace: true });
    },
  });
  const remove = useMutation({
    mutationFn: () => del(`/segments/${segment!.id}`),
    onSuccess: async () => {
      notifyDone(`Deleted segment ${segment!.name}.`);
      await queryClient.invalidateQueries({ queryKey: ['segments'] });
      navigate('/segments');
    },
    onError: notifyError('Could not delete the segment'),
  });
  const saveErrors = save.error instanceof ApiError ? save.error.details.filter((d) => d.path.startsWith('rules')) : [];

  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }

  return (
    <Page
      title={segment ? segment.name : 'New segment'}
      actions={
        segment && (
          <ConfirmButton
            variant="light"
            size="sm"
            title={`Delete segment “${segment.name}”?`}
            message="Its contacts are not touched. A segment used by an unfinished campaign cannot be deleted."
            confirmLabel="Delete segment"
            onConfirm={() => remove.mutateAsync()}
          >
            Delete
          </ConfirmButton>
        )
      }
    >
      <Anchor component={Link} to="/segments" size="sm">
        ← All segments
      </Anchor>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} readOnly={!canEdit} maw={480} placeholder="Engaged French VIPs" />
          <Card withBorder p="sm" aria-live="polite">
            <Group gap="sm">
              <Text size="sm">Matching contacts now:</Text>
              {preview.data && (
                <Badge size="xl" variant="light" data-testid="segment-count">
                  {preview.data.data.count.toLocaleString()}
                </Badge>
              )}
              {pending && <Loader size="xs" aria-label="Counting" />}
              {ruleErrors.length > 0 && !pending && (
                <Text size="sm" c="orange">
                  Finish or fix the conditions marked below to update the count.
                </Text>
              )}
              {preview.error && ruleErrors.length === 0 && (
                <Text size="sm" c="red" role="alert">
                  {errorMessage(preview.error)}
                </Text>
              )}
            </Group>
          </Card>
          <RuleBuilder rules={rules} onChange={setRules} errors={[...ruleErrors, ...saveErrors]} readOnly={!canEdit} />
          {save.error && (
            <Alert color="red" role="alert" title="Not saved">
              {errorMessage(save.error)}
            </Alert>
          )}
          <Group>
            <EditButton type="submit" loading={save.isPending} disabled={!name.trim() || !dirty}>
              {segment ? 'Save segment' : 'Create segment'}
            </EditButton>
            {dirty && segment && (
              <Text size="sm" c="dimmed">
                Unsaved changes
              </Text>
            )}
          </Group>
        </Stack>
      </form>

      {segment && !dirty ? (
        <SegmentContacts id={segment.id} />
      ) : (
        <Stack gap="xs">
          <Title order={3} size="h4">
            First matching contacts
          </Title>
          <ContactTable rows={preview.data?.data.sample ?? []} />
        </Stack>
      )}
    </Page>
  );
}

function SegmentContacts({ id }: { id: number }) {
  const [page, setPage] = useState(1);
  const contacts = useQuery({
    queryKey: ['segment', id, 'contacts', page],
    queryFn: () => get<Paged<Contact>>(`/segments/${id}/contacts`, { page, limit: 50 }),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={3} size="h4">
          Matching contacts
        </Title>
        <Anchor component={Link} to={`/contacts?segmentId=${id}`} size="sm">
          Open in Contacts
        </Anchor>
      </Group>
      <QueryState isLoading={contacts.isLoading} error={contacts.error}>
        <ContactTable rows={contacts.data?.data ?? []} />
        <Pager info={contacts.data?.pagination} noun="contacts" onChange={setPage} />
      </QueryState>
    </Stack>
  );
}

function ContactTable({ rows }: { rows: Contact[] }) {
  return (
    <Table.ScrollContainer minWidth={480}>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Email</Table.Th>
            <Table.Th>Name</Table.Th>
            <Table.Th>Status</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((c) => (
            <Table.Tr key={c.id}>
              <Table.Td>
                <Anchor component={Link} to={`/contacts/${c.id}`} size="sm">
                  {c.email}
                </Anchor>
              </Table.Td>
              <Table.Td>{fullName(c) ?? '—'}</Table.Td>
              <Table.Td>
                <ContactStatusBadge status={c.status} />
              </Table.Td>
            </Table.Tr>
          ))}
          {rows.length === 0 && (
            <EmptyRow colSpan={3}>No contact matches.</EmptyRow>
          )}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
