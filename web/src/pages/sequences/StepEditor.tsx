import { ActionIcon, Badge, Button, Group, Modal, NumberInput, Paper, SegmentedControl, Select, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, errorMessage, patch, post } from '../../api/client';
import { DELAY_UNITS, FIELD_OPS, type DelayUnit, type Sequence, type Step, type StepCondition, type StepType } from '../../api/messages';
import { toSelectData, useTemplates } from '../../api/options';
import { useSession } from '../../auth/session';
import { EditGuard } from '../../components/EditGuard';
import { describeTemplateError, templateErrors } from '../../components/TemplateSourceFields';

const TYPE_LABELS: Record<StepType, string> = { email: 'Email', condition: 'Condition', wait_for_event: 'Wait for event' };

export function stepTitle(step: Step, steps: Step[]): string {
  const n = steps.findIndex((s) => s.id === step.id) + 1;
  if (step.type === 'email') return `${n}. Email: ${step.subject ?? (step.templateId ? `template #${step.templateId}` : '')}`;
  if (step.type === 'condition') return `${n}. Condition`;
  return `${n}. Wait for “${step.event}”`;
}

function describeCondition(c: StepCondition | null, steps: Step[]): string {
  if (!c) return '';
  const ref = (id: number) => {
    const s = steps.find((x) => x.id === id);
    return s ? `step ${steps.indexOf(s) + 1}` : `step #${id}`;
  };
  switch (c.kind) {
    case 'opened':
      return `opened the email of ${ref(c.stepId)}`;
    case 'clicked':
      return `clicked in the email of ${ref(c.stepId)}`;
    case 'has_tag':
      return `has the tag “${c.tag}”`;
    case 'field':
      return `${c.field} ${c.op}${c.value === undefined ? '' : ` ${JSON.stringify(c.value)}`}`;
  }
}

function branchLabel(target: number | null, steps: Step[]): string {
  if (target === null) return 'end the journey';
  const s = steps.find((x) => x.id === target);
  return s ? `go to step ${steps.indexOf(s) + 1}` : `step #${target}`;
}

/** The ordered steps with reorder, edit and delete, and a button to add one. */
export function StepList({ sequence }: { sequence: Sequence }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Step | 'new' | null>(null);
  const steps = sequence.steps;
  const invalidate = () => queryClient.invalidateQueries({ queryKey: ['sequences', sequence.id] });
  const reorder = useMutation({
    mutationFn: (stepIds: number[]) => post(`/sequences/${sequence.id}/steps/reorder`, { stepIds }),
    onSuccess: () => void invalidate(),
    onError: (err) => notifications.show({ color: 'red', title: 'Could not reorder', message: errorMessage(err) }),
  });
  const remove = useMutation({
    mutationFn: (step: Step) => del(`/sequences/${sequence.id}/steps/${step.id}`),
    onSuccess: () => {
      notifications.show({ color: 'green', message: 'Step deleted' });
      void invalidate();
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not delete the step', message: errorMessage(err) }),
  });
  const move = (index: number, by: -1 | 1) => {
    const ids = steps.map((s) => s.id);
    const [id] = ids.splice(index, 1);
    ids.splice(index + by, 0, id!);
    reorder.mutate(ids);
  };

  return (
    <Stack gap="sm">
      {steps.length === 0 && <Text c="dimmed">No steps yet. Add an email to start.</Text>}
      {steps.map((step, i) => (
        <Paper key={step.id} withBorder p="sm" data-testid="sequence-step">
          <Group justify="space-between" align="flex-start" wrap="nowrap">
            <Stack gap={2} style={{ minWidth: 0 }}>
              <Group gap="xs">
                <Badge variant="light">{TYPE_LABELS[step.type]}</Badge>
                <Text size="sm" c="dimmed">
                  {step.delayValue > 0 ? `after ${step.delayValue} ${step.delayUnit}` : 'right away'}
                </Text>
              </Group>
              <Text fw={600} truncate>
                {stepTitle(step, steps)}
              </Text>
              {step.type === 'condition' && (
                <Text size="sm">
                  If the contact {describeCondition(step.condition, steps)}: {branchLabel(step.then, steps)}; otherwise {branchLabel(step.else, steps)}.
                </Text>
              )}
              {step.type === 'wait_for_event' && (
                <Text size="sm">
                  Up to {step.timeoutValue} {step.timeoutUnit}. If it happens: {branchLabel(step.then, steps)}; if not: {branchLabel(step.else, steps)}.
                </Text>
              )}
            </Stack>
            <Group gap={4} wrap="nowrap">
              <EditGuard>
                <ActionIcon variant="default" aria-label={`Move step ${i + 1} up`} disabled={!canEdit || i === 0 || reorder.isPending} onClick={() => move(i, -1)}>
                  ↑
                </ActionIcon>
              </EditGuard>
              <EditGuard>
                <ActionIcon variant="default" aria-label={`Move step ${i + 1} down`} disabled={!canEdit || i === steps.length - 1 || reorder.isPending} onClick={() => move(i, 1)}>
                  ↓
                </ActionIcon>
              </EditGuard>
              <Button size="xs" variant="default" onClick={() => setEditing(step)}>
                {canEdit ? 'Edit' : 'View'}
              </Button>
              <EditGuard>
                <Button size="xs" variant="light" color="red" disabled={!canEdit} aria-label={`Delete step ${i + 1}`} onClick={() => remove.mutate(step)}>
                  Delete
                </Button>
              </EditGuard>
            </Group>
          </Group>
        </Paper>
      ))}
      <Group>
        <EditGuard>
          <Button disabled={!canEdit} onClick={() => setEditing('new')}>
            Add step
          </Button>
        </EditGuard>
      </Group>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? 'Add a step' : 'Edit step'} size="lg">
        {editing !== null && <StepForm sequence={sequence} step={editing === 'new' ? undefined : editing} onDone={() => setEditing(null)} />}
      </Modal>
    </Stack>
  );
}

function Delay({ label, value, unit, onValue, onUnit, disabled }: { label: string; value: number | string; unit: DelayUnit; onValue: (v: number | string) => void; onUnit: (u: DelayUnit) => void; disabled?: boolean }) {
  return (
    <Group gap="xs" align="flex-end" wrap="nowrap">
      <NumberInput label={label} min={0} value={value} onChange={onValue} w={140} disabled={disabled} />
      <Select aria-label={`${label}: unit`} data={DELAY_UNITS} value={unit} onChange={(v) => v && onUnit(v as DelayUnit)} w={130} allowDeselect={false} disabled={disabled} />
    </Group>
  );
}

/** Add or edit one step; the fields follow its type (src/api/routes/sequences.schema.ts). */
function StepForm({ sequence, step, onDone }: { sequence: Sequence; step?: Step; onDone: () => void }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const templates = useTemplates();
  const others = sequence.steps.filter((s) => s.id !== step?.id);
  const [type, setType] = useState<StepType>(step?.type ?? 'email');
  const [delayValue, setDelayValue] = useState<number | string>(step?.delayValue ?? (sequence.steps.length === 0 ? 0 : 1));
  const [delayUnit, setDelayUnit] = useState<DelayUnit>(step?.delayUnit ?? 'days');
  const [useTemplate, setUseTemplate] = useState(step?.templateId != null);
  const [templateId, setTemplateId] = useState<string | null>(step?.templateId ? String(step.templateId) : null);
  const [subject, setSubject] = useState(step?.subject ?? '');
  const [html, setHtml] = useState(step?.html ?? '<p>Hi {{ firstName | default: "there" }},</p>\n<p></p>\n<p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>');
  const [condition, setCondition] = useState<StepCondition>(step?.condition ?? { kind: 'opened', stepId: others.find((s) => s.type === 'email')?.id ?? 0 });
  const [fieldValue, setFieldValue] = useState(step?.condition?.kind === 'field' && step.condition.value !== undefined ? String(step.condition.value) : '');
  const [event, setEvent] = useState(step?.event ?? '');
  const [timeoutValue, setTimeoutValue] = useState<number | string>(step?.timeoutValue ?? 3);
  const [timeoutUnit, setTimeoutUnit] = useState<DelayUnit>(step?.timeoutUnit ?? 'days');
  const [thenId, setThenId] = useState<string>(step?.then ? String(step.then) : 'end');
  const [elseId, setElseId] = useState<string>(step?.else ? String(step.else) : 'end');

  const branchData = [{ value: 'end', label: 'End the journey' }, ...others.map((s) => ({ value: String(s.id), label: stepTitle(s, sequence.steps) }))];
  const emailSteps = others.filter((s) => s.type === 'email').map((s) => ({ value: String(s.id), label: stepTitle(s, sequence.steps) }));

  const save = useMutation({
    mutationFn: () => {
      const common = { type, delayValue: Number(delayValue) || 0, delayUnit };
      const branches = { then: thenId === 'end' ? null : Number(thenId), else: elseId === 'end' ? null : Number(elseId) };
      let body: Record<string, unknown>;
      if (type === 'email') body = { ...common, ...(useTemplate ? { templateId: Number(templateId), subject: undefined } : { templateId: null, subject, html }) };
      else if (type === 'condition') {
        let c = condition;
        if (c.kind === 'field') c = { ...c, value: c.op === 'exists' || c.op === 'not_exists' ? undefined : c.op === 'in' ? fieldValue.split(',').map((v) => v.trim()) : fieldValue };
        body = { ...common, condition: c, ...branches };
      } else body = { ...common, event, timeoutValue: Number(timeoutValue) || 0, timeoutUnit, ...branches };
      return step ? patch(`/sequences/${sequence.id}/steps/${step.id}`, body) : post(`/sequences/${sequence.id}/steps`, body);
    },
    onSuccess: () => {
      notifications.show({ color: 'green', message: step ? 'Step saved' : 'Step added' });
      void queryClient.invalidateQueries({ queryKey: ['sequences', sequence.id] });
      onDone();
    },
    onError: (err) => {
      if (templateErrors(err).length === 0) notifications.show({ color: 'red', title: 'Could not save the step', message: errorMessage(err) });
    },
  });
  const syntax = templateErrors(save.error);
  const fieldError = (f: string) => syntax.filter((d) => d.field === f).map(describeTemplateError).join('; ') || undefined;
  const d = !canEdit;

  return (
    <Stack>
      <Stack gap={4}>
        <Text size="sm" fw={500} id="step-type-label">
          Step type
        </Text>
        <SegmentedControl
          aria-labelledby="step-type-label"
          data={[
            { value: 'email', label: 'Email' },
            { value: 'condition', label: 'Condition' },
            { value: 'wait_for_event', label: 'Wait for event' },
          ]}
          value={type}
          onChange={(v) => setType(v as StepType)}
          disabled={d || step !== undefined}
        />
      </Stack>
      <Delay label="Wait before this step" value={delayValue} unit={delayUnit} onValue={setDelayValue} onUnit={setDelayUnit} disabled={d} />
      {type === 'email' && (
        <>
          <SegmentedControl
            aria-label="Email content"
            data={[
              { value: 'write', label: 'Write it' },
              { value: 'template', label: 'Use a template' },
            ]}
            value={useTemplate ? 'template' : 'write'}
            onChange={(v) => setUseTemplate(v === 'template')}
            disabled={d}
          />
          {useTemplate ? (
            <Select label="Template" required searchable data={toSelectData(templates.data?.data)} value={templateId} onChange={setTemplateId} disabled={d} />
          ) : (
            <>
              <TextInput label="Subject" required value={subject} onChange={(e) => setSubject(e.currentTarget.value)} error={fieldError('subject')} disabled={d} />
              <Textarea
                label="HTML"
                required
                autosize
                minRows={6}
                maxRows={20}
                spellCheck={false}
                styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13 } }}
                value={html}
                onChange={(e) => setHtml(e.currentTarget.value)}
                error={fieldError('html')}
                disabled={d}
              />
            </>
          )}
        </>
      )}
      {type === 'condition' && (
        <>
          <Select
            label="If the contact…"
            data={[
              { value: 'opened', label: 'opened the email of a step' },
              { value: 'clicked', label: 'clicked in the email of a step' },
              { value: 'has_tag', label: 'has a tag' },
              { value: 'field', label: 'has a field value' },
            ]}
            value={condition.kind}
            onChange={(k) => {
              if (k === 'opened' || k === 'clicked') setCondition({ kind: k, stepId: Number(emailSteps[0]?.value ?? 0) });
              else if (k === 'has_tag') setCondition({ kind: 'has_tag', tag: '' });
              else if (k === 'field') setCondition({ kind: 'field', field: '', op: 'eq' });
            }}
            allowDeselect={false}
            disabled={d}
          />
          {(condition.kind === 'opened' || condition.kind === 'clicked') && (
            <Select label="Email step" data={emailSteps} value={condition.stepId ? String(condition.stepId) : null} onChange={(v) => setCondition({ kind: condition.kind, stepId: Number(v) })} disabled={d} />
          )}
          {condition.kind === 'has_tag' && <TextInput label="Tag" value={condition.tag} onChange={(e) => setCondition({ kind: 'has_tag', tag: e.currentTarget.value })} disabled={d} />}
          {condition.kind === 'field' && (
            <Group grow align="flex-end">
              <TextInput label="Field" placeholder="customFields.plan" value={condition.field} onChange={(e) => setCondition({ ...condition, field: e.currentTarget.value })} disabled={d} />
              <Select label="Operator" data={[...FIELD_OPS]} value={condition.op} onChange={(v) => v && setCondition({ ...condition, op: v as (typeof FIELD_OPS)[number] })} allowDeselect={false} disabled={d} />
              {condition.op !== 'exists' && condition.op !== 'not_exists' && (
                <TextInput label="Value" description={condition.op === 'in' ? 'Comma-separated' : undefined} value={fieldValue} onChange={(e) => setFieldValue(e.currentTarget.value)} disabled={d} />
              )}
            </Group>
          )}
        </>
      )}
      {type === 'wait_for_event' && (
        <>
          <TextInput label="Event name" required placeholder="purchased" value={event} onChange={(e) => setEvent(e.currentTarget.value)} disabled={d} />
          <Delay label="Give up after" value={timeoutValue} unit={timeoutUnit} onValue={setTimeoutValue} onUnit={setTimeoutUnit} disabled={d} />
        </>
      )}
      {type !== 'email' && (
        <Group grow>
          <Select label={type === 'condition' ? 'If yes' : 'If it happens'} data={branchData} value={thenId} onChange={(v) => setThenId(v ?? 'end')} allowDeselect={false} disabled={d} />
          <Select label={type === 'condition' ? 'If not' : 'If it times out'} data={branchData} value={elseId} onChange={(v) => setElseId(v ?? 'end')} allowDeselect={false} disabled={d} />
        </Group>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onDone}>
          Close
        </Button>
        <EditGuard>
          <Button loading={save.isPending} disabled={d} onClick={() => save.mutate()}>
            {step ? 'Save step' : 'Add step'}
          </Button>
        </EditGuard>
      </Group>
    </Stack>
  );
}
