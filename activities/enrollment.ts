import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq, isNull, max, sql } from 'drizzle-orm';
import type { Db } from '../src/db/client.js';
import { contactRenderColumns } from '../src/db/repositories/contacts.js';
import { insertSend, reserveSendIds } from '../src/db/repositories/sends.js';
import { isSuppressed } from '../src/db/repositories/suppressions.js';
import {
  contacts,
  contactTags,
  emailEvents,
  enrollments,
  enrollmentSteps,
  sends,
  sendingConfigs,
  sequences,
  sequenceSteps,
  sites,
  tags,
  templates,
} from '../src/db/schema.js';
import { delayMs, type DelayUnit } from '../src/domain/delays.js';
import {
  ENROLLMENT_FAILURES,
  type EnrollmentCondition,
  type EnrollmentStatus,
  type LiveStep,
  type SendCheck,
  type SequenceSnapshot,
  type StepOutcome,
  type StepResult,
} from '../src/domain/enrollment.js';
import { frequencyCapAllowsAt } from '../src/domain/frequency-cap.js';
import type { Mailers } from '../src/mail/from-config.js';
import type { Links } from '../src/mail/links.js';
import { renderEmail, TemplateRenderError, TemplateSyntaxError, type TemplateSource } from '../src/mail/render.js';
import type { Logger } from '../src/logger.js';
import type { SecretBox } from '../src/crypto/secret-box.js';
import { createSendingActivities } from './sending.js';
import type { Clock } from './support.js';

export interface EnrollmentDeps {
  db: Db;
  logger: Logger;
  secretBox?: SecretBox;
  mailers: Mailers;
  /** Unsubscribe link, List-Unsubscribe headers and tracking; without it sequence email carries none. */
  links?: Links;
  clock?: Clock;
}

/** The idempotency key of one step's email: held by the unique send column and passed to the provider. */
export const enrollmentSendKey = (workflowId: string, stepId: number) => `enrollment:${workflowId}:${stepId}`;

/** Contact statuses that end an enrollment before its next email. */
const EXIT_STATUSES = new Set(['unsubscribed', 'bounced', 'complained']);

// `source` is a template variable of sequence emails only.
const contactFields = { id: contacts.id, ...contactRenderColumns, source: contacts.source };

async function loadContact(db: Db, siteId: number, contactId: number) {
  const [row] = await db
    .select(contactFields)
    .from(contacts)
    .where(and(eq(contacts.siteId, siteId), eq(contacts.id, contactId)));
  return row;
}

type ContactRow = NonNullable<Awaited<ReturnType<typeof loadContact>>>;

async function contactTagNames(db: Db, contactId: number): Promise<string[]> {
  const rows = await db
    .select({ name: tags.name })
    .from(contactTags)
    .innerJoin(tags, eq(tags.id, contactTags.tagId))
    .where(eq(contactTags.contactId, contactId));
  return rows.map((r) => r.name);
}

/** A contact field by name (`firstName`, `customFields.plan`), undefined when absent. */
function fieldValue(contact: ContactRow, field: string): unknown {
  if (field.startsWith('customFields.')) return contact.customFields?.[field.slice('customFields.'.length)];
  return (contact as Record<string, unknown>)[field] ?? undefined;
}

function compare(actual: unknown, op: string, expected: unknown): boolean {
  const present = actual !== undefined && actual !== null && actual !== '';
  switch (op) {
    case 'exists':
      return present;
    case 'not_exists':
      return !present;
    case 'eq':
      return present && String(actual).toLowerCase() === String(expected).toLowerCase();
    case 'neq':
      return !present || String(actual).toLowerCase() !== String(expected).toLowerCase();
    case 'contains':
      return present && String(actual).toLowerCase().includes(String(expected).toLowerCase());
    case 'gt':
    case 'lt': {
      if (!present) return false;
      const a = Number(actual);
      const b = Number(expected);
      // Numbers compare as numbers; anything else (ISO dates included) as strings.
      const cmp = Number.isFinite(a) && Number.isFinite(b) ? a - b : String(actual).localeCompare(String(expected));
      return op === 'gt' ? cmp > 0 : cmp < 0;
    }
    default:
      return false;
  }
}

function toLiveStep(row: typeof sequenceSteps.$inferSelect): LiveStep {
  return {
    id: row.id,
    position: row.position,
    type: row.type,
    delayMs: delayMs(Math.max(0, row.delayValue), row.delayUnit as DelayUnit),
    condition: (row.condition as EnrollmentCondition | null) ?? null,
    thenStepId: row.thenStepId,
    elseStepId: row.elseStepId,
    event: row.event,
    timeoutMs: row.timeoutValue !== null && row.timeoutUnit ? delayMs(Math.max(0, row.timeoutValue), row.timeoutUnit as DelayUnit) : null,
  };
}

/**
 * Activities of the enrollment workflow: read the sequence at each step boundary, check the contact
 * before each email, evaluate conditions, send a step through the shared delivery path, and mirror
 * progress onto the enrollments row. Every one is safe to retry.
 */
export function createEnrollmentActivities(deps: EnrollmentDeps) {
  const { db, logger, links } = deps;
  const log = logger.child({ component: 'enrollment' });
  // The same delivery as transactional sends: suppression re-check, per-config rate limit, outcome mapping.
  const sending = createSendingActivities(deps);

  async function deliver(input: { workflowId: string; stepId: number }, sendId: number): Promise<StepResult> {
    const result = await sending.deliverSend({ sendId });
    log.info({ workflowId: input.workflowId, stepId: input.stepId, sendId, status: result.status }, 'sequence step delivered');
    return settled({ id: sendId, status: result.status, error: result.error ?? null });
  }

  return {
    /** The sequence's status, exit rules and live steps in order, read fresh at every step boundary. */
    async loadSequenceSteps(input: { siteId: number; sequenceId: number }): Promise<SequenceSnapshot> {
      const [sequence] = await db
        .select({ status: sequences.status, exitOn: sequences.exitOn })
        .from(sequences)
        .where(and(eq(sequences.siteId, input.siteId), eq(sequences.id, input.sequenceId)));
      if (!sequence) return { status: 'missing', exitOn: { events: [], tags: [] }, steps: [] };
      const rows = await db
        .select()
        .from(sequenceSteps)
        .where(and(eq(sequenceSteps.sequenceId, input.sequenceId), isNull(sequenceSteps.deletedAt)))
        .orderBy(asc(sequenceSteps.position), asc(sequenceSteps.id));
      return {
        status: sequence.status,
        exitOn: { events: sequence.exitOn?.events ?? [], tags: sequence.exitOn?.tags ?? [] },
        steps: rows.map(toLiveStep),
      };
    },

    /**
     * Everything that may hold back or stop the next email, read at once: the contact's status,
     * suppression and exit tags, the sequence's status and send window, and the frequency cap (the
     * earliest instant, in workflow time, the site allows the next sequence email to this contact).
     */
    async checkBeforeSend(input: { siteId: number; sequenceId: number; contactId: number }): Promise<SendCheck> {
      const [contact, [sequence], [site]] = await Promise.all([
        loadContact(db, input.siteId, input.contactId),
        db
          .select({ status: sequences.status, sendWindow: sequences.sendWindow, exitOn: sequences.exitOn })
          .from(sequences)
          .where(and(eq(sequences.siteId, input.siteId), eq(sequences.id, input.sequenceId))),
        db.select({ capDays: sites.sendFrequencyCapDays }).from(sites).where(eq(sites.id, input.siteId)),
      ]);
      const base = { sequenceStatus: sequence?.status ?? ('missing' as const), timeZone: contact?.timezone ?? null, sendWindow: sequence?.sendWindow ?? null };
      if (!contact) return { ...base, exit: 'contact_deleted', capAllowsAtMs: null };
      if (EXIT_STATUSES.has(contact.status)) return { ...base, exit: contact.status, capAllowsAtMs: null };
      if (await isSuppressed(db, input.siteId, contact.email)) return { ...base, exit: 'suppressed', capAllowsAtMs: null };
      const exitTags = sequence?.exitOn?.tags ?? [];
      if (exitTags.length > 0) {
        const has = new Set(await contactTagNames(db, contact.id));
        const hit = exitTags.find((t) => has.has(t));
        if (hit) return { ...base, exit: `tag:${hit}`, capAllowsAtMs: null };
      }
      let capAllowsAtMs: number | null = null;
      if (site && site.capDays > 0) {
        // enrollment_steps.at is workflow time, so the cap holds under the time-skipping test server too.
        const [last] = await db
          .select({ at: max(enrollmentSteps.at) })
          .from(enrollmentSteps)
          .innerJoin(enrollments, eq(enrollments.id, enrollmentSteps.enrollmentId))
          .where(and(eq(enrollments.contactId, contact.id), eq(enrollmentSteps.outcome, 'sent')));
        capAllowsAtMs = frequencyCapAllowsAt(last?.at ? new Date(last.at).getTime() : null, site.capDays);
      }
      return { ...base, exit: null, capAllowsAtMs };
    },

    /**
     * Sends one email step: reads the step's content now (so edits reach future sends), renders it for
     * the contact, records the send under `enrollment:<workflowId>:<stepId>` (a retried activity finds
     * the same row) and delivers it through the shared sending path with that key. The send id is
     * reserved before rendering, so the stored HTML carries its own unsubscribe and tracking links; a
     * retry delivers the row it finds as it was recorded.
     */
    async sendSequenceStep(input: { enrollmentId: number; workflowId: string; stepId: number; contactId: number; siteId: number }): Promise<StepResult> {
      const idempotencyKey = enrollmentSendKey(input.workflowId, input.stepId);
      const [existing] = await db.select({ id: sends.id, status: sends.status, error: sends.error }).from(sends).where(eq(sends.idempotencyKey, idempotencyKey));
      if (existing && existing.status !== 'queued') return settled(existing);
      if (existing) return deliver(input, existing.id);

      const [step] = await db
        .select()
        .from(sequenceSteps)
        .where(and(eq(sequenceSteps.siteId, input.siteId), eq(sequenceSteps.id, input.stepId)));
      if (!step || step.deletedAt) return { outcome: 'skipped', error: 'step deleted' };
      const [[sequence], contact] = await Promise.all([
        db
          .select({ sendingConfigId: sequences.sendingConfigId, trackOpens: sendingConfigs.trackOpens, trackClicks: sendingConfigs.trackClicks })
          .from(sequences)
          .leftJoin(sendingConfigs, eq(sendingConfigs.id, sequences.sendingConfigId))
          .where(eq(sequences.id, step.sequenceId)),
        loadContact(db, input.siteId, input.contactId),
      ]);
      if (!sequence || !contact) return { outcome: 'skipped', error: !contact ? 'contact deleted' : 'sequence deleted' };

      let source: TemplateSource | null = null;
      if (step.templateId !== null) {
        const [template] = await db.select().from(templates).where(and(eq(templates.siteId, input.siteId), eq(templates.id, step.templateId)));
        if (template) source = template;
      }
      if (!source && step.subject && step.html) source = { subject: step.subject, html: step.html, text: step.text };
      if (!source) {
        throw ApplicationFailure.create({
          type: ENROLLMENT_FAILURES.stepNotSendable,
          message: `Step ${step.id} has no subject and html nor an existing template`,
          nonRetryable: true,
        });
      }
      const [sendId] = await reserveSendIds(db, 1);
      const mail = links?.forSend({
        siteId: input.siteId,
        contactId: contact.id,
        sendId: sendId!,
        // A config deleted meanwhile fails at delivery; until then the defaults hold.
        trackOpens: sequence.trackOpens ?? true,
        trackClicks: sequence.trackClicks ?? true,
      });
      let rendered;
      try {
        const { id: _id, status: _status, ...fields } = contact;
        rendered = renderEmail(source, { contact: fields, ...(mail ? { unsubscribeUrl: mail.unsubscribeUrl } : {}) });
      } catch (err) {
        if (!(err instanceof TemplateRenderError || err instanceof TemplateSyntaxError)) throw err;
        throw ApplicationFailure.create({ type: ENROLLMENT_FAILURES.stepNotSendable, message: `Step ${step.id}: ${err.message}`, nonRetryable: true });
      }

      // A concurrent attempt that recorded the key first wins: its row (id and HTML) is the one delivered.
      const { send } = await insertSend(db, {
        id: sendId!,
        siteId: input.siteId,
        kind: 'sequence',
        contactId: contact.id,
        toEmail: contact.email,
        subject: rendered.subject,
        html: mail ? mail.decorate(rendered.html) : rendered.html,
        text: mail ? mail.decorateText(rendered.text) : rendered.text,
        ...(mail ? { headers: mail.headers } : {}),
        sendingConfigId: sequence.sendingConfigId,
        templateId: step.templateId,
        sequenceId: step.sequenceId,
        stepId: step.id,
        enrollmentId: input.workflowId,
        workflowId: input.workflowId,
        status: 'queued',
        idempotencyKey,
      });
      return deliver(input, send.id);
    },

    /** Records that delivery of a step's send was given up (retries exhausted or a permanent failure). */
    async failSequenceStep(input: { workflowId: string; stepId: number; reason: string }): Promise<StepResult> {
      const [row] = await db.select({ id: sends.id }).from(sends).where(eq(sends.idempotencyKey, enrollmentSendKey(input.workflowId, input.stepId)));
      if (!row) return { outcome: 'failed', sendId: null, error: input.reason };
      const result = await sending.failSend({ sendId: row.id, reason: input.reason });
      return settled({ id: row.id, status: result.status, error: result.error ?? null });
    },

    /** Evaluates a condition step for this enrollment's contact (opens and clicks of this enrollment's sends). */
    async evaluateCondition(input: { siteId: number; contactId: number; workflowId: string; condition: EnrollmentCondition }): Promise<boolean> {
      const c = input.condition;
      if (c.kind === 'opened' || c.kind === 'clicked') {
        const [row] = await db
          .select({ id: emailEvents.id })
          .from(emailEvents)
          .innerJoin(sends, eq(sends.id, emailEvents.sendId))
          .where(and(eq(sends.enrollmentId, input.workflowId), eq(sends.stepId, c.stepId), eq(emailEvents.type, c.kind)))
          .limit(1);
        return row !== undefined;
      }
      if (c.kind === 'has_tag') {
        const [row] = await db
          .select({ tagId: contactTags.tagId })
          .from(contactTags)
          .innerJoin(tags, eq(tags.id, contactTags.tagId))
          .where(and(eq(contactTags.contactId, input.contactId), eq(tags.siteId, input.siteId), eq(tags.name, c.tag)))
          .limit(1);
        return row !== undefined;
      }
      if (c.kind === 'field') {
        const contact = await loadContact(db, input.siteId, input.contactId);
        return contact !== undefined && compare(fieldValue(contact, c.field), c.op, c.value);
      }
      return false;
    },

    /**
     * Records one step's outcome in enrollment_steps (keyed by the workflow's step counter, so a retry
     * records once) and mirrors the enrollment's position onto its row.
     */
    async recordEnrollmentStep(input: {
      enrollmentId: number;
      seq: number;
      stepId: number;
      outcome: StepOutcome;
      sendId?: number | null;
      at: string;
    }): Promise<void> {
      // Guarded by EXISTS: the row is gone when its contact or sequence was deleted, and a foreign-key
      // error here would be retried forever; the journey then ends at its next check instead.
      await db.execute(sql`
        insert into enrollment_steps (enrollment_id, seq, step_id, outcome, send_id, at)
        select ${input.enrollmentId}, ${input.seq}, ${input.stepId}, ${input.outcome}, s.id, ${new Date(input.at).toISOString()}::timestamptz
        from enrollments e left join sends s on s.id = ${input.sendId ?? null}::int
        where e.id = ${input.enrollmentId}
        on conflict do nothing
      `);
      await db.update(enrollments).set({ currentStepId: input.stepId, updatedAt: new Date() }).where(eq(enrollments.id, input.enrollmentId));
    },

    /** Mirrors where the enrollment is headed (and, once over, how it ended) onto its row for the API. */
    async syncEnrollment(input: {
      enrollmentId: number;
      currentStepId: number | null;
      nextStepAt: string | null;
      status?: EnrollmentStatus;
      exitReason?: string | null;
      at?: string;
    }): Promise<void> {
      const finished = input.status !== undefined && input.status !== 'active';
      await db
        .update(enrollments)
        .set({
          currentStepId: input.currentStepId,
          nextStepAt: input.nextStepAt ? new Date(input.nextStepAt) : null,
          ...(input.status ? { status: input.status } : {}),
          ...(input.exitReason !== undefined ? { exitReason: input.exitReason } : {}),
          ...(finished ? { completedAt: input.at ? new Date(input.at) : new Date() } : {}),
          updatedAt: new Date(),
        })
        // A finished row never goes back to active (a late retry of an older mirror write).
        .where(and(eq(enrollments.id, input.enrollmentId), finished ? sql`true` : eq(enrollments.status, 'active')));
    },
  };
}

function settled(send: { id: number; status: string; error: string | null }): StepResult {
  const outcome: StepOutcome = send.status === 'failed' ? 'failed' : send.status === 'suppressed' ? 'suppressed' : 'sent';
  return { outcome, sendId: send.id, error: send.error };
}

export type EnrollmentActivities = ReturnType<typeof createEnrollmentActivities>;
