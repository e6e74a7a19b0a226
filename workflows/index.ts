// The worker bundles this file: every workflow type is exported here and nowhere else. Signals,
// queries, inputs and search attributes live in each workflow's `<name>.contract.ts`.
export { contactImportWorkflow } from './contact-import.js';
export { transactionalSendWorkflow } from './transactional.js';
export { enrollmentWorkflow } from './enrollment.js';
export { campaignWorkflow } from './campaign.js';
export { webhookDeliveryWorkflow } from './webhook-delivery.js';
export { webhookOutboxWorkflow } from './webhook-outbox.js';
export { enrollmentOutboxWorkflow } from './enrollment-outbox.js';
