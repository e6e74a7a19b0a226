/** Shapes of the /api/v1 answers the dashboard reads (mirrors of the server's zod schemas). */

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  totalPages: number;
}
export interface Paged<T> {
  data: T[];
  pagination: Pagination;
}
export interface Data<T> {
  data: T;
}

export const CONTACT_STATUSES = ['subscribed', 'unsubscribed', 'bounced', 'complained'] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

export interface Contact {
  id: number;
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  company: string | null;
  city: string | null;
  country: string | null;
  timezone: string | null;
  customFields: Record<string, unknown>;
  source: string | null;
  status: ContactStatus;
  subscribedAt: string | null;
  unsubscribedAt: string | null;
  createdAt: string;
  updatedAt: string;
  tags: string[];
  lists: number[];
}

export interface List {
  id: number;
  name: string;
  description: string | null;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface Tag {
  id: number;
  name: string;
  contactCount: number;
  createdAt: string;
}

export const SUPPRESSION_REASONS = ['hard_bounce', 'complaint', 'unsubscribe', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface Suppression {
  id: number;
  email: string;
  reason: SuppressionReason;
  note: string | null;
  createdAt: string;
}

export interface SuppressionImportResult {
  imported: number;
  updated: number;
  failed: number;
  total: number;
  errors: Array<{ row: number; message: string }>;
}

export interface ImportStarted {
  importId: number;
  workflowId: string;
  status: ImportStatus;
}
export type ImportStatus = 'queued' | 'running' | 'completed' | 'failed';
export interface ImportJob {
  id: number;
  status: ImportStatus;
  filename: string | null;
  totalRows: number | null;
  processedRows: number;
  created: number;
  updated: number;
  errors: number;
  options: { listIds: number[]; tags: string[] };
  workflowId: string;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}
export interface ImportRowError {
  row: number;
  message: string;
  raw: Record<string, string> | null;
}

export type ActivityItem =
  | {
      type: 'send';
      at: string;
      sendId: number;
      kind: string;
      status: string;
      subject: string;
      campaignId: number | null;
      sequenceId: number | null;
      stepId: number | null;
      enrollmentId: number | null;
    }
  | {
      type: 'email_event';
      at: string;
      eventId: number;
      event: string;
      sendId: number | null;
      campaignId: number | null;
      sequenceId: number | null;
      stepId: number | null;
      enrollmentId: number | null;
      data: Record<string, unknown>;
    }
  | { type: 'contact_event'; at: string; eventId: number; name: string; data: Record<string, unknown> }
  | { type: 'enrollment_started'; at: string; enrollmentId: number; sequenceId: number }
  | { type: 'enrollment_ended'; at: string; enrollmentId: number; sequenceId: number; status: string; exitReason: string | null };

// ---- segments (src/domain/segment-rules.ts)

export const TEXT_FIELDS = ['email', 'firstName', 'lastName', 'phone', 'company', 'city', 'country', 'timezone', 'source'] as const;
export const DATE_FIELDS = ['createdAt', 'subscribedAt'] as const;
export const ATTRIBUTE_OPS = ['eq', 'neq', 'contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists', 'in'] as const;
export type AttributeOp = (typeof ATTRIBUTE_OPS)[number];

export interface AttributeCondition {
  type: 'attribute';
  field: string;
  op: AttributeOp;
  value?: string | number | boolean | Array<string | number>;
}
export interface TagCondition {
  type: 'tag';
  op: 'has' | 'not_has';
  tag: string;
}
export interface ListCondition {
  type: 'list';
  op: 'in' | 'not_in';
  listId: number;
}
export interface EngagementCondition {
  type: 'engagement';
  metric: 'opened' | 'clicked';
  op: 'within_days' | 'not_within_days';
  days: number;
}
export interface SendHistoryCondition {
  type: 'send_history';
  op: 'received' | 'not_received' | 'opened' | 'not_opened';
  campaignId?: number;
  sequenceId?: number;
}
export interface GroupCondition {
  type: 'group';
  operator: 'AND' | 'OR';
  conditions: SegmentCondition[];
}
export type SegmentCondition = AttributeCondition | TagCondition | ListCondition | EngagementCondition | SendHistoryCondition | GroupCondition;
export interface SegmentRules {
  operator: 'AND' | 'OR';
  conditions: SegmentCondition[];
}
export interface Segment {
  id: number;
  name: string;
  rules: SegmentRules;
  createdAt: string;
  updatedAt: string;
}
export interface SegmentPreview {
  count: number;
  sample: Contact[];
}

// ---- overview

export interface StatsBucket {
  date: string;
  sends: number;
  sendsByStatus: Record<string, number>;
  events: Record<string, number>;
}
export interface TimeSeries {
  from: string;
  to: string;
  interval: 'day' | 'week';
  series: StatsBucket[];
}

export interface CampaignSummary {
  id: number;
  name: string;
  status: string;
  totalRecipients: number;
  sentCount: number;
  failedCount: number;
  suppressedCount: number;
  skippedCount: number;
  progress: number;
  startedAt: string | null;
}

export interface SequenceSummary {
  id: number;
  name: string;
  status: string;
}

export interface SendSummary {
  id: number;
  kind: string;
  status: string;
  contactId: number | null;
  toEmail: string;
  subject: string;
  campaignId: number | null;
  sequenceId: number | null;
  error: string | null;
  createdAt: string;
}
