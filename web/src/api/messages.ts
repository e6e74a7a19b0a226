/** The shapes of the /api/v1 resources the Messages pages use (templates, campaigns, sequences). */

export interface Paged<T> {
  data: T[];
  pagination: { page: number; limit: number; total: number; totalPages: number };
}
export interface One<T> {
  data: T;
}

export interface Template {
  id: number;
  name: string;
  subject: string;
  html: string;
  text: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface ContactSummary {
  id: number;
  email: string;
  firstName: string | null;
  lastName: string | null;
}

export interface SendingConfig {
  id: number;
  name: string;
  provider: string;
  fromEmail: string;
  fromName: string | null;
}

export interface Named {
  id: number;
  name: string;
}
export interface MailingList extends Named {
  memberCount: number;
}

export type CampaignStatus = 'draft' | 'scheduled' | 'sending' | 'sent' | 'paused' | 'cancelled' | 'failed';
export type RecipientStatus = 'pending' | 'sent' | 'failed' | 'suppressed' | 'skipped';

export interface Audience {
  listIds: number[];
  tagIds: number[];
  segmentIds: number[];
  excludeListIds: number[];
  excludeSegmentIds: number[];
}

export interface Campaign {
  id: number;
  name: string;
  status: CampaignStatus;
  subject: string | null;
  html: string | null;
  text: string | null;
  templateId: number | null;
  sendingConfigId: number;
  audience: Audience;
  batchSize: number;
  maxPerSecond: number | null;
  scheduledAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  pausedReason: string | null;
  workflowId: string | null;
  temporalUiUrl: string | null;
  totalRecipients: number;
  sentCount: number;
  failedCount: number;
  suppressedCount: number;
  skippedCount: number;
  deliveredCount: number;
  openedCount: number;
  clickedCount: number;
  bouncedCount: number;
  complainedCount: number;
  unsubscribedCount: number;
  progress: number;
  rates: Record<'delivered' | 'opened' | 'clicked' | 'bounced' | 'complained' | 'unsubscribed' | 'failed', number>;
  createdAt: string;
  updatedAt: string;
}

export interface CampaignStats extends Pick<
  Campaign,
  | 'id'
  | 'status'
  | 'pausedReason'
  | 'totalRecipients'
  | 'sentCount'
  | 'failedCount'
  | 'suppressedCount'
  | 'skippedCount'
  | 'deliveredCount'
  | 'openedCount'
  | 'clickedCount'
  | 'bouncedCount'
  | 'complainedCount'
  | 'unsubscribedCount'
  | 'progress'
  | 'rates'
  | 'startedAt'
  | 'completedAt'
> {
  recipients: Record<RecipientStatus, number>;
  elapsedSeconds: number;
  sendRatePerSecond: number;
}

export interface Recipient {
  id: number;
  contactId: number;
  email: string;
  status: RecipientStatus;
  sendId: number | null;
  error: string | null;
  attempt: number;
  updatedAt: string;
}

export interface AudienceCount {
  total: number;
  suppressed: number;
  recipients: number;
}

export type SequenceStatus = 'active' | 'paused' | 'archived';
export type StepType = 'email' | 'condition' | 'wait_for_event';
export type DelayUnit = 'minutes' | 'hours' | 'days' | 'weeks';
export const DELAY_UNITS: DelayUnit[] = ['minutes', 'hours', 'days', 'weeks'];
export const FIELD_OPS = ['eq', 'neq', 'contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists', 'in'] as const;

export type Trigger = { type: 'manual' } | { type: 'list_add'; listId: number } | { type: 'tag_add'; tagId: number } | { type: 'event'; name: string };

export interface SendWindow {
  days: number[];
  startHour: number;
  endHour: number;
  timezone?: string;
}

export type StepCondition =
  | { kind: 'opened' | 'clicked'; stepId: number }
  | { kind: 'has_tag'; tag: string }
  | { kind: 'field'; field: string; op: (typeof FIELD_OPS)[number]; value?: unknown };

export interface Step {
  id: number;
  sequenceId: number;
  position: number;
  type: StepType;
  delayValue: number;
  delayUnit: DelayUnit;
  subject: string | null;
  html: string | null;
  text: string | null;
  templateId: number | null;
  condition: StepCondition | null;
  then: number | null;
  else: number | null;
  event: string | null;
  timeoutValue: number | null;
  timeoutUnit: DelayUnit | null;
}

export interface Sequence {
  id: number;
  name: string;
  sendingConfigId: number;
  status: SequenceStatus;
  trigger: Trigger;
  allowReenrollment: boolean;
  sendWindow: SendWindow | null;
  exitOn: { events?: string[]; tags?: string[] };
  createdAt: string;
  updatedAt: string;
  steps: Step[];
}

export interface StepStats {
  stepId: number;
  position: number;
  type: StepType;
  subject: string | null;
  entered: number;
  sent: number;
  opened: number;
  clicked: number;
  active: number;
  exited: number;
}

export type EnrollmentStatus = 'active' | 'completed' | 'exited' | 'unenrolled' | 'failed';
export const ENROLLMENT_STATUSES: EnrollmentStatus[] = ['active', 'completed', 'exited', 'unenrolled', 'failed'];

export interface Enrollment {
  id: number;
  sequenceId: number;
  contactId: number;
  contactEmail: string;
  run: number;
  workflowId: string;
  temporalUiUrl: string | null;
  status: EnrollmentStatus;
  exitReason: string | null;
  currentStepId: number | null;
  nextStepAt: string | null;
  enrolledAt: string;
  completedAt: string | null;
}

export interface EnrollmentDetail extends Enrollment {
  nextStepId: number | null;
  waitingFor: string | null;
  history: Array<{ stepId: number; outcome: string; sendId: number | null; at: string }>;
  source: 'workflow' | 'database';
}

export interface EnrollmentJob {
  id: number;
  sequenceId: number;
  source: { kind: 'list' | 'tag' | 'segment'; id: number };
  status: 'running' | 'completed';
  total: number;
  enrolled: number;
  started: number;
  alreadyActive: number;
  alreadyEnrolled: number;
  skipped: number;
  notFound: number;
  progress: number;
  createdAt: string;
  completedAt: string | null;
}

export interface EnrollResult {
  enrolled: number;
  alreadyActive: number;
  alreadyEnrolled: number;
  notFound: number;
  skipped: number;
}

/** A template error detail as the API reports it (400 template_syntax, 422 template_render_failed). */
export interface TemplateErrorDetail {
  path: string;
  field?: 'subject' | 'html' | 'text';
  line?: number;
  column?: number;
  message: string;
}
