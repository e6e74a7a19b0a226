import { z } from 'zod';

/**
 * The segment rule language of SPEC §3, as one zod schema. Pure (no database): the API validates
 * with it, src/db/segments.ts compiles what it accepts to SQL. Everything a rule may name is
 * closed: fields come from a fixed list (or `customFields.<name>` with a strict name pattern), so
 * nothing from the input ever reaches the SQL text — only bound parameters.
 */

export const SEGMENT_MAX_DEPTH = 5;
export const SEGMENT_MAX_CONDITIONS = 100;
export const SEGMENT_MAX_IN_VALUES = 1000;
const MAX_TEXT = 1000;
const MAX_DAYS = 3650;
const INT4_MAX = 2_147_483_647;

export const CONTACT_STATUS_VALUES = ['subscribed', 'unsubscribed', 'bounced', 'complained'] as const;

/** Free-text contact columns; compared case-insensitively. */
export const TEXT_FIELDS = ['email', 'firstName', 'lastName', 'phone', 'company', 'city', 'country', 'timezone', 'source'] as const;
export const DATE_FIELDS = ['createdAt', 'subscribedAt'] as const;
export const STANDARD_FIELDS = [...TEXT_FIELDS, 'status', ...DATE_FIELDS] as const;

export type TextField = (typeof TEXT_FIELDS)[number];
export type DateField = (typeof DATE_FIELDS)[number];
export type StandardField = (typeof STANDARD_FIELDS)[number];
export type CustomFieldRef = `customFields.${string}`;
export type SegmentField = StandardField | CustomFieldRef;

/** Letters, digits, `_` and `-`, starting with a letter or `_`: the names a CSV header or API gives. */
export const CUSTOM_FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;
const CUSTOM_FIELD_REF = /^customFields\.([A-Za-z_][A-Za-z0-9_-]{0,99})$/;

/** The custom field name of `customFields.<name>`, or undefined for a standard field. */
export function customFieldName(field: string): string | undefined {
  return CUSTOM_FIELD_REF.exec(field)?.[1];
}

export const ATTRIBUTE_OPS = ['eq', 'neq', 'contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists', 'in'] as const;
export type AttributeOp = (typeof ATTRIBUTE_OPS)[number];
export const COMPARISON_OPS = ['gt', 'gte', 'lt', 'lte'] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

const operator = z.enum(['AND', 'OR'], { error: 'operator must be AND or OR' });
const positiveId = z
  .int({ error: 'must be an integer id' })
  .min(1, { error: 'must be a positive integer id' })
  .max(INT4_MAX, { error: 'is too large' });

const fieldSchema = z
  .string({ error: 'field must be a string' })
  .refine((f) => (STANDARD_FIELDS as readonly string[]).includes(f) || customFieldName(f) !== undefined, {
    error: `field must be one of ${STANDARD_FIELDS.join(', ')} or customFields.<name> (letters, digits, _ and -)`,
  })
  .meta({ description: `One of ${STANDARD_FIELDS.join(', ')}, or customFields.<name>.`, example: 'customFields.plan' })
  .transform((f) => f as SegmentField);

const scalar = z.union([z.string().max(MAX_TEXT), z.number(), z.boolean()]);
const valueSchema = z.union([scalar, z.array(z.union([z.string().max(MAX_TEXT), z.number()])).max(SEGMENT_MAX_IN_VALUES)]).optional();

const isoInstant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const isDate = (v: unknown) => typeof v === 'string' && isoInstant.safeParse(v).success;

type Issue = { path: string[]; message: string };

/** What value each op needs on each kind of field; undefined when the pair is valid. */
function attributeIssue(field: SegmentField, op: AttributeOp, value: unknown): Issue | undefined {
  const custom = customFieldName(field) !== undefined;
  const kind = custom ? 'custom' : field === 'status' ? 'status' : (DATE_FIELDS as readonly string[]).includes(field) ? 'date' : 'text';
  const bad = (message: string): Issue => ({ path: ['value'], message });
  const badOp = (message: string): Issue => ({ path: ['op'], message });

  if (op === 'exists' || op === 'not_exists') {
    return value === undefined ? undefined : bad(`${op} takes no value`);
  }
  if (value === undefined) return bad(`${op} needs a value`);

  if (kind === 'date') {
    if (!(COMPARISON_OPS as readonly string[]).includes(op)) return badOp(`${field} is a date: use gt, gte, lt, lte, exists or not_exists`);
    return isDate(value) ? undefined : bad('must be an ISO 8601 date or date-time, e.g. 2025-01-31 or 2025-01-31T12:00:00Z');
  }
  if (kind === 'status') {
    if (op === 'eq' || op === 'neq') {
      return (CONTACT_STATUS_VALUES as readonly unknown[]).includes(value) ? undefined : bad(`must be one of ${CONTACT_STATUS_VALUES.join(', ')}`);
    }
    if (op === 'in') {
      return Array.isArray(value) && value.length > 0 && value.every((v) => (CONTACT_STATUS_VALUES as readonly unknown[]).includes(v))
        ? undefined
        : bad(`must be a non-empty array of ${CONTACT_STATUS_VALUES.join(', ')}`);
    }
    return badOp('status supports eq, neq, in, exists and not_exists');
  }

  switch (op) {
    case 'in':
      if (!Array.isArray(value) || value.length === 0) return bad('in needs a non-empty array of values');
      if (kind === 'text' && !value.every((v) => typeof v === 'string')) return bad(`${field} is text: in needs an array of strings`);
      return undefined;
    case 'contains':
    case 'starts_with':
      return typeof value === 'string' && value.length > 0 ? undefined : bad(`${op} needs a non-empty string`);
    case 'eq':
    case 'neq':
      if (kind === 'text') return typeof value === 'string' ? undefined : bad(`${field} is text: ${op} needs a string`);
      return Array.isArray(value) ? bad(`${op} needs a single value (use in for several)`) : undefined;
    default:
      // gt/gte/lt/lte: numbers and dates of custom fields only; text fields have no useful order here.
      if (kind === 'text') return badOp(`${field} is text: ${op} applies to dates, numbers and custom fields`);
      return typeof value === 'number' || isDate(value) ? undefined : bad(`${op} needs a number or an ISO 8601 date`);
  }
}

const attributeCondition = z
  .object({
    type: z.literal('attribute'),
    field: fieldSchema,
    op: z.enum(ATTRIBUTE_OPS, { error: `op must be one of ${ATTRIBUTE_OPS.join(', ')}` }),
    value: valueSchema,
  })
  .superRefine((c, ctx) => {
    const issue = attributeIssue(c.field, c.op, c.value);
    if (issue) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

const tagCondition = z.object({
  type: z.literal('tag'),
  op: z.enum(['has', 'not_has'], { error: 'op must be has or not_has' }),
  tag: z
    .string({ error: 'tag must be a tag name' })
    .trim()
    .min(1, { error: 'tag name must not be empty' })
    .max(100, { error: 'tag name is at most 100 characters' }),
});

const listCondition = z.object({
  type: z.literal('list'),
  op: z.enum(['in', 'not_in'], { error: 'op must be in or not_in' }),
  listId: positiveId,
});

const engagementCondition = z.object({
  type: z.literal('engagement'),
  metric: z.enum(['opened', 'clicked'], { error: 'metric must be opened or clicked' }),
  op: z.enum(['within_days', 'not_within_days'], { error: 'op must be within_days or not_within_days' }),
  days: z
    .int({ error: 'days must be an integer' })
    .min(1, { error: 'days must be at least 1' })
    .max(MAX_DAYS, { error: `days must be at most ${MAX_DAYS}` }),
});

const sendHistoryCondition = z
  .object({
    type: z.literal('send_history'),
    op: z.enum(['received', 'not_received', 'opened', 'not_opened'], { error: 'op must be received, not_received, opened or not_opened' }),
    campaignId: positiveId.optional(),
    sequenceId: positiveId.optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.campaignId === undefined) === (c.sequenceId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['campaignId'], message: 'give exactly one of campaignId or sequenceId' });
    }
  });

export type AttributeCondition = z.output<typeof attributeCondition>;
export type TagCondition = z.output<typeof tagCondition>;
export type ListCondition = z.output<typeof listCondition>;
export type EngagementCondition = z.output<typeof engagementCondition>;
export type SendHistoryCondition = z.output<typeof sendHistoryCondition>;
export interface GroupCondition {
  type: 'group';
  operator: 'AND' | 'OR';
  conditions: SegmentCondition[];
}
export type SegmentCondition =
  | AttributeCondition
  | TagCondition
  | ListCondition
  | EngagementCondition
  | SendHistoryCondition
  | GroupCondition;
export interface SegmentRules {
  operator: 'AND' | 'OR';
  conditions: SegmentCondition[];
}

const conditionsOf = (schema: z.ZodType<SegmentCondition>) =>
  z
    .array(schema, { error: 'conditions must be an array' })
    .min(1, { error: 'conditions must not be empty' })
    .max(SEGMENT_MAX_CONDITIONS, { error: `at most ${SEGMENT_MAX_CONDITIONS} conditions` });

const TYPES = ['attribute', 'tag', 'list', 'engagement', 'send_history', 'group'];

// Recursion through a getter (zod v4's way); the depth and total-size limits are checked once on
// the whole tree below, where the path of the offending group is known.
const groupCondition: z.ZodType<GroupCondition> = z.object({
  type: z.literal('group'),
  operator,
  get conditions() {
    return conditionsOf(segmentConditionSchema);
  },
});

export const segmentConditionSchema: z.ZodType<SegmentCondition> = z.discriminatedUnion(
  'type',
  [attributeCondition, tagCondition, listCondition, engagementCondition, sendHistoryCondition, groupCondition as unknown as z.ZodObject<never>],
  { error: (iss) => (iss.code === 'invalid_union' ? `type must be one of ${TYPES.join(', ')}` : undefined) },
  // The id lets the OpenAPI generator emit the recursion as a $ref instead of recursing forever.
).meta({ id: 'SegmentCondition' }) as z.ZodType<SegmentCondition>;

/**
 * Checks nesting depth and the total number of conditions on the raw input, before the recursive
 * schema runs: a body nested thousands of levels deep would otherwise exhaust the stack (a 500).
 * Issues carry the path of the offending group.
 */
function shapeIssues(raw: unknown): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  let total = 0;
  const conditionsOfRaw = (node: unknown): unknown[] | undefined => {
    const c = (node as { conditions?: unknown } | null)?.conditions;
    return typeof node === 'object' && node !== null && Array.isArray(c) ? c : undefined;
  };
  const walk = (conditions: unknown[], depth: number, path: (string | number)[]) => {
    conditions.forEach((c, i) => {
      total += 1;
      const nested = conditionsOfRaw(c);
      if (!nested) return;
      if (depth + 1 > SEGMENT_MAX_DEPTH) {
        issues.push({ path: [...path, i], message: `groups nest at most ${SEGMENT_MAX_DEPTH} levels deep` });
        return;
      }
      walk(nested, depth + 1, [...path, i, 'conditions']);
    });
  };
  const top = conditionsOfRaw(raw);
  if (top) walk(top, 1, ['conditions']);
  if (total > SEGMENT_MAX_CONDITIONS) {
    issues.push({ path: ['conditions'], message: `at most ${SEGMENT_MAX_CONDITIONS} conditions in total (found ${total})` });
  }
  return issues;
}

const rulesObject = z.object(
  { operator, conditions: conditionsOf(segmentConditionSchema) },
  { error: 'rules must be an object {operator, conditions}' },
);

export const segmentRulesSchema: z.ZodType<SegmentRules> = z
  .preprocess((raw, ctx) => {
    for (const issue of shapeIssues(raw)) ctx.addIssue({ code: 'custom', input: raw, ...issue });
    return raw;
  }, rulesObject)
  .meta({
    id: 'SegmentRules',
    description:
      'A tree of conditions joined by AND/OR (SPEC §3). Condition types: attribute {field, op, value}, ' +
      'tag {op: has|not_has, tag}, list {op: in|not_in, listId}, engagement {metric: opened|clicked, ' +
      'op: within_days|not_within_days, days}, send_history {op: received|not_received|opened|not_opened, ' +
      `campaignId|sequenceId}, group {operator, conditions}. Groups nest at most ${SEGMENT_MAX_DEPTH} levels; ` +
      `at most ${SEGMENT_MAX_CONDITIONS} conditions in total.`,
    example: {
      operator: 'AND',
      conditions: [
        { type: 'attribute', field: 'country', op: 'eq', value: 'FR' },
        { type: 'tag', op: 'has', tag: 'vip' },
        { type: 'engagement', metric: 'opened', op: 'within_days', days: 30 },
      ],
    },
  }) as z.ZodType<SegmentRules>;

/** Every list, campaign and sequence id a rule tree refers to, with its path (for 400s naming it). */
export function referencedIds(rules: SegmentRules): { kind: 'list' | 'campaign' | 'sequence'; id: number; path: string }[] {
  const out: { kind: 'list' | 'campaign' | 'sequence'; id: number; path: string }[] = [];
  const walk = (conditions: SegmentCondition[], path: string) => {
    conditions.forEach((c, i) => {
      const here = `${path}.${i}`;
      if (c.type === 'group') walk(c.conditions, `${here}.conditions`);
      else if (c.type === 'list') out.push({ kind: 'list', id: c.listId, path: `${here}.listId` });
      else if (c.type === 'send_history') {
        if (c.campaignId !== undefined) out.push({ kind: 'campaign', id: c.campaignId, path: `${here}.campaignId` });
        if (c.sequenceId !== undefined) out.push({ kind: 'sequence', id: c.sequenceId, path: `${here}.sequenceId` });
      }
    });
  };
  walk(rules.conditions, 'conditions');
  return out;
}
