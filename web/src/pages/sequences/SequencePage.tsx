import { BarChart } from '@mantine/charts';
import { Alert, Anchor, Button, Chip, Drawer, Group, Modal, NumberInput, Paper, Progress, Select, Stack, Switch, Table, Tabs, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { del, errorMessage, get, patch, post } from '../../api/client';
import {
  ENROLLMENT_STATUSES,
  type EnrollResult,
  type Enrollment,
  type EnrollmentDetail,
  type EnrollmentJob,
  type EnrollmentStatus,
  type One,
  type Paged,
  type Sequence,
  type SequenceStatus,
  type StepStats,
  type Trigger,
} from '../../api/messages';
import { toSelectData, useLists, useSegments, useSendingConfigs, useTags } from '../../api/options';
import { useSession } from '../../auth/session';
import { ContactPicker } from '../../components/ContactPicker';
import { EditGuard } from '../../components/EditGuard';
import { Page, QueryState } from '../../components/Page';
import { Pager } from '../../components/Pager';
import { StatusBadge } from '../../components/StatusBadge';
import { StepList, stepTitle } from './StepEditor';
import { EmptyRow } from '../../components/EmptyRow';

const STATUS_ACTIONS: Array<{ to: SequenceStatus; label: string; from: SequenceStatus[] }> = [
  { to: 'active', label: 'Activate', from: ['paused', 'archived'] },
  { to: 'paused', label: 'Pause', from: ['active'] },
  { to: 'archived', label: 'Archive', from: ['active', 'paused'] },
];

/** `sequences/:id`: steps, trigger and options, the per-step funnel, and the enrollments with their live state. */
export function SequencePage() {
  const { id } = useParams();
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [tab, setTab] = useState<string | null>('steps');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const sequence = useQuery({
    queryKey: ['sequences', Number(id)],
    queryFn: ({ signal }) => get<One<Sequence>>(`/sequences/${id}`, undefined, signal).then((r) => r.data),
  });
  const setStatus = useMutation({
    mutationFn: (status: SequenceStatus) => patch<One<Sequence>>(`/sequences/${id}`, { status }),
    onSuccess: ({ data }) => {
      notifications.show({ color: 'green', message: `Sequence is ${data.status}` });
      void queryClient.invalidateQueries({ queryKey: ['sequences'] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Status not changed', message: errorMessage(err) }),
  });
  const remove = useMutation({
    mutationFn: () => del<One<{ outcome: 'deleted' | 'archived' }>>(`/sequences/${id}`),
    onSuccess: ({ data }) => {
      notifications.show({ color: 'green', message: data.outcome === 'deleted' ? 'Sequence deleted' : 'It had enrollments, so it was archived instead' });
      void queryClient.invalidateQueries({ queryKey: ['sequences'] });
      navigate('/sequences');
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not delete', message: errorMessage(err) }),
  });
  const s = sequence.data;
  return (
    <QueryState isLoading={sequence.isLoading} error={sequence.error}>
      {s && (
        <Page
          title={
            <Group gap="sm" component="span">
              {s.name} <StatusBadge status={s.status} />
            </Group>
          }
          actions={
            <Group gap="xs" wrap="wrap">
              {STATUS_ACTIONS.map((a) => (
                <EditGuard key={a.to} reason={a.from.includes(s.status) ? null : `Already ${s.status}`}>
                  <Button size="sm" variant={a.to === 'archived' ? 'light' : 'default'} color={a.to === 'archived' ? 'orange' : undefined} disabled={!canEdit || !a.from.includes(s.status)} loading={setStatus.isPending && setStatus.variables === a.to} onClick={() => setStatus.mutate(a.to)}>
                    {a.label}
                  </Button>
                </EditGuard>
              ))}
              <EditGuard>
                <Button size="sm" color="red" variant="subtle" disabled={!canEdit} onClick={() => setConfirmDelete(true)}>
                  Delete
                </Button>
              </EditGuard>
            </Group>
          }
        >
          {s.status === 'paused' && <Alert color="yellow">Paused: every journey holds its next email until the sequence is active again.</Alert>}
          <Tabs value={tab} onChange={setTab} keepMounted={false}>
            <Tabs.List>
              <Tabs.Tab value="steps">Steps ({s.steps.length})</Tabs.Tab>
              <Tabs.Tab value="settings">Trigger & options</Tabs.Tab>
              <Tabs.Tab value="funnel">Funnel</Tabs.Tab>
              <Tabs.Tab value="enrollments">Enrollments</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="steps" pt="md">
              <StepList sequence={s} />
            </Tabs.Panel>
            <Tabs.Panel value="settings" pt="md">
              <SequenceSettings key={s.updatedAt} sequence={s} />
            </Tabs.Panel>
            <Tabs.Panel value="funnel" pt="md">
              <Funnel sequence={s} />
            </Tabs.Panel>
            <Tabs.Panel value="enrollments" pt="md">
              <Enrollments sequence={s} />
            </Tabs.Panel>
          </Tabs>
          <Modal opened={confirmDelete} onClose={() => setConfirmDelete(false)} title="Delete this sequence?">
            <Text mb="md">Without enrollments it is deleted; with any, it is archived instead (its journeys end, its history stays).</Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirmDelete(false)}>
                Keep it
              </Button>
              <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
                Delete
              </Button>
            </Group>
          </Modal>
        </Page>
      )}
    </QueryState>
  );
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function SequenceSettings({ sequence }: { sequence: Sequence }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const configs = useSendingConfigs();
  const lists = useLists();
  const tags = useTags();
  const [name, setName] = useState(sequence.name);
  const [configId, setConfigId] = useState(String(sequence.sendingConfigId));
  const [trigger, setTrigger] = useState<Trigger>(sequence.trigger);
  const [reentry, setReentry] = useState(sequence.allowReenrollment);
  const [windowOn, setWindowOn] = useState(sequence.sendWindow !== null);
  const [days, setDays] = useState<string[]>((sequence.sendWindow?.days ?? [1, 2, 3, 4, 5]).map(String));
  const [startHour, setStartHour] = useState<number | string>(sequence.sendWindow?.startHour ?? 9);
  const [endHour, setEndHour] = useState<number | string>(sequence.sendWindow?.endHour ?? 17);
  const [timezone, setTimezone] = useState(sequence.sendWindow?.timezone ?? '');
  const [exitEvents, setExitEvents] = useState<string[]>(sequence.exitOn.events ?? []);
  const [exitTags, setExitTags] = useState<string[]>(sequence.exitOn.tags ?? []);
  const save = useMutation({
    mutationFn: () =>
      patch(`/sequences/${sequence.id}`, {
        name,
        sendingConfigId: Number(configId),
        trigger,
        allowReenrollment: reentry,
        sendWindow: windowOn ? { days: days.map(Number).sort(), startHour: Number(startHour), endHour: Number(endHour), ...(timezone ? { timezone } : {}) } : null,
        exitOn: { events: exitEvents, tags: exitTags },
      }),
    onSuccess: () => {
      notifications.show({ color: 'green', message: 'Sequence saved' });
      void queryClient.invalidateQueries({ queryKey: ['sequences'] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not save', message: errorMessage(err) }),
  });
  const d = !canEdit;
  return (
    <Stack maw={640}>
      <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={d} />
      <Select label="Send with" data={(configs.data?.data ?? []).map((c) => ({ value: String(c.id), label: `${c.name} (${c.fromEmail})` }))} value={configId} onChange={(v) => v && setConfigId(v)} allowDeselect={false} disabled={d} />
      <Paper withBorder p="sm">
        <Stack gap="xs">
          <Select
            label="Trigger: who gets enrolled automatically"
            data={[
              { value: 'manual', label: 'Nobody (enroll by hand or API)' },
              { value: 'list_add', label: 'Contacts added to a list' },
              { value: 'tag_add', label: 'Contacts given a tag' },
              { value: 'event', label: 'Contacts who do an event' },
            ]}
            value={trigger.type}
            onChange={(t) => {
              if (t === 'manual') setTrigger({ type: 'manual' });
              if (t === 'list_add') setTrigger({ type: 'list_add', listId: lists.data?.data[0]?.id ?? 0 });
              if (t === 'tag_add') setTrigger({ type: 'tag_add', tagId: tags.data?.data[0]?.id ?? 0 });
              if (t === 'event') setTrigger({ type: 'event', name: '' });
            }}
            allowDeselect={false}
            disabled={d}
          />
          {trigger.type === 'list_add' && <Select label="List" data={toSelectData(lists.data?.data)} value={String(trigger.listId)} onChange={(v) => v && setTrigger({ type: 'list_add', listId: Number(v) })} disabled={d} />}
          {trigger.type === 'tag_add' && <Select label="Tag" data={toSelectData(tags.data?.data)} value={String(trigger.tagId)} onChange={(v) => v && setTrigger({ type: 'tag_add', tagId: Number(v) })} disabled={d} />}
          {trigger.type === 'event' && <TextInput label="Event name" value={trigger.name} onChange={(e) => setTrigger({ type: 'event', name: e.currentTarget.value })} disabled={d} />}
        </Stack>
      </Paper>
      <Switch label="Allow re-entry: a contact whose journey ended may be enrolled again" checked={reentry} onChange={(e) => setReentry(e.currentTarget.checked)} disabled={d} />
      <Paper withBorder p="sm">
        <Stack gap="xs">
          <Switch label="Send only inside a window (in the contact’s timezone)" checked={windowOn} onChange={(e) => setWindowOn(e.currentTarget.checked)} disabled={d} />
          {windowOn && (
            <>
              <Chip.Group multiple value={days} onChange={setDays}>
                <Group gap={6} role="group" aria-label="Days">
                  {DAYS.map((day, i) => (
                    <Chip key={day} value={String(i + 1)} size="sm" disabled={d}>
                      {day}
                    </Chip>
                  ))}
                </Group>
              </Chip.Group>
              <Group grow>
                <NumberInput label="From hour" min={0} max={23} value={startHour} onChange={setStartHour} disabled={d} />
                <NumberInput label="Until hour" min={1} max={24} value={endHour} onChange={setEndHour} disabled={d} />
              </Group>
              <TextInput label="Timezone for contacts without one" placeholder="UTC, e.g. Europe/Paris" value={timezone} onChange={(e) => setTimezone(e.currentTarget.value)} disabled={d} />
            </>
          )}
        </Stack>
      </Paper>
      <TagsInput label="Exit when the contact does one of these events" placeholder="purchased, then Enter" value={exitEvents} onChange={setExitEvents} disabled={d} />
      <TagsInput label="Exit when the contact gets one of these tags" placeholder="customer, then Enter" value={exitTags} onChange={setExitTags} disabled={d} />
      <Group>
        <EditGuard>
          <Button loading={save.isPending} disabled={d} onClick={() => save.mutate()}>
            Save
          </Button>
        </EditGuard>
      </Group>
    </Stack>
  );
}

function Funnel({ sequence }: { sequence: Sequence }) {
  const stats = useQuery({
    queryKey: ['sequences', sequence.id, 'stats'],
    queryFn: ({ signal }) => get<One<StepStats[]>>(`/sequences/${sequence.id}/stats`, undefined, signal).then((r) => r.data),
    refetchInterval: 10_000,
  });
  const label = (st: StepStats) => {
    const step = sequence.steps.find((x) => x.id === st.stepId);
    return step ? stepTitle(step, sequence.steps) : `Step ${st.position}`;
  };
  return (
    <QueryState isLoading={stats.isLoading} error={stats.error}>
      {stats.data && stats.data.length === 0 && <Text c="dimmed">No steps yet.</Text>}
      {stats.data && stats.data.length > 0 && (
        <Stack>
          <BarChart
            h={260}
            data={stats.data.map((st) => ({ step: `Step ${st.position}`, Entered: st.entered, Sent: st.sent, Opened: st.opened, Clicked: st.clicked, Exited: st.exited }))}
            dataKey="step"
            withLegend
            series={[
              { name: 'Entered', color: 'gray.5' },
              { name: 'Sent', color: 'indigo.6' },
              { name: 'Opened', color: 'teal.6' },
              { name: 'Clicked', color: 'green.7' },
              { name: 'Exited', color: 'orange.6' },
            ]}
          />
          <Table.ScrollContainer minWidth={560}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Step</Table.Th>
                  <Table.Th>Entered</Table.Th>
                  <Table.Th>Sent</Table.Th>
                  <Table.Th>Opened</Table.Th>
                  <Table.Th>Clicked</Table.Th>
                  <Table.Th>Waiting after</Table.Th>
                  <Table.Th>Exited after</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {stats.data.map((st) => (
                  <Table.Tr key={st.stepId}>
                    <Table.Td>{label(st)}</Table.Td>
                    <Table.Td>{st.entered}</Table.Td>
                    <Table.Td>{st.type === 'email' ? st.sent : '—'}</Table.Td>
                    <Table.Td>{st.type === 'email' ? st.opened : '—'}</Table.Td>
                    <Table.Td>{st.type === 'email' ? st.clicked : '—'}</Table.Td>
                    <Table.Td>{st.active}</Table.Td>
                    <Table.Td>{st.exited}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Stack>
      )}
    </QueryState>
  );
}

function EnrollControls({ sequence }: { sequence: Sequence }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const lists = useLists();
  const tags = useTags();
  const segments = useSegments();
  const [contactId, setContactId] = useState<number | null>(null);
  const [kind, setKind] = useState<'listId' | 'segmentId' | 'tagId'>('listId');
  const [sourceId, setSourceId] = useState<string | null>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['sequences', sequence.id] });
  const enrollOne = useMutation({
    mutationFn: () => post<One<EnrollResult>>(`/sequences/${sequence.id}/enroll`, { contactId }),
    onSuccess: ({ data }) => {
      const why = data.enrolled ? 'Enrolled' : data.alreadyActive ? 'Already in an active journey' : data.alreadyEnrolled ? 'Enrolled before; re-entry is off' : data.skipped ? 'Skipped: not subscribed or suppressed' : 'Contact not found';
      notifications.show({ color: data.enrolled ? 'green' : 'yellow', message: why });
      setContactId(null);
      void refresh();
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not enroll', message: errorMessage(err) }),
  });
  const enrollMany = useMutation({
    mutationFn: () => post<One<EnrollmentJob>>(`/sequences/${sequence.id}/enroll`, { [kind]: Number(sourceId) }),
    onSuccess: ({ data }) => setJobId(data.id),
    onError: (err) => notifications.show({ color: 'red', title: 'Could not start the enrollment', message: errorMessage(err) }),
  });
  const job = useQuery({
    queryKey: ['enrollment-jobs', jobId],
    queryFn: () => get<One<EnrollmentJob>>(`/enrollment-jobs/${jobId}`).then((r) => r.data),
    enabled: jobId !== null,
    refetchInterval: (q) => (q.state.data?.status === 'completed' ? false : 1000),
  });
  const j = job.data;
  const sourceData = kind === 'listId' ? toSelectData(lists.data?.data) : kind === 'tagId' ? toSelectData(tags.data?.data) : toSelectData(segments.data?.data);
  const inactive = sequence.status !== 'active' ? 'Only an active sequence enrolls' : null;
  return (
    <Paper withBorder p="sm">
      <Group align="flex-end" gap="md" wrap="wrap">
        <Group align="flex-end" gap="xs" wrap="nowrap">
          <div style={{ minWidth: 240 }}>
            <ContactPicker label="Enroll one contact" value={contactId} onChange={setContactId} disabled={!canEdit} />
          </div>
          <EditGuard reason={inactive}>
            <Button disabled={!canEdit || !contactId || inactive !== null} loading={enrollOne.isPending} onClick={() => enrollOne.mutate()}>
              Enroll
            </Button>
          </EditGuard>
        </Group>
        <Group align="flex-end" gap="xs" wrap="wrap">
          <Select
            label="Or everyone in a"
            data={[
              { value: 'listId', label: 'List' },
              { value: 'segmentId', label: 'Segment' },
              { value: 'tagId', label: 'Tag' },
            ]}
            value={kind}
            onChange={(v) => {
              setKind((v ?? 'listId') as typeof kind);
              setSourceId(null);
            }}
            w={120}
            allowDeselect={false}
            disabled={!canEdit}
          />
          <Select aria-label="Which one" placeholder="Pick one" data={sourceData} value={sourceId} onChange={setSourceId} searchable w={200} disabled={!canEdit} />
          <EditGuard reason={inactive}>
            <Button variant="default" disabled={!canEdit || !sourceId || inactive !== null} loading={enrollMany.isPending} onClick={() => enrollMany.mutate()}>
              Enroll all
            </Button>
          </EditGuard>
        </Group>
      </Group>
      {j && (
        <Stack gap={4} mt="sm" aria-live="polite">
          <Text size="sm">
            Bulk enrollment #{j.id} ({j.source.kind} #{j.source.id}): {j.status === 'completed' ? 'done' : 'running'} · {j.started} of {j.total} journeys started
            {j.alreadyActive ? `, ${j.alreadyActive} already active` : ''}
            {j.alreadyEnrolled ? `, ${j.alreadyEnrolled} enrolled before` : ''}
            {j.skipped ? `, ${j.skipped} skipped` : ''}
            {j.notFound ? `, ${j.notFound} gone` : ''}
          </Text>
          <Progress value={j.progress * 100} animated={j.status === 'running'} aria-label={`Bulk enrollment ${Math.round(j.progress * 100)}%`} />
        </Stack>
      )}
    </Paper>
  );
}

function Enrollments({ sequence }: { sequence: Sequence }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<EnrollmentStatus | null>(null);
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<number | null>(null);
  const list = useQuery({
    queryKey: ['sequences', sequence.id, 'enrollments', status, page],
    queryFn: ({ signal }) => get<Paged<Enrollment>>(`/sequences/${sequence.id}/enrollments`, { page, limit: 25, status }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.data.some((e) => e.status === 'active') ? 3000 : 15_000),
  });
  const unenroll = useMutation({
    mutationFn: (contactId: number) => post(`/sequences/${sequence.id}/unenroll`, { contactId }),
    onSuccess: () => {
      notifications.show({ color: 'green', message: 'Unenrolled' });
      void queryClient.invalidateQueries({ queryKey: ['sequences', sequence.id] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not unenroll', message: errorMessage(err) }),
  });
  const stepName = (id: number | null) => {
    if (id === null) return '—';
    const step = sequence.steps.find((s) => s.id === id);
    return step ? stepTitle(step, sequence.steps) : `step #${id}`;
  };
  return (
    <Stack>
      <EnrollControls sequence={sequence} />
      <Select
        label="Status"
        placeholder="Any"
        clearable
        data={ENROLLMENT_STATUSES}
        value={status}
        onChange={(v) => {
          setStatus(v as EnrollmentStatus | null);
          setPage(1);
        }}
        w={200}
      />
      <QueryState isLoading={list.isLoading} error={list.error}>
        <Table.ScrollContainer minWidth={720}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Contact</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Current step</Table.Th>
                <Table.Th>Next step at</Table.Th>
                <Table.Th>Enrolled</Table.Th>
                <Table.Th>Workflow</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data?.data.map((e) => (
                <Table.Tr key={e.id} data-testid="enrollment-row">
                  <Table.Td>
                    <Anchor component="button" type="button" onClick={() => setOpen(e.id)}>
                      {e.contactEmail}
                    </Anchor>
                    {e.run > 1 && <Text span size="xs" c="dimmed">{` (run ${e.run})`}</Text>}
                  </Table.Td>
                  <Table.Td>
                    <StatusBadge status={e.status} />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" lineClamp={1}>
                      {stepName(e.currentStepId)}
                    </Text>
                  </Table.Td>
                  <Table.Td>{e.nextStepAt ? new Date(e.nextStepAt).toLocaleString() : '—'}</Table.Td>
                  <Table.Td>{new Date(e.enrolledAt).toLocaleString()}</Table.Td>
                  <Table.Td>
                    {e.temporalUiUrl ? (
                      <Anchor href={e.temporalUiUrl} target="_blank" rel="noreferrer" size="sm" aria-label={`Workflow of ${e.contactEmail} in Temporal UI`}>
                        Temporal UI
                      </Anchor>
                    ) : (
                      <Text size="xs" c="dimmed">
                        {e.workflowId}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {e.status === 'active' && (
                      <EditGuard>
                        <Button size="xs" variant="light" color="red" disabled={!canEdit} loading={unenroll.isPending && unenroll.variables === e.contactId} onClick={() => unenroll.mutate(e.contactId)} aria-label={`Unenroll ${e.contactEmail}`}>
                          Unenroll
                        </Button>
                      </EditGuard>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
              {list.data?.data.length === 0 && (
                <EmptyRow colSpan={7}>No enrollments{status ? ` ${status}` : ''}.</EmptyRow>
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {list.data && <Pager page={page} totalPages={list.data.pagination.totalPages} total={list.data.pagination.total} onChange={setPage} />}
      </QueryState>
      <Drawer opened={open !== null} onClose={() => setOpen(null)} position="right" title="Enrollment" size="md">
        {open !== null && <EnrollmentDrawer id={open} sequence={sequence} stepName={stepName} />}
      </Drawer>
    </Stack>
  );
}

/** One journey's live state, asked of its running workflow every 2 s while active. */
function EnrollmentDrawer({ id, sequence, stepName }: { id: number; sequence: Sequence; stepName: (id: number | null) => string }) {
  const detail = useQuery({
    queryKey: ['enrollments', id],
    queryFn: ({ signal }) => get<One<EnrollmentDetail>>(`/enrollments/${id}`, undefined, signal).then((r) => r.data),
    refetchInterval: (q) => (q.state.data?.status === 'active' ? 2000 : false),
  });
  const e = detail.data;
  const waiting = e?.waitingFor ? sequence.steps.find((s) => s.id === e.currentStepId && s.type === 'wait_for_event') : undefined;
  const branch = (target: number | null) => (target === null ? 'the journey ends' : stepName(target));
  return (
    <QueryState isLoading={detail.isLoading} error={detail.error}>
      {e && (
        <Stack gap="sm">
          <Title order={3} size="h5">
            {e.contactEmail}
          </Title>
          <Group gap="xs">
            <StatusBadge status={e.status} />
            <Text size="xs" c="dimmed">
              {e.source === 'workflow' ? 'live from the workflow' : 'as last recorded'}
            </Text>
          </Group>
          {e.exitReason && <Text size="sm">Reason: {e.exitReason}</Text>}
          <Text size="sm">Current step: {stepName(e.currentStepId)}</Text>
          {e.waitingFor ? (
            // A wait's "next step" is itself until it gives up: say when, and where each outcome leads.
            <Stack gap={2}>
              <Text size="sm">
                Waiting for the event “{e.waitingFor}”{e.nextStepAt ? ` until ${new Date(e.nextStepAt).toLocaleString()}` : ''}
              </Text>
              {waiting && (
                <Text size="sm">
                  If it comes: {branch(waiting.then)} · if not: {branch(waiting.else)}
                </Text>
              )}
            </Stack>
          ) : (
            <Text size="sm">
              Next: {stepName(e.nextStepId)}
              {e.nextStepAt ? ` at ${new Date(e.nextStepAt).toLocaleString()}` : ''}
            </Text>
          )}
          {e.temporalUiUrl && (
            <Anchor href={e.temporalUiUrl} target="_blank" rel="noreferrer" size="sm">
              Open the workflow in Temporal UI
            </Anchor>
          )}
          <Title order={4} size="h6">
            History
          </Title>
          {e.history.length === 0 ? (
            <Text size="sm" c="dimmed">
              No step done yet.
            </Text>
          ) : (
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Step</Table.Th>
                  <Table.Th>Outcome</Table.Th>
                  <Table.Th>At</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {e.history.map((h, i) => (
                  <Table.Tr key={i}>
                    <Table.Td>{stepName(h.stepId)}</Table.Td>
                    <Table.Td>{h.outcome}</Table.Td>
                    <Table.Td>{new Date(h.at).toLocaleString()}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Stack>
      )}
    </QueryState>
  );
}
