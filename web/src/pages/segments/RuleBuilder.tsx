import { ActionIcon, Autocomplete, Button, Group, MultiSelect, NumberInput, Paper, SegmentedControl, Select, Stack, TagsInput, Text, TextInput, Tooltip } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useLists, useTags } from '../../api/audience';
import { get } from '../../api/client';
import {
  CONTACT_STATUSES,
  DATE_FIELDS,
  TEXT_FIELDS,
  type AttributeCondition,
  type AttributeOp,
  type CampaignSummary,
  type GroupCondition,
  type Paged,
  type SegmentCondition,
  type SegmentRules,
  type SequenceSummary,
} from '../../api/types';

/** Groups nest at most this deep (src/domain/segment-rules.ts SEGMENT_MAX_DEPTH; the top level is 1). */
export const MAX_DEPTH = 5;

const FIELD_LABELS: Record<string, string> = {
  email: 'Email',
  firstName: 'First name',
  lastName: 'Last name',
  phone: 'Phone',
  company: 'Company',
  city: 'City',
  country: 'Country',
  timezone: 'Time zone',
  source: 'Source',
  status: 'Status',
  createdAt: 'Added on',
  subscribedAt: 'Subscribed on',
};
const CUSTOM = '__custom__';

const OP_LABELS: Record<AttributeOp, string> = {
  eq: 'is',
  neq: 'is not',
  contains: 'contains',
  starts_with: 'starts with',
  gt: 'is greater than / after',
  gte: 'is at least / on or after',
  lt: 'is less than / before',
  lte: 'is at most / on or before',
  exists: 'is set',
  not_exists: 'is not set',
  in: 'is one of',
};
const DATE_OP_LABELS: Partial<Record<AttributeOp, string>> = { gt: 'is after', gte: 'is on or after', lt: 'is before', lte: 'is on or before' };

type Kind = 'text' | 'status' | 'date' | 'custom';
const kindOf = (field: string): Kind =>
  field.startsWith('customFields.') ? 'custom' : field === 'status' ? 'status' : (DATE_FIELDS as readonly string[]).includes(field) ? 'date' : 'text';

const OPS: Record<Kind, AttributeOp[]> = {
  text: ['eq', 'neq', 'contains', 'starts_with', 'in', 'exists', 'not_exists'],
  status: ['eq', 'neq', 'in'],
  date: ['gt', 'gte', 'lt', 'lte', 'exists', 'not_exists'],
  custom: ['eq', 'neq', 'contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'in', 'exists', 'not_exists'],
};

const TYPE_OPTIONS = [
  { value: 'attribute', label: 'Contact field' },
  { value: 'tag', label: 'Tag' },
  { value: 'list', label: 'List' },
  { value: 'engagement', label: 'Engagement' },
  { value: 'send_history', label: 'Campaign or sequence' },
];

export function newCondition(type: string): SegmentCondition {
  switch (type) {
    case 'tag':
      return { type: 'tag', op: 'has', tag: '' };
    case 'list':
      return { type: 'list', op: 'in', listId: 0 };
    case 'engagement':
      return { type: 'engagement', metric: 'opened', op: 'within_days', days: 30 };
    case 'send_history':
      return { type: 'send_history', op: 'received', campaignId: 0 };
    case 'group':
      return { type: 'group', operator: 'OR', conditions: [{ type: 'attribute', field: 'country', op: 'eq', value: '' }] };
    default:
      return { type: 'attribute', field: 'country', op: 'eq', value: '' };
  }
}

/** The server's field errors (`rules.conditions.0.value`) for one condition path, as sentences. */
function errorsAt(errors: Array<{ path: string; message: string }>, path: string, exact = false): string[] {
  return errors.filter((e) => (exact ? e.path === path : e.path === path || e.path.startsWith(`${path}.`))).map((e) => e.message);
}

interface Ctx {
  errors: Array<{ path: string; message: string }>;
  readOnly: boolean;
}

/** The segment rule editor: nested AND/OR groups of conditions, exactly the API's rule language. */
export function RuleBuilder({
  rules,
  onChange,
  errors,
  readOnly,
}: {
  rules: SegmentRules;
  onChange: (rules: SegmentRules) => void;
  errors: Array<{ path: string; message: string }>;
  readOnly: boolean;
}) {
  return (
    <GroupEditor
      group={{ type: 'group', ...rules }}
      depth={1}
      path="rules"
      ctx={{ errors, readOnly }}
      onChange={(g) => onChange({ operator: g.operator, conditions: g.conditions })}
    />
  );
}

function GroupEditor({
  group,
  depth,
  path,
  ctx,
  onChange,
  onRemove,
}: {
  group: GroupCondition;
  depth: number;
  path: string;
  ctx: Ctx;
  onChange: (g: GroupCondition) => void;
  onRemove?: () => void;
}) {
  const setAt = (i: number, c: SegmentCondition) => onChange({ ...group, conditions: group.conditions.map((x, j) => (j === i ? c : x)) });
  const removeAt = (i: number) => onChange({ ...group, conditions: group.conditions.filter((_, j) => j !== i) });
  const groupErrors = errorsAt(ctx.errors, `${path}.conditions`, true);
  const label = depth === 1 ? 'Contacts matching' : 'Group matching';

  return (
    <Paper
      withBorder
      p="sm"
      bg={depth % 2 === 0 ? 'var(--mantine-color-gray-0)' : undefined}
      role="group"
      aria-label={depth === 1 ? 'Segment rules' : `Nested group, level ${depth}`}
    >
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs" wrap="wrap">
            <Text size="sm" fw={500}>
              {label}
            </Text>
            <SegmentedControl
              size="xs"
              value={group.operator}
              onChange={(v) => onChange({ ...group, operator: v as 'AND' | 'OR' })}
              data={[
                { value: 'AND', label: 'all of' },
                { value: 'OR', label: 'any of' },
              ]}
              disabled={ctx.readOnly}
              aria-label={`${label}: all or any of the conditions`}
            />
            <Text size="sm">these conditions</Text>
          </Group>
          {onRemove && !ctx.readOnly && (
            <Button size="compact-xs" variant="subtle" color="red" onClick={onRemove}>
              Remove group
            </Button>
          )}
        </Group>
        {group.conditions.length === 0 && (
          <Text size="sm" c="dimmed">
            Add at least one condition.
          </Text>
        )}
        {group.conditions.map((c, i) => {
          const here = `${path}.conditions.${i}`;
          return (
            <Stack key={i} gap={4}>
              {i > 0 && (
                <Text size="xs" fw={700} c="dimmed" tt="uppercase">
                  {group.operator === 'AND' ? 'and' : 'or'}
                </Text>
              )}
              {c.type === 'group' ? (
                <GroupEditor group={c} depth={depth + 1} path={here} ctx={ctx} onChange={(g) => setAt(i, g)} onRemove={() => removeAt(i)} />
              ) : (
                <ConditionRow label={`Condition ${i + 1}${depth > 1 ? ` of the level ${depth} group` : ''}`} condition={c} path={here} ctx={ctx} onChange={(x) => setAt(i, x)} onRemove={() => removeAt(i)} />
              )}
            </Stack>
          );
        })}
        {groupErrors.map((m) => (
          <Text key={m} size="xs" c="red">
            {m}
          </Text>
        ))}
        {!ctx.readOnly && (
          <Group gap="xs">
            <Button size="compact-sm" variant="light" onClick={() => onChange({ ...group, conditions: [...group.conditions, newCondition('attribute')] })}>
              + Condition
            </Button>
            <Tooltip label={`Groups nest at most ${MAX_DEPTH} levels`} disabled={depth < MAX_DEPTH}>
              <Button
                size="compact-sm"
                variant="default"
                disabled={depth >= MAX_DEPTH}
                onClick={() => onChange({ ...group, conditions: [...group.conditions, newCondition('group')] })}
              >
                + Group
              </Button>
            </Tooltip>
          </Group>
        )}
      </Stack>
    </Paper>
  );
}

function ConditionRow({ label, condition, path, ctx, onChange, onRemove }: { label: string; condition: SegmentCondition; path: string; ctx: Ctx; onChange: (c: SegmentCondition) => void; onRemove: () => void }) {
  const errors = errorsAt(ctx.errors, path);
  return (
    <Stack gap={2} role="group" aria-label={label}>
      <Group gap="xs" align="flex-end" wrap="wrap">
        <Select
          label="Type"
          size="xs"
          w={170}
          data={TYPE_OPTIONS}
          value={condition.type}
          onChange={(v) => v && v !== condition.type && onChange(newCondition(v))}
          allowDeselect={false}
          disabled={ctx.readOnly}
        />
        <ConditionFields condition={condition} onChange={onChange} readOnly={ctx.readOnly} />
        {!ctx.readOnly && (
          <ActionIcon variant="subtle" color="red" aria-label={`Remove ${label.toLowerCase()}`} onClick={onRemove} mb={4}>
            ×
          </ActionIcon>
        )}
      </Group>
      {errors.map((m) => (
        <Text key={m} size="xs" c="red" role="alert">
          {m}
        </Text>
      ))}
    </Stack>
  );
}

function ConditionFields({ condition: c, onChange, readOnly }: { condition: SegmentCondition; onChange: (c: SegmentCondition) => void; readOnly: boolean }) {
  const lists = useLists();
  const tags = useTags();
  const campaigns = useQuery({
    queryKey: ['campaigns', 'all'],
    queryFn: () => get<Paged<CampaignSummary>>('/campaigns', { limit: 100 }),
    enabled: c.type === 'send_history',
  });
  const sequences = useQuery({
    queryKey: ['sequences', 'all'],
    queryFn: () => get<Paged<SequenceSummary>>('/sequences', { limit: 100 }),
    enabled: c.type === 'send_history',
  });
  const common = { size: 'xs' as const, disabled: readOnly };

  switch (c.type) {
    case 'attribute':
      return <AttributeFields c={c} onChange={onChange} readOnly={readOnly} />;
    case 'tag':
      return (
        <>
          <Select {...common} label="Condition" w={150} data={[{ value: 'has', label: 'has tag' }, { value: 'not_has', label: 'does not have tag' }]} value={c.op} onChange={(v) => v && onChange({ ...c, op: v as 'has' | 'not_has' })} allowDeselect={false} />
          <Autocomplete {...common} label="Tag" w={180} data={(tags.data?.data ?? []).map((t) => t.name)} value={c.tag} onChange={(tag) => onChange({ ...c, tag })} placeholder="vip" />
        </>
      );
    case 'list':
      return (
        <>
          <Select {...common} label="Condition" w={150} data={[{ value: 'in', label: 'is in list' }, { value: 'not_in', label: 'is not in list' }]} value={c.op} onChange={(v) => v && onChange({ ...c, op: v as 'in' | 'not_in' })} allowDeselect={false} />
          <Select
            {...common}
            label="List"
            w={200}
            placeholder="Pick a list"
            data={(lists.data?.data ?? []).map((l) => ({ value: String(l.id), label: l.name }))}
            value={c.listId ? String(c.listId) : null}
            onChange={(v) => onChange({ ...c, listId: Number(v ?? 0) })}
            searchable
          />
        </>
      );
    case 'engagement':
      return (
        <>
          <Select {...common} label="Activity" w={110} data={[{ value: 'opened', label: 'opened' }, { value: 'clicked', label: 'clicked' }]} value={c.metric} onChange={(v) => v && onChange({ ...c, metric: v as 'opened' | 'clicked' })} allowDeselect={false} />
          <Select {...common} label="When" w={170} data={[{ value: 'within_days', label: 'an email within' }, { value: 'not_within_days', label: 'no email within' }]} value={c.op} onChange={(v) => v && onChange({ ...c, op: v as 'within_days' | 'not_within_days' })} allowDeselect={false} />
          <NumberInput {...common} label="Days" w={90} min={1} max={3650} value={c.days} onChange={(v) => onChange({ ...c, days: typeof v === 'number' ? v : Number(v) || 0 })} />
        </>
      );
    case 'send_history': {
      const kind = c.sequenceId !== undefined ? 'sequence' : 'campaign';
      const items = kind === 'campaign' ? (campaigns.data?.data ?? []) : (sequences.data?.data ?? []);
      const id = kind === 'campaign' ? c.campaignId : c.sequenceId;
      return (
        <>
          <Select
            {...common}
            label="Condition"
            w={150}
            data={[
              { value: 'received', label: 'received' },
              { value: 'not_received', label: 'did not receive' },
              { value: 'opened', label: 'opened' },
              { value: 'not_opened', label: 'did not open' },
            ]}
            value={c.op}
            onChange={(v) => v && onChange({ ...c, op: v as typeof c.op })}
            allowDeselect={false}
          />
          <Select
            {...common}
            label="From"
            w={120}
            data={[{ value: 'campaign', label: 'campaign' }, { value: 'sequence', label: 'sequence' }]}
            value={kind}
            onChange={(v) => onChange(v === 'sequence' ? { type: 'send_history', op: c.op, sequenceId: 0 } : { type: 'send_history', op: c.op, campaignId: 0 })}
            allowDeselect={false}
          />
          <Select
            {...common}
            label={kind === 'campaign' ? 'Campaign' : 'Sequence'}
            w={200}
            placeholder="Pick one"
            data={items.map((x) => ({ value: String(x.id), label: x.name }))}
            value={id ? String(id) : null}
            onChange={(v) => onChange(kind === 'campaign' ? { type: 'send_history', op: c.op, campaignId: Number(v ?? 0) } : { type: 'send_history', op: c.op, sequenceId: Number(v ?? 0) })}
            searchable
          />
        </>
      );
    }
    default:
      return null;
  }
}

/** Turns typed text into the value the API wants: numbers stay numbers for custom-field comparisons. */
function typed(text: string, kind: Kind, op: AttributeOp): string | number {
  if (kind === 'custom' && ['gt', 'gte', 'lt', 'lte'].includes(op) && text.trim() !== '' && !Number.isNaN(Number(text))) return Number(text);
  return text;
}

function AttributeFields({ c, onChange, readOnly }: { c: AttributeCondition; onChange: (c: SegmentCondition) => void; readOnly: boolean }) {
  const kind = kindOf(c.field);
  const isCustom = kind === 'custom';
  const customName = isCustom ? c.field.slice('customFields.'.length) : '';
  const ops = OPS[kind];
  const common = { size: 'xs' as const, disabled: readOnly };

  const setField = (field: string) => {
    const k = kindOf(field);
    const op = OPS[k].includes(c.op) ? c.op : OPS[k][0]!;
    const value = k === 'status' ? (op === 'in' ? ['subscribed'] : 'subscribed') : k === kind ? c.value : op === 'exists' || op === 'not_exists' ? undefined : '';
    onChange({ type: 'attribute', field, op, value: op === 'exists' || op === 'not_exists' ? undefined : value });
  };
  const setOp = (op: AttributeOp) => {
    let value = c.value;
    if (op === 'exists' || op === 'not_exists') value = undefined;
    else if (op === 'in') value = Array.isArray(c.value) ? c.value : c.value === undefined || c.value === '' ? [] : [c.value as string];
    else if (Array.isArray(c.value)) value = c.value[0] ?? '';
    else if (value === undefined) value = kind === 'status' ? 'subscribed' : '';
    onChange({ ...c, op, value });
  };

  let valueInput = null;
  if (c.op === 'exists' || c.op === 'not_exists') {
    // no value
  } else if (kind === 'status') {
    valueInput =
      c.op === 'in' ? (
        <MultiSelect {...common} label="Statuses" w={240} data={[...CONTACT_STATUSES]} value={Array.isArray(c.value) ? c.value.map(String) : []} onChange={(v) => onChange({ ...c, value: v })} />
      ) : (
        <Select {...common} label="Status" w={150} data={[...CONTACT_STATUSES]} value={typeof c.value === 'string' ? c.value : null} onChange={(v) => onChange({ ...c, value: v ?? 'subscribed' })} allowDeselect={false} />
      );
  } else if (c.op === 'in') {
    valueInput = (
      <TagsInput {...common} label="Values (Enter after each)" w={260} value={Array.isArray(c.value) ? c.value.map(String) : []} onChange={(v) => onChange({ ...c, value: v })} />
    );
  } else if (kind === 'date') {
    valueInput = (
      <TextInput {...common} label="Date" type="date" w={160} value={typeof c.value === 'string' ? c.value.slice(0, 10) : ''} onChange={(e) => onChange({ ...c, value: e.currentTarget.value })} />
    );
  } else {
    valueInput = (
      <TextInput
        {...common}
        label="Value"
        w={180}
        value={c.value === undefined ? '' : String(c.value)}
        onChange={(e) => onChange({ ...c, value: typed(e.currentTarget.value, kind, c.op) })}
        placeholder={isCustom && ['gt', 'gte', 'lt', 'lte'].includes(c.op) ? 'number or YYYY-MM-DD' : undefined}
      />
    );
  }

  return (
    <>
      <Select
        {...common}
        label="Field"
        w={160}
        data={[
          { group: 'Contact', items: [...TEXT_FIELDS, 'status', ...DATE_FIELDS].map((f) => ({ value: f, label: FIELD_LABELS[f] ?? f })) },
          { group: 'Custom', items: [{ value: CUSTOM, label: 'Custom field…' }] },
        ]}
        value={isCustom ? CUSTOM : c.field}
        onChange={(v) => v && setField(v === CUSTOM ? `customFields.${customName || 'plan'}` : v)}
        allowDeselect={false}
        searchable
      />
      {isCustom && (
        <TextInput
          {...common}
          label="Custom field name"
          w={150}
          value={customName}
          onChange={(e) => onChange({ ...c, field: `customFields.${e.currentTarget.value}` })}
        />
      )}
      <Select
        {...common}
        label="Operator"
        w={190}
        data={ops.map((op) => ({ value: op, label: (kind === 'date' ? DATE_OP_LABELS[op] : undefined) ?? OP_LABELS[op] }))}
        value={c.op}
        onChange={(v) => v && setOp(v as AttributeOp)}
        allowDeselect={false}
      />
      {valueInput}
    </>
  );
}
