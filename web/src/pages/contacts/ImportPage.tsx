import { Alert, Anchor, Badge, Card, FileInput, Group, MultiSelect, Select, Stack, Table, TagsInput, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useLists, useTags } from '../../api/audience';
import { errorMessage, get, post } from '../../api/client';
import type { Data, ImportJob, ImportStarted, Paged } from '../../api/types';
import { EditButton } from '../../components/EditGuard';
import { formatDateTime, formatNumber } from '../../components/format';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';
import { ImportStatusBadge } from './ImportJobPage';
import { TARGETS, customFieldName, guessTarget, readHeader, rewriteHeader, type Delimiter, type Target } from './csvHeader';
import { EmptyRow } from '../../components/EmptyRow';

interface Picked {
  file: File;
  text: string;
  columns: string[];
  delimiter: Delimiter;
  targets: Target[];
}

/** CSV import: pick a file, map its columns, choose lists and tags, upload; then the job page shows progress. */
export function ImportPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const lists = useLists();
  const tags = useTags();
  const [picked, setPicked] = useState<Picked | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const [listIds, setListIds] = useState<string[]>([]);
  const [tagNames, setTagNames] = useState<string[]>([]);
  const [page, setPage] = useState(1);
  const history = useQuery({ queryKey: ['imports', page], queryFn: () => get<Paged<ImportJob>>('/imports', { page, limit: 10 }) });

  async function pick(file: File | null) {
    setReadError(null);
    if (!file) return setPicked(null);
    try {
      const text = await file.text();
      if (!text.trim()) throw new Error('The file is empty.');
      const { columns, delimiter } = readHeader(text);
      setPicked({ file, text, columns, delimiter, targets: columns.map(guessTarget) });
    } catch (err) {
      setPicked(null);
      setReadError(errorMessage(err));
    }
  }

  const upload = useMutation({
    mutationFn: () => {
      if (!picked) throw new Error('Pick a CSV file first.');
      const body = new FormData();
      const csv = rewriteHeader(picked.text, picked.columns, picked.targets, picked.delimiter);
      body.append('file', new File([csv], picked.file.name, { type: 'text/csv' }));
      if (listIds.length) body.append('listIds', listIds.join(','));
      if (tagNames.length) body.append('tags', tagNames.join(','));
      return post<Data<ImportStarted>>('/contacts/import', body);
    },
    onSuccess: async ({ data }) => {
      await queryClient.invalidateQueries({ queryKey: ['imports'] });
      navigate(`/contacts/imports/${data.importId}`);
    },
  });

  const emails = picked?.targets.filter((t) => t === 'email').length ?? 0;
  const duplicates = picked
    ? [...new Set(picked.targets.filter((t, i, all) => t !== 'ignore' && t !== 'custom' && all.indexOf(t) !== i))]
    : [];

  function submit(e: FormEvent) {
    e.preventDefault();
    upload.mutate();
  }

  return (
    <Page title="Import contacts">
      <Anchor component={Link} to="/contacts" size="sm">
        ← All contacts
      </Anchor>
      <Card withBorder component="form" onSubmit={submit}>
        <Stack>
          <Text size="sm">
            Upload a CSV file (UTF-8, comma, semicolon or tab separated, up to 50 MB) with a header row. Contacts are matched by email:
            new ones are created, existing ones updated. Empty cells never erase existing data and an import never re-subscribes
            anyone.
          </Text>
          <FileInput label="CSV file" placeholder="Choose a .csv file" accept=".csv,text/csv" value={picked?.file ?? null} onChange={pick} clearable required />
          {readError && (
            <Alert color="red" role="alert">
              {readError}
            </Alert>
          )}
          {picked && (
            <Stack gap="xs">
              <Title order={3} size="h5">
                Columns
              </Title>
              <Text size="sm" c="dimmed">
                We guessed what each column holds; change it where needed. Ignored columns are listed once on row 1 of the errors.
              </Text>
              <Table.ScrollContainer minWidth={420}>
                <Table verticalSpacing={4}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Column in your file</Table.Th>
                      <Table.Th>Imported as</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {picked.columns.map((column, i) => (
                      <Table.Tr key={i}>
                        <Table.Td>
                          <Text size="sm" ff="monospace">
                            {column || <em>(empty)</em>}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Select
                            aria-label={`Import column ${column || i + 1} as`}
                            data={TARGETS.map((t) => (t.value === 'custom' ? { ...t, label: `Custom field “${customFieldName(column)}”` } : t))}
                            value={picked.targets[i] ?? 'ignore'}
                            onChange={(v) => setPicked((p) => p && { ...p, targets: p.targets.map((t, j) => (j === i ? (v ?? 'ignore') : t)) })}
                            allowDeselect={false}
                            size="xs"
                            maw={300}
                          />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              {emails !== 1 && (
                <Alert color="orange" role="alert">
                  {emails === 0 ? 'Pick the column that holds the email address: it is required.' : 'Only one column can be the email.'}
                </Alert>
              )}
              {duplicates.length > 0 && emails === 1 && (
                <Alert color="yellow">Several columns are mapped to {duplicates.join(', ')}; only the first is used.</Alert>
              )}
            </Stack>
          )}
          <MultiSelect
            label="Add every imported contact to lists"
            placeholder="No list"
            data={(lists.data?.data ?? []).map((l) => ({ value: String(l.id), label: l.name }))}
            value={listIds}
            onChange={setListIds}
            searchable
          />
          <TagsInput
            label="Tag every imported contact"
            description="Type a tag and press Enter."
            data={(tags.data?.data ?? []).map((t) => t.name)}
            value={tagNames}
            onChange={setTagNames}
          />
          {upload.error && (
            <Alert color="red" role="alert" title="The import did not start">
              {errorMessage(upload.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <EditButton type="submit" loading={upload.isPending} disabled={!picked || emails !== 1}>
              Start import
            </EditButton>
          </Group>
        </Stack>
      </Card>

      <Title order={3} size="h4">
        Recent imports
      </Title>
      <QueryState isLoading={history.isLoading} error={history.error}>
        <Table.ScrollContainer minWidth={600}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>File</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Rows</Table.Th>
                <Table.Th>Created / updated</Table.Th>
                <Table.Th>Errors</Table.Th>
                <Table.Th>Started</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(history.data?.data ?? []).map((job) => (
                <Table.Tr key={job.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/contacts/imports/${job.id}`} size="sm">
                      {job.filename ?? `Import #${job.id}`}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <ImportStatusBadge status={job.status} />
                  </Table.Td>
                  <Table.Td>{formatNumber(job.totalRows)}</Table.Td>
                  <Table.Td>
                    {formatNumber(job.created)} / {formatNumber(job.updated)}
                  </Table.Td>
                  <Table.Td>{job.errors ? <Badge color="red" variant="light">{formatNumber(job.errors)}</Badge> : '0'}</Table.Td>
                  <Table.Td>{formatDateTime(job.createdAt)}</Table.Td>
                </Table.Tr>
              ))}
              {history.data?.data.length === 0 && (
                <EmptyRow colSpan={6}>No import yet.</EmptyRow>
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Pager info={history.data?.pagination} noun="imports" onChange={setPage} />
      </QueryState>
    </Page>
  );
}
