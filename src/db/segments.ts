import { and, asc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { AppError } from '../errors.js';
import {
  customFieldName,
  segmentRulesSchema,
  type AttributeCondition,
  type ComparisonOp,
  type DateField,
  type SegmentCondition,
  type SegmentRules,
  type TextField,
} from '../domain/segment-rules.js';
import type { DbOrTx } from './client.js';
import type { ContactView } from './repositories/contacts.js';
import { contacts, segments } from './schema.js';

/**
 * Compiles segment rules (src/domain/segment-rules.ts) to ONE SQL query over `contacts c`.
 *
 * Safety: every value, tag name and custom-field name is a bound parameter. Column names come only
 * from the fixed maps below (never from the input), and every sub-select is restricted to the
 * site, so a rule cannot reach another site's tags, lists, events or sends.
 */

// Whitelist of the contact columns a rule may name. sql.raw() only ever sees these constants.
const TEXT_COLUMNS: Record<TextField, SQL> = {
  email: sql.raw('c.email'),
  firstName: sql.raw('c.first_name'),
  lastName: sql.raw('c.last_name'),
  phone: sql.raw('c.phone'),
  company: sql.raw('c.company'),
  city: sql.raw('c.city'),
  country: sql.raw('c.country'),
  timezone: sql.raw('c.timezone'),
  source: sql.raw('c.source'),
};
const DATE_COLUMNS: Record<DateField, SQL> = {
  createdAt: sql.raw('c.created_at'),
  subscribedAt: sql.raw('c.subscribed_at'),
};

const COMPARATORS: Record<ComparisonOp, SQL> = { gt: sql.raw('>'), gte: sql.raw('>='), lt: sql.raw('<'), lte: sql.raw('<=') };

/** Send statuses that mean the email reached (or was accepted for) the contact. */
const RECEIVED_STATUSES = sql.raw(`('sent', 'delivered', 'delivery_delayed', 'complained')`);

// A plain decimal such as "42", "-3.5": safe to cast, so CSV-imported numbers (stored as JSON
// strings) compare numerically too. No exponent, so the cast can never overflow.
const DECIMAL_PATTERN = '^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$';

/** Escapes LIKE wildcards so `contains "50%"` matches the text "50%" literally. */
function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** `lower(text) op value` building blocks shared by standard text columns and custom fields. */
function textComparison(column: SQL, op: AttributeCondition['op'], value: unknown): SQL {
  switch (op) {
    case 'eq':
      return sql`lower(${column}) = lower(${String(value)})`;
    case 'neq':
      // "city is not Paris" includes contacts with no city.
      return sql`lower(${column}) is distinct from lower(${String(value)})`;
    case 'contains':
      return sql`${column} ilike ${`%${likeEscape(String(value))}%`}`;
    case 'starts_with':
      return sql`${column} ilike ${`${likeEscape(String(value))}%`}`;
    case 'in':
      return sql`lower(${column}) in (select lower(v) from unnest(${sql.param((value as unknown[]).map(String))}::text[]) v)`;
    case 'exists':
      return sql`nullif(${column}, '') is not null`;
    case 'not_exists':
      return sql`nullif(${column}, '') is null`;
    default:
      throw new Error(`op ${op} does not apply to text`);
  }
}

function customFieldCondition(name: string, op: AttributeCondition['op'], value: unknown): SQL {
  const raw = sql`(c.custom_fields -> ${name})`;
  const text = sql`(c.custom_fields ->> ${name})`;
  // Numbers: JSON numbers, or strings holding a plain decimal; anything else is NULL (no match),
  // never a cast error that would fail the whole query because of one contact's data.
  const numeric = sql`(case when jsonb_typeof(${raw}) = 'number' then ${text}::numeric when jsonb_typeof(${raw}) = 'string' and ${text} ~ ${DECIMAL_PATTERN} then ${text}::numeric end)`;
  // Dates: strings PostgreSQL reads as timestamptz; others are NULL.
  const instant = sql`(case when jsonb_typeof(${raw}) = 'string' and pg_input_is_valid(${text}, 'timestamptz') then ${text}::timestamptz end)`;

  switch (op) {
    case 'exists':
    case 'not_exists':
    case 'contains':
    case 'starts_with':
      return textComparison(text, op, value);
    case 'eq':
    case 'neq': {
      const negate = op === 'neq';
      if (typeof value === 'number') {
        return negate ? sql`${numeric} is distinct from ${value}::numeric` : sql`${numeric} = ${value}::numeric`;
      }
      // Booleans and strings compare as text: `true` also matches the string "true" (CSV imports).
      return textComparison(text, op, String(value));
    }
    case 'in': {
      const values = value as (string | number)[];
      const numbers = values.filter((v): v is number => typeof v === 'number');
      const strings = values.filter((v): v is string => typeof v === 'string');
      const parts: SQL[] = [];
      if (numbers.length) parts.push(sql`${numeric} = any(${sql.param(numbers)}::numeric[])`);
      if (strings.length) parts.push(textComparison(text, 'in', strings));
      return parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` or `)})`;
    }
    default: {
      const cmp = COMPARATORS[op];
      return typeof value === 'number'
        ? sql`${numeric} ${cmp} ${value}::numeric`
        : sql`${instant} ${cmp} ${String(value)}::timestamptz`;
    }
  }
}

function attributeCondition(c: AttributeCondition): SQL {
  const custom = customFieldName(c.field);
  if (custom !== undefined) return customFieldCondition(custom, c.op, c.value);

  if (c.field === 'status') {
    switch (c.op) {
      case 'eq':
        return sql`c.status = ${String(c.value)}`;
      case 'neq':
        return sql`c.status <> ${String(c.value)}`;
      case 'in':
        return sql`c.status = any(${sql.param((c.value as unknown[]).map(String))}::contact_status[])`;
      case 'exists':
        return sql`true`;
      case 'not_exists':
        return sql`false`;
      default:
        throw new Error(`op ${c.op} does not apply to status`);
    }
  }

  if (c.field in DATE_COLUMNS) {
    const column = DATE_COLUMNS[c.field as DateField];
    if (c.op === 'exists') return sql`${column} is not null`;
    if (c.op === 'not_exists') return sql`${column} is null`;
    const cmp = COMPARATORS[c.op as ComparisonOp];
    if (!cmp) throw new Error(`op ${c.op} does not apply to dates`);
    return sql`${column} ${cmp} ${String(c.value)}::timestamptz`;
  }

  const column = TEXT_COLUMNS[c.field as TextField];
  // Unreachable for validated rules; a guard so unvalidated input can never reach the SQL.
  if (!column) throw new Error(`unknown field ${c.field}`);
  if (c.field === 'email' && (c.op === 'eq' || c.op === 'in')) {
    // Emails are stored lowercased, so this stays an index lookup on (site_id, email).
    return c.op === 'eq'
      ? sql`c.email = lower(${String(c.value)})`
      : sql`c.email in (select lower(v) from unnest(${sql.param((c.value as unknown[]).map(String))}::text[]) v)`;
  }
  return textComparison(column, c.op, c.value);
}

/**
 * How many membership conditions of one query compile to a form PostgreSQL turns into a join. Each
 * such join enters the planner's join search, whose cost grows steeply with their number: 100 tag
 * conditions under AND took over 4 s to *plan* on two contacts (found by the API fuzzer). The first
 * few (every real segment, the bench ones included) keep the fast join; the rest are checked per
 * contact against a hashed set or an index probe, which plans in linear time.
 */
const JOINED_MEMBERSHIPS = 8;

/** Per compiled query: how many joinable membership conditions are still allowed. */
interface Compile {
  siteId: number;
  joinsLeft: number;
}

/**
 * Membership of `c.id` in a set of contact ids (a sub-select whose column is `contact_id`).
 * Positive: `c.id in (…)`, a semi-join (or, inside OR, a hashed set built once) instead of one
 * correlated probe per contact — 4x faster on the nested bench segment. Negative: `not exists`,
 * which PostgreSQL runs as an anti-join (or an index probe per row inside OR): unlike `not in` it
 * never degrades to re-scanning a large set per contact when the set outgrows work_mem.
 * Past the join budget the same test is wrapped in `(…) is true` (equivalent here: neither side is
 * ever null), which PostgreSQL does not pull up into a join, so it stays a hashed set or a probe.
 */
function membership(compile: Compile, positive: boolean, contactIds: SQL): SQL {
  const test = positive
    ? sql`c.id in (${contactIds})`
    : sql`not exists (select 1 from (${contactIds}) m where m.contact_id = c.id)`;
  if (compile.joinsLeft > 0) {
    compile.joinsLeft -= 1;
    return test;
  }
  return sql`(${test}) is true`;
}

function conditionSql(compile: Compile, c: SegmentCondition): SQL {
  const { siteId } = compile;
  switch (c.type) {
    case 'attribute':
      return attributeCondition(c);
    case 'tag':
      return membership(
        compile,
        c.op === 'has',
        sql`select ct.contact_id from contact_tags ct join tags t on t.id = ct.tag_id where t.site_id = ${siteId} and t.name = ${c.tag}`,
      );
    case 'list':
      return membership(
        compile,
        c.op === 'in',
        sql`select lm.contact_id from list_members lm join lists l on l.id = lm.list_id where lm.list_id = ${c.listId} and l.site_id = ${siteId}`,
      );
    case 'engagement':
      return membership(
        compile,
        c.op === 'within_days',
        sql`select e.contact_id from email_events e where e.site_id = ${siteId} and e.type = ${c.metric} and e.occurred_at > now() - make_interval(days => ${c.days}::int)`,
      );
    case 'send_history': {
      const byCampaign = c.campaignId !== undefined;
      const id = byCampaign ? c.campaignId! : c.sequenceId!;
      const sendColumn = sql.raw(byCampaign ? 's.campaign_id' : 's.sequence_id');
      const eventColumn = sql.raw(byCampaign ? 'e.campaign_id' : 'e.sequence_id');
      if (c.op === 'received' || c.op === 'not_received') {
        return membership(
          compile,
          c.op === 'received',
          sql`select s.contact_id from sends s where s.site_id = ${siteId} and ${sendColumn} = ${id} and s.status in ${RECEIVED_STATUSES}`,
        );
      }
      // An open event names its campaign/sequence directly, or only through its send.
      return membership(
        compile,
        c.op === 'opened',
        sql`select e.contact_id from email_events e where e.site_id = ${siteId} and e.type = 'opened' and ${eventColumn} = ${id}
            union all
            select e.contact_id from email_events e join sends s on s.id = e.send_id
            where e.site_id = ${siteId} and e.type = 'opened' and ${eventColumn} is null and ${sendColumn} = ${id}`,
      );
    }
    case 'group':
      return groupSql(compile, c.operator, c.conditions);
  }
}

function groupSql(compile: Compile, operator: 'AND' | 'OR', conditions: SegmentCondition[]): SQL {
  if (conditions.length === 0) return operator === 'AND' ? sql`true` : sql`false`;
  const parts = conditions.map((c) => sql`(${conditionSql(compile, c)})`);
  return sql`(${sql.join(parts, operator === 'AND' ? sql` and ` : sql` or `)})`;
}

/** The WHERE clause over `contacts c` (site included). */
export function segmentWhereSql(siteId: number, rules: SegmentRules): SQL {
  const compile: Compile = { siteId, joinsLeft: JOINED_MEMBERSHIPS };
  return sql`c.site_id = ${siteId} and ${groupSql(compile, rules.operator, rules.conditions)}`;
}

/**
 * `select c.id from contacts c where c.site_id = $1 and (…)`: the ids of the site's contacts that
 * match the rules, as one query with bound parameters. Compose it as a sub-select, e.g.
 * `insert … select … where contact_id in (${segmentContactsSql(siteId, rules)})`.
 * Rules must have passed `segmentRulesSchema` (getSegmentRules does that for stored ones).
 */
export function segmentContactsSql(siteId: number, rules: SegmentRules): SQL {
  return sql`select c.id from contacts c where ${segmentWhereSql(siteId, rules)}`;
}

export async function countSegment(db: DbOrTx, siteId: number, rules: SegmentRules): Promise<number> {
  const result = await db.execute<{ count: number }>(sql`select count(*)::int as count from contacts c where ${segmentWhereSql(siteId, rules)}`);
  return result.rows[0]?.count ?? 0;
}

// The contact as the contacts API shows it (tags and lists included), one query per page.
const { siteId: _siteId, ...contactTableColumns } = getTableColumns(contacts);
const contactColumns = {
  ...contactTableColumns,
  tags: sql<string[]>`coalesce((select array_agg(t.name order by t.name) from contact_tags ct join tags t on t.id = ct.tag_id where ct.contact_id = "contacts"."id"), '{}')`,
  lists: sql<number[]>`coalesce((select array_agg(lm.list_id order by lm.list_id) from list_members lm where lm.contact_id = "contacts"."id"), '{}')`,
};

/** A page of matching contacts in id order, with the total. */
export async function listSegmentContacts(
  db: DbOrTx,
  siteId: number,
  rules: SegmentRules,
  page: { page: number; limit: number },
): Promise<{ rows: ContactView[]; total: number }> {
  const [rows, total] = await Promise.all([
    db
      .select(contactColumns)
      .from(contacts)
      .where(sql`${contacts.id} in (${segmentContactsSql(siteId, rules)})`)
      .orderBy(asc(contacts.id))
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    countSegment(db, siteId, rules),
  ]);
  return { rows, total };
}

/**
 * The stored rules of a segment of this site, re-validated (so a compile never sees a tree the
 * current schema would refuse). 404 `not_found` when the site has no such segment.
 */
export async function getSegmentRules(db: DbOrTx, siteId: number, segmentId: number): Promise<SegmentRules> {
  const [row] = await db
    .select({ rules: segments.rules })
    .from(segments)
    .where(and(eq(segments.siteId, siteId), eq(segments.id, segmentId)));
  if (!row) throw AppError.notFound('Segment', segmentId);
  const parsed = segmentRulesSchema.safeParse(row.rules);
  if (!parsed.success) {
    throw new AppError('invalid_segment', 'unprocessable', `Segment ${segmentId} has rules that are no longer valid; update them`);
  }
  return parsed.data;
}

/**
 * A segment's contacts as SQL for a campaign's audience, or no contacts when the segment was deleted or
 * its rules no longer hold: a campaign scheduled before then targets nobody by it rather than failing.
 */
export async function campaignSegmentSql(db: DbOrTx, siteId: number, segmentId: number): Promise<SQL> {
  try {
    return segmentContactsSql(siteId, await getSegmentRules(db, siteId, segmentId));
  } catch (err) {
    if (err instanceof AppError) return sql`select null::int where false`;
    throw err;
  }
}
