import { Alert, Anchor, Autocomplete, Badge, Button, Checkbox, Group, Menu, Paper, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue, useMediaQuery } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { AUDIENCE_KEYS, notifyDone, notifyError, useLists, useSegments, useTags } from '../../api/audience';
import { api, get, post } from '../../api/client';
import { downloadFile } from '../../api/download';
import { CONTACT_STATUSES, type Contact, type Paged } from '../../api/types';
import { ContactStatusBadge } from '../../components/ContactStatusBadge';
import { EditButton } from '../../components/EditGuard';
import { formatDate, fullName } from '../../components/format';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';
import { useSession } from '../../auth/session';
import { CreateContactModal } from './CreateContactModal';

const PAGE_SIZE = 50;

/** Contacts: search and filters (kept in the URL, so a list or tag links here filtered), bulk list changes, export. */
export function ContactsPage() {
  const [params, setParams] = useSearchParams();
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const lists = useLists();
  const tags = useTags();
  const segments = useSegments();

  const q = params.get('q') ?? '';
  const status = params.get('status') ?? '';
  const listId = params.get('listId') ?? '';
  const tagId = params.get('tagId') ?? '';
  const segmentId = params.get('segmentId') ?? '';
  const page = Number(params.get('page') ?? '1') || 1;

  const [search, setSearch] = useState(q);
  const [debounced] = useDebouncedValue(search, 300);
  const [selected, setSelected] = useState<number[]>([]);
  const [creating, setCreating] = useState(false);
  const [exporting, setExporting] = useState(false);
  const narrow = useMediaQuery('(max-width: 36em)');
  const [showFilters, setShowFilters] = useState(false);

  const update = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in changes)) next.delete('page');
    setParams(next, { replace: true });
  };

  useEffect(() => {
    if (debounced !== q) update({ q: debounced || null });
  }, [debounced]);
  useEffect(() => setSelected([]), [params]);

  const filters = { q, status, listId, tagId };
  const contacts = useQuery({
    queryKey: ['contacts', segmentId ? { segmentId, page } : { ...filters, page }],
    queryFn: () =>
      segmentId
        ? get<Paged<Contact>>(`/segments/${segmentId}/contacts`, { page, limit: PAGE_SIZE })
        : get<Paged<Contact>>('/contacts', { ...filters, page, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });

  const invalidate = () => Promise.all(AUDIENCE_KEYS.map((queryKey) => queryClient.invalidateQueries({ queryKey: [...queryKey] })));
  const bulk = useMutation({
    mutationFn: async ({ action, list }: { action: 'add' | 'remove'; list: string }) =>
      action === 'add'
        ? post<{ data: { added: number; alreadyMembers: number } }>(`/lists/${list}/contacts`, { contactIds: selected })
        : api('DELETE', `/lists/${list}/contacts`, { contactIds: selected }),
    onSuccess: async (_res, { action, list }) => {
      const name = lists.data?.data.find((l) => String(l.id) === list)?.name ?? 'the list';
      notifyDone(action === 'add' ? `Added ${selected.length} contact(s) to ${name}.` : `Removed ${selected.length} contact(s) from ${name}.`);
      setSelected([]);
      await invalidate();
    },
    onError: notifyError('Could not change the list'),
  });

  const rows = contacts.data?.data ?? [];
  const [tagging, setTagging] = useState(false);
  const [bulkTagName, setBulkTagName] = useState('');
  const bulkTag = useMutation({
    // The bulk upsert adds tags without touching other fields: one request for the whole selection.
    mutationFn: (tag: string) =>
      post('/contacts/bulk', { contacts: rows.filter((c) => selected.includes(c.id)).map((c) => ({ email: c.email, tags: [tag] })) }),
    onSuccess: async (_r, tag) => {
      notifyDone(`Tagged ${selected.length} contact(s) “${tag}”.`);
      setSelected([]);
      setTagging(false);
      setBulkTagName('');
      await invalidate();
    },
    onError: notifyError('Could not tag the contacts'),
  });
  const allOnPage = rows.length > 0 && rows.every((c) => selected.includes(c.id));
  const listOptions = (lists.data?.data ?? []).map((l) => ({ value: String(l.id), label: l.name }));
  const activeFilters = [status, listId, tagId, segmentId, q].filter(Boolean).length;
  const filterCount = [status, listId, tagId, segmentId].filter(Boolean).length;

  async function exportAs(format: 'csv' | 'json') {
    setExporting(true);
    try {
      await downloadFile('/contacts/export', { ...filters, format }, `contacts.${format}`);
    } catch (err) {
      notifyError('Export failed')(err);
    } finally {
      setExporting(false);
    }
  }

  return (
    <Page
      title="Contacts"
      actions={
        <>
          <Menu position="bottom-end">
            <Menu.Target>
              <Button variant="default" loading={exporting} disabled={!!segmentId} title={segmentId ? 'Export works with search, status, list and tag filters' : undefined}>
                Export
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Label>{activeFilters ? 'Contacts matching the filters' : 'All contacts'}</Menu.Label>
              <Menu.Item onClick={() => exportAs('csv')}>CSV</Menu.Item>
              <Menu.Item onClick={() => exportAs('json')}>JSON</Menu.Item>
            </Menu.Dropdown>
          </Menu>
          {canEdit ? (
            <Button variant="default" component={Link} to="/contacts/import">
              Import CSV
            </Button>
          ) : (
            <EditButton variant="default">Import CSV</EditButton>
          )}
          <EditButton onClick={() => setCreating(true)}>New contact</EditButton>
        </>
      }
    >
      <Paper withBorder p="sm">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <TextInput
            label="Search"
            placeholder="Email or name"
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            disabled={!!segmentId}
            style={{ flex: '1 1 220px' }}
          />
          {narrow && (
            <Button variant="default" onClick={() => setShowFilters((v) => !v)} aria-expanded={showFilters} aria-controls="contact-filters">
              Filters{filterCount ? ` (${filterCount})` : ''}
            </Button>
          )}
          {(!narrow || showFilters) && (
            <Group id="contact-filters" gap="sm" align="flex-end" wrap="wrap" w={narrow ? '100%' : undefined}>
            <Select
              label="Status"
              placeholder="Any"
              data={CONTACT_STATUSES.map((s) => ({ value: s, label: s }))}
              value={status || null}
              onChange={(v) => update({ status: v })}
              clearable
              disabled={!!segmentId}
              w={{ base: '100%', xs: 150 }}
            />
            <Select
              label="List"
              placeholder="Any"
              data={listOptions}
              value={listId || null}
              onChange={(v) => update({ listId: v })}
              clearable
              searchable
              disabled={!!segmentId}
              w={{ base: '100%', xs: 180 }}
            />
            <Select
              label="Tag"
              placeholder="Any"
              data={(tags.data?.data ?? []).map((t) => ({ value: String(t.id), label: t.name }))}
              value={tagId || null}
              onChange={(v) => update({ tagId: v })}
              clearable
              searchable
              disabled={!!segmentId}
              w={{ base: '100%', xs: 160 }}
            />
            <Select
              label="Segment"
              placeholder="None"
              data={(segments.data?.data ?? []).map((s) => ({ value: String(s.id), label: s.name }))}
              value={segmentId || null}
              onChange={(v) => update({ segmentId: v, q: null, status: null, listId: null, tagId: null })}
              clearable
              searchable
              w={{ base: '100%', xs: 180 }}
            />
            </Group>
          )}
          {activeFilters > 0 && (
            <Button
              variant="subtle"
              onClick={() => {
                setSearch('');
                setParams(new URLSearchParams(), { replace: true });
              }}
            >
              Clear filters
            </Button>
          )}
        </Group>
        {segmentId && (
          <Text size="xs" c="dimmed" mt="xs">
            Showing the contacts the segment matches now; the other filters do not combine with a segment.
          </Text>
        )}
      </Paper>

      {selected.length > 0 && (
        <Alert color="indigo" variant="light" p="xs" aria-live="polite">
          <Group gap="sm" wrap="wrap">
            <Text size="sm" fw={500}>
              {selected.length} selected
            </Text>
            <BulkListAction label="Add to list" options={listOptions} busy={bulk.isPending} onPick={(list) => bulk.mutate({ action: 'add', list })} />
            <BulkListAction label="Remove from list" options={listOptions} busy={bulk.isPending} onPick={(list) => bulk.mutate({ action: 'remove', list })} />
            {tagging ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  if (bulkTagName.trim()) bulkTag.mutate(bulkTagName.trim());
                }}
              >
                <Group gap={4}>
                  <Autocomplete
                    size="xs"
                    aria-label="Tag to add"
                    placeholder="Tag"
                    data={(tags.data?.data ?? []).map((t) => t.name)}
                    value={bulkTagName}
                    onChange={setBulkTagName}
                    w={160}
                  />
                  <Button size="xs" type="submit" loading={bulkTag.isPending} disabled={!bulkTagName.trim()}>
                    Tag
                  </Button>
                  <Button size="xs" variant="subtle" onClick={() => setTagging(false)}>
                    Cancel
                  </Button>
                </Group>
              </form>
            ) : (
              <EditButton size="xs" variant="light" onClick={() => setTagging(true)}>
                Add tag
              </EditButton>
            )}
            <Button size="xs" variant="subtle" onClick={() => setSelected([])}>
              Clear selection
            </Button>
          </Group>
        </Alert>
      )}

      <QueryState isLoading={contacts.isLoading} error={contacts.error}>
        <Table.ScrollContainer minWidth={640}>
          <Table striped highlightOnHover verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <Checkbox
                    aria-label="Select all contacts on this page"
                    checked={allOnPage}
                    indeterminate={!allOnPage && rows.some((c) => selected.includes(c.id))}
                    onChange={() => setSelected(allOnPage ? [] : rows.map((c) => c.id))}
                  />
                </Table.Th>
                <Table.Th>Email</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Tags</Table.Th>
                <Table.Th>Added</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td>
                    <Checkbox
                      aria-label={`Select ${c.email}`}
                      checked={selected.includes(c.id)}
                      onChange={(e) => {
                        const checked = e.currentTarget.checked;
                        setSelected((s) => (checked ? [...s, c.id] : s.filter((id) => id !== c.id)));
                      }}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/contacts/${c.id}`} size="sm">
                      {c.email}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{fullName(c) ?? <Text c="dimmed" size="sm">—</Text>}</Table.Td>
                  <Table.Td>
                    <ContactStatusBadge status={c.status} />
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {c.tags.slice(0, 3).map((t) => (
                        <Badge key={t} variant="outline" size="sm">
                          {t}
                        </Badge>
                      ))}
                      {c.tags.length > 3 && <Text size="xs" c="dimmed">+{c.tags.length - 3}</Text>}
                    </Group>
                  </Table.Td>
                  <Table.Td>{formatDate(c.createdAt)}</Table.Td>
                </Table.Tr>
              ))}
              {rows.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={6}>
                    <Stack align="center" py="lg" gap="xs">
                      <Text c="dimmed">{activeFilters ? 'No contact matches these filters.' : 'No contacts yet.'}</Text>
                      {!activeFilters && canEdit && (
                        <Group>
                          <Button variant="light" onClick={() => setCreating(true)}>
                            Add a contact
                          </Button>
                          <Button variant="light" component={Link} to="/contacts/import">
                            Import a CSV
                          </Button>
                        </Group>
                      )}
                    </Stack>
                  </Table.Td>
                </Table.Tr>
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Pager info={contacts.data?.pagination} noun="contacts" onChange={(p) => update({ page: String(p) })} />
      </QueryState>

      <CreateContactModal opened={creating} onClose={() => setCreating(false)} />
    </Page>
  );
}

function BulkListAction({ label, options, busy, onPick }: { label: string; options: Array<{ value: string; label: string }>; busy: boolean; onPick: (list: string) => void }) {
  const { canEdit } = useSession();
  if (!canEdit) return <EditButton size="xs" variant="light">{label}</EditButton>;
  return (
    <Menu position="bottom-start">
      <Menu.Target>
        <Button size="xs" variant="light" loading={busy} disabled={options.length === 0}>
          {label}
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        {options.map((o) => (
          <Menu.Item key={o.value} onClick={() => onPick(o.value)}>
            {o.label}
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}
