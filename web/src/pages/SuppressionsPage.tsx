import { Alert, Button, FileInput, Group, Modal, Paper, Select, Stack, Table, Text, Textarea, TextInput, VisuallyHidden } from '@mantine/core';
import { useDebouncedValue, useDisclosure } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { notifyDone, notifyError } from '../api/audience';
import { api, del, errorMessage, get, post } from '../api/client';
import { SUPPRESSION_REASONS, type Data, type Paged, type Suppression, type SuppressionImportResult, type SuppressionReason } from '../api/types';
import { ConfirmButton } from '../components/ConfirmButton';
import { EditButton } from '../components/EditGuard';
import { formatDateTime } from '../components/format';
import { Page, QueryState } from '../components/Page';
import { Pager } from '../components/Pager';
import { EmptyRow } from '../components/EmptyRow';

const REASON_LABELS: Record<SuppressionReason, string> = {
  hard_bounce: 'Hard bounce',
  complaint: 'Complaint',
  unsubscribe: 'Unsubscribe',
  manual: 'Manual',
};
const reasonOptions = SUPPRESSION_REASONS.map((r) => ({ value: r, label: REASON_LABELS[r] }));

/** Addresses nothing is sent to: search, reason filter, add one, lift one, import a CSV. */
export function SuppressionsPage() {
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search, 300);
  const [reason, setReason] = useState<string | null>(null);
  const [page, setPage] = useState(1);
  const [adding, addModal] = useDisclosure(false);
  const [importing, importModal] = useDisclosure(false);
  const list = useQuery({
    queryKey: ['suppressions', { q, reason, page }],
    queryFn: () => get<Paged<Suppression>>('/suppressions', { q, reason, page, limit: 50 }),
    placeholderData: keepPreviousData,
  });
  const remove = useMutation({
    mutationFn: (s: Suppression) => del(`/suppressions/${encodeURIComponent(s.email)}`),
    onSuccess: async (_r, s) => {
      notifyDone(`${s.email} can receive email again.`);
      await queryClient.invalidateQueries({ queryKey: ['suppressions'] });
    },
    onError: notifyError('Could not lift the suppression'),
  });

  return (
    <Page
      title="Suppressions"
      actions={
        <>
          <EditButton variant="default" onClick={importModal.open}>
            Import CSV
          </EditButton>
          <EditButton onClick={addModal.open}>Suppress an address</EditButton>
        </>
      }
    >
      <Text size="sm" c="dimmed">
        No email of any kind, transactional included, is sent to these addresses. Bounces, complaints and unsubscribes land here by
        themselves.
      </Text>
      <Paper withBorder p="sm">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <TextInput label="Search" placeholder="Part of an address" value={search} onChange={(e) => { setSearch(e.currentTarget.value); setPage(1); }} style={{ flex: '1 1 220px' }} />
          <Select label="Reason" placeholder="Any" data={reasonOptions} value={reason} onChange={(v) => { setReason(v); setPage(1); }} clearable w={{ base: '100%', xs: 180 }} />
        </Group>
      </Paper>
      <QueryState isLoading={list.isLoading} error={list.error}>
        <Table.ScrollContainer minWidth={600}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Email</Table.Th>
                <Table.Th>Reason</Table.Th>
                <Table.Th>Note</Table.Th>
                <Table.Th>Since</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(list.data?.data ?? []).map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>{s.email}</Table.Td>
                  <Table.Td>{REASON_LABELS[s.reason]}</Table.Td>
                  <Table.Td>
                    <Text size="sm" lineClamp={2}>
                      {s.note ?? '—'}
                    </Text>
                  </Table.Td>
                  <Table.Td>{formatDateTime(s.createdAt)}</Table.Td>
                  <Table.Td>
                    <Group justify="flex-end">
                      <ConfirmButton
                        size="xs"
                        variant="subtle"
                        color="orange"
                        aria-label={`Lift the suppression of ${s.email}`}
                        title={`Send to ${s.email} again?`}
                        message={
                          s.reason === 'manual'
                            ? 'The address can receive email again.'
                            : `It was suppressed because of a ${REASON_LABELS[s.reason].toLowerCase()}. Sending to it again can hurt your sender reputation.`
                        }
                        confirmLabel="Lift suppression"
                        onConfirm={() => remove.mutateAsync(s)}
                      >
                        Remove
                      </ConfirmButton>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
              {list.data?.data.length === 0 && (
                <EmptyRow colSpan={5}>{q || reason ? 'No suppression matches.' : 'No suppressed address.'}</EmptyRow>
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Pager info={list.data?.pagination} noun="addresses" onChange={setPage} />
      </QueryState>
      <AddSuppressionModal opened={adding} onClose={addModal.close} />
      <ImportSuppressionsModal opened={importing} onClose={importModal.close} />
    </Page>
  );
}

function AddSuppressionModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [note, setNote] = useState('');
  const [reason, setReason] = useState<string>('manual');
  const add = useMutation({
    mutationFn: () => post<Data<Suppression>>('/suppressions', { email, reason, note: note.trim() || null }),
    onSuccess: async ({ data }) => {
      notifyDone(`${data.email} is suppressed.`);
      setEmail('');
      setNote('');
      onClose();
      await queryClient.invalidateQueries({ queryKey: ['suppressions'] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    add.mutate();
  }
  return (
    <Modal opened={opened} onClose={onClose} title="Suppress an address">
      <form onSubmit={submit}>
        <Stack>
          {add.error && (
            <Alert color="red" role="alert">
              {errorMessage(add.error)}
            </Alert>
          )}
          <TextInput label="Email" type="email" required data-autofocus value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <Select label="Reason" data={reasonOptions} value={reason} onChange={(v) => setReason(v ?? 'manual')} allowDeselect={false} />
          <Textarea label="Note" placeholder="Why (optional)" value={note} onChange={(e) => setNote(e.currentTarget.value)} autosize minRows={2} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={add.isPending}>
              Suppress
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function ImportSuppressionsModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [reason, setReason] = useState<string>('manual');
  const upload = useMutation({
    mutationFn: () =>
      api<Data<SuppressionImportResult>>('POST', `/suppressions/import?reason=${reason}`, new Blob([file!], { type: 'text/csv' })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['suppressions'] });
    },
  });
  const result = upload.data?.data;
  const close = () => {
    upload.reset();
    setFile(null);
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title="Import suppressions" size="lg">
      <Stack>
        <Text size="sm">
          A CSV with a header row: <code>email</code> (required), <code>reason</code> (hard_bounce, complaint, unsubscribe or manual) and{' '}
          <code>note</code>. Importing the same file twice is harmless.
        </Text>
        <FileInput label="CSV file" accept=".csv,text/csv" value={file} onChange={setFile} clearable required />
        <Select label="Reason for rows without one" data={reasonOptions} value={reason} onChange={(v) => setReason(v ?? 'manual')} allowDeselect={false} />
        {upload.error && (
          <Alert color="red" role="alert">
            {errorMessage(upload.error)}
          </Alert>
        )}
        {result && (
          <Alert color={result.failed ? 'yellow' : 'green'} title="Imported" aria-live="polite">
            {result.total.toLocaleString()} rows: {result.imported.toLocaleString()} new, {result.updated.toLocaleString()} updated,{' '}
            {result.failed.toLocaleString()} refused.
          </Alert>
        )}
        {result && result.errors.length > 0 && (
          <Table.ScrollContainer minWidth={360} mah={240}>
            <Table striped aria-label="Refused rows">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Row</Table.Th>
                  <Table.Th>Problem</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {result.errors.map((e) => (
                  <Table.Tr key={e.row}>
                    <Table.Td>{e.row}</Table.Td>
                    <Table.Td>{e.message}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            {result ? 'Close' : 'Cancel'}
          </Button>
          <Button onClick={() => upload.mutate()} loading={upload.isPending} disabled={!file}>
            Import
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
