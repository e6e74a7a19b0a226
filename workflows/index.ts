// The worker bundles this file: every workflow type is exported here and nowhere else.
export { contactImportWorkflow, progressQuery } from './contact-import.js';
export type { ContactImportInput } from './contact-import.js';
export { transactionalSendWorkflow } from './transactional-send.js';
export type { TransactionalSendInput } from './transactional-send.js';
export {
  enrollmentWorkflow,
  unenrollSignal,
  contactStatusChangedSignal,
  contactEventSignal,
  sequenceStatusChangedSignal,
  stateQuery,
  ENROLLMENT_SIGNALS,
  ENROLLMENT_STATE_QUERY,
} from './enrollment.js';
export type { EnrollmentInput, EnrollmentCarry, EnrollmentCursor } from './enrollment.js';
export { campaignWorkflow } from './campaign.js';
export type { CampaignInput, CampaignState } from './campaign.js';
export { webhookDeliveryWorkflow } from './webhook-delivery.js';
export type { WebhookDeliveryInput } from './webhook-delivery.js';
export { webhookOutboxWorkflow } from './webhook-outbox.js';
export type { WebhookOutboxInput } from './webhook-outbox.js';
export { enrollmentOutboxWorkflow } from './enrollment-outbox.js';
export type { EnrollmentOutboxInput } from './enrollment-outbox.js';
