import { ApplicationFailure } from '@temporalio/common';
import type { SecretBox } from '../src/crypto/secret-box.js';
import type { Db } from '../src/db/client.js';
import { getJourneyContact, type JourneyContact } from '../src/db/repositories/contacts.js';
import { stepEmailHadEvent } from '../src/db/repositories/email-events.js';
import { lastSequenceEmailAt, mirrorEnrollment, recordEnrollmentStep } from '../src/db/repositories/enrollments.js';
import { getAnyStepRow, getSequenceRow, listLiveSteps, sequenceSendingOptions } from '../src/db/repositories/sequences.js';
import { findSendByKey, insertSend, reserveSendIds, type SendRow } from '../src/db/repositories/sends.js';
import { getSite } from '../src/db/repositories/sites.js';
import { isSuppressed } from '../src/db/repositories/suppressions.js';
import { contactHasTag, contactTagNames } from '../src/db/repositories/tags.js';
import { getTemplate } from '../src/db/repositories/templates.js';
import {
  ENROLLMENT_FAILURES,
  fieldConditionHolds,
  sendHold,
  type EmailStepOutcome,
  type EnrollmentCondition,
  type EnrollmentStatus,
  type SendCheck,
  type SequenceSnapshot,
  type StepOutcome,
  type StepResult,
} from '../src/domain/enrollment.js';
import { frequencyCapAllowsAt } from '../src/domain/frequency-cap.js';
import { composeSendContent } from '../src/mail/compose.js';
import type { Mailers } from '../src/mail/from-config.js';
import type { Links } from '../src/mail/links.js';
import { TemplateRenderError, TemplateSyntaxError, type TemplateSource } from '../src/mail/render.js';
import type { Logger } from '../src/logger.js';
import { createDeliveryActivities } from './delivery.js';
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

/** Whose email one step sends: the journey (its workflow and row), the step and the contact. */
export interface StepTarget {
  enrollmentId: number;
  workflowId: string;
  stepId: number;
  contactId: number;
  siteId: number;
}

/** Contact statuses that end an enrollment before its next email. */
const EXIT_STATUSES = new Set(['unsubscribed', 'bounced', 'complained']);

/**
 * Activities of the enrollment workflow: read the sequence at each step boundary, check the contact
 * before each email, evaluate conditions, send a step through the shared delivery path, and mirror
 * progress onto the enrollments row. Every one is safe to retry.
 */
export function createEnrollmentActivities(deps: EnrollmentDeps) {
  const { db, logger, links } = deps;
  const log = logger.child({ component: 'enrollment' });
  // The same delivery as transactional sends: suppression re-check, per-config rate limit, outcome mapping.
  const sending = createDeliveryActivities(deps);

  async function deliver(input: { workflowId: string; stepId: number }, sendId: number): Promise<StepResult> {
    const result = await sending.deliverSend({ sendId });
    log.info({ workflowId: input.workflowId, stepId: input.stepId, sendId, status: result.status }, 'sequence step delivered');
    return settled({ id: sendId, status: result.status, error: result.error ?? null });
  }

  /**
   * Everything that may hold back or stop the next email, read at once: the contact's status,
   * suppression and exit tags, the sequence's status and send window, and the frequency cap (the
   * earliest instant, in workflow time, the site allows the next sequence email to this contact).
   */
  async function inspect(input: { siteId: number; sequenceId: number; contactId: number }): Promise<{ check: SendCheck; contact?: JourneyContact }> {
    const [contact, sequence, site] = await Promise.all([
      getJourneyContact(db, input.siteId, input.contactId),
      getSequenceRow(db, input.siteId, input.sequenceId),
      getSite(db, input.siteId),
    ]);
    const base = { sequenceStatus: sequence?.status ?? ('missing' as const), timeZone: contact?.timezone ?? null, sendWindow: sequence?.sendWindow ?? null };
    if (!contact) return { check: { ...base, exit: 'contact_deleted', capAllowsAtMs: null } };
    const exit = (reason: string) => ({ check: { ...base, exit: reason, capAllowsAtMs: null }, contact });
    if (EXIT_STATUSES.has(contact.status)) return exit(contact.status);
    if (await isSuppressed(db, input.siteId, contact.email)) return exit('suppressed');
    const exitTags = sequence?.exitOn?.tags ?? [];
    if (exitTags.length > 0) {
      const has = new Set(await contactTagNames(db, contact.id));
      const hit = exitTags.find((t) => has.has(t));
      if (hit) return exit(`tag:${hit}`);
    }
    let capAllowsAtMs: number | null = null;
    if (site && site.sendFrequencyCapDays > 0) {
      const last = await lastSequenceEmailAt(db, contact.id);
      capAllowsAtMs = frequencyCapAllowsAt(last ? last.getTime() : null, site.sendFrequencyCapDays);
    }
    return { check: { ...base, exit: null, capAllowsAtMs }, contact };
  }

  /**
   * Sends one email step: reads the step's content now (so edits reach future sends), renders it for
   * the contact, records the send under `enrollment:<workflowId>:<stepId>` (a retried activity finds
   * the same row) and delivers it through the shared sending path with that key. The send id is
   * reserved before rendering, so the stored HTML carries its own unsubscribe and tracking links; a
   * retry delivers the row it finds as it was recorded.
   */
  async function sendStep(input: StepTarget, existing: SendRow | null | undefined, known?: JourneyContact): Promise<StepResult> {
    const idempotencyKey = enrollmentSendKey(input.workflowId, input.stepId);
    if (existing && existing.status !== 'queued') return settled(existing);
    if (existing) return deliver(input, existing.id);

    const step = await getAnyStepRow(db, input.siteId, input.stepId);
    if (!step || step.deletedAt) return { outcome: 'skipped', error: 'step deleted' };
    const [sequence, contact] = await Promise.all([sequenceSendingOptions(db, step.sequenceId), known ?? getJourneyContact(db, input.siteId, input.contactId)]);
    if (!sequence || !contact) return { outcome: 'skipped', error: !contact ? 'contact deleted' : 'sequence deleted' };

    let source: TemplateSource | null = null;
    if (step.templateId !== null) {
      const template = await getTemplate(db, input.siteId, step.templateId);
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
    const sendLinks = links?.forSend({
      siteId: input.siteId,
      contactId: contact.id,
      sendId: sendId!,
      // A config deleted meanwhile fails at delivery; until then the defaults hold.
      trackOpens: sequence.trackOpens ?? true,
      trackClicks: sequence.trackClicks ?? true,
    });
    let content;
    try {
      const { id: _id, status: _status, ...fields } = contact;
      content = composeSendContent(source, { contact: fields }, sendLinks);
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
      ...content,
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
  }

  return {
    /** The sequence's status, exit rules and live steps in order, read fresh at every step boundary. */
    async loadSequenceSteps(input: { siteId: number; sequenceId: number }): Promise<SequenceSnapshot> {
      const sequence = await getSequenceRow(db, input.siteId, input.sequenceId);
      if (!sequence) return { status: 'missing', exitOn: { events: [], tags: [] }, steps: [] };
      return {
        status: sequence.status,
        exitOn: { events: sequence.exitOn?.events ?? [], tags: sequence.exitOn?.tags ?? [] },
        steps: await listLiveSteps(db, input.sequenceId),
      };
    },

    /**
     * Everything that may hold back or stop the next email, read at once (the workflow before
     * PATCHES.emailStepActivity decides on it; later runs call {@link runEmailStep}).
     */
    async checkBeforeSend(input: { siteId: number; sequenceId: number; contactId: number }): Promise<SendCheck> {
      return (await inspect(input)).check;
    },

    /** Sends one email step (the workflow before PATCHES.emailStepActivity; later runs call {@link runEmailStep}). */
    async sendSequenceStep(input: StepTarget): Promise<StepResult> {
      return sendStep(input, await findSendByKey(db, enrollmentSendKey(input.workflowId, input.stepId)));
    },

    /**
     * One email step in one call: checks everything that may hold it back ({@link checkBeforeSend},
     * decided by `sendHold` at the workflow's `nowMs`), then renders, records and delivers the send
     * and records the step in enrollment_steps under the workflow's step counter. A retry that finds
     * the send already recorded skips the checks and finishes that send, so an email the provider
     * accepted is never held back or sent twice.
     */
    async runEmailStep(input: StepTarget & { sequenceId: number; seq: number; nowMs: number }): Promise<EmailStepOutcome> {
      const existing = await findSendByKey(db, enrollmentSendKey(input.workflowId, input.stepId));
      let contact: JourneyContact | undefined;
      if (!existing) {
        const inspected = await inspect(input);
        const hold = sendHold(inspected.check, input.nowMs);
        if (hold) return hold;
        contact = inspected.contact;
      }
      const result = await sendStep(input, existing, contact);
      await recordEnrollmentStep(db, {
        enrollmentId: input.enrollmentId,
        seq: input.seq,
        stepId: input.stepId,
        outcome: result.outcome,
        sendId: result.sendId ?? null,
        at: new Date(input.nowMs),
      });
      return { kind: 'done', stepId: input.stepId, result };
    },

    /** Records that delivery of a step's send was given up (retries exhausted or a permanent failure). */
    async failSequenceStep(input: { workflowId: string; stepId: number; reason: string }): Promise<StepResult> {
      const row = await findSendByKey(db, enrollmentSendKey(input.workflowId, input.stepId));
      if (!row) return { outcome: 'failed', sendId: null, error: input.reason };
      const result = await sending.failSend({ sendId: row.id, reason: input.reason });
      return settled({ id: row.id, status: result.status, error: result.error ?? null });
    },

    /** Evaluates a condition step for this enrollment's contact (opens and clicks of this enrollment's sends). */
    async evaluateCondition(input: { siteId: number; contactId: number; workflowId: string; condition: EnrollmentCondition }): Promise<boolean> {
      const c = input.condition;
      if (c.kind === 'opened' || c.kind === 'clicked') return stepEmailHadEvent(db, input.workflowId, c.stepId, c.kind);
      if (c.kind === 'has_tag') return contactHasTag(db, input.siteId, input.contactId, c.tag);
      if (c.kind === 'field') {
        const contact = await getJourneyContact(db, input.siteId, input.contactId);
        return contact !== undefined && fieldConditionHolds(contact, c);
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
      await recordEnrollmentStep(db, { ...input, sendId: input.sendId ?? null, at: new Date(input.at) });
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
      await mirrorEnrollment(db, {
        enrollmentId: input.enrollmentId,
        currentStepId: input.currentStepId,
        nextStepAt: input.nextStepAt ? new Date(input.nextStepAt) : null,
        ...(input.status ? { status: input.status } : {}),
        ...(input.exitReason !== undefined ? { exitReason: input.exitReason } : {}),
        ...(input.at ? { completedAt: new Date(input.at) } : {}),
      });
    },
  };
}

function settled(send: { id: number; status: string; error: string | null }): StepResult {
  const outcome: StepOutcome = send.status === 'failed' ? 'failed' : send.status === 'suppressed' ? 'suppressed' : 'sent';
  return { outcome, sendId: send.id, error: send.error };
}

export type EnrollmentActivities = ReturnType<typeof createEnrollmentActivities>;
