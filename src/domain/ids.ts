/**
 * Workflow IDs are pure functions of business identity, so starting the same thing twice collides
 * on the ID (and Temporal's conflict policy) instead of running twice.
 */
export const workflowIds = {
  contactImport: (importId: number) => `import:${importId}`,
  campaign: (campaignId: number) => `campaign:${campaignId}`,
  enrollment: (sequenceId: number, contactId: number, run?: number) =>
    run && run > 1 ? `enrollment:${sequenceId}:${contactId}:${run}` : `enrollment:${sequenceId}:${contactId}`,
  transactional: (sendId: number) => `send:${sendId}`,
  webhookDelivery: (deliveryId: number) => `webhook-delivery:${deliveryId}`,
  /** One per namespace: the relay that starts webhook deliveries stranded by a Temporal outage. */
  webhookOutbox: () => 'webhook-outbox',
  /** One per namespace: the relay that starts the journeys list_add and tag_add triggers staged. */
  enrollmentOutbox: () => 'enrollment-outbox',
} as const;
