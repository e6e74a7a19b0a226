/**
 * Names shared by the sending activities and the workflows that call them (pure: workflows import it).
 * Failure types are `ApplicationFailure.type`s: the permanent ones are listed as non-retryable in the
 * workflows' activity profiles, so Temporal stops retrying at once instead of after every attempt.
 */
export const DELIVERY_FAILURES = {
  /** The send row does not exist (deleted with its site). */
  sendNotFound: 'SendNotFound',
  /** The sending config of the send does not exist any more. */
  configNotFound: 'SendingConfigNotFound',
  /** The stored credentials cannot be decrypted or are invalid (TIDINGS_SECRET changed, bad row). */
  credentialsUnusable: 'SendingCredentialsUnusable',
  /** The provider throttled us; retried after the provider's retry-after (`nextRetryDelay`). */
  rateLimited: 'RateLimited',
  /** The provider or the network failed in a way that may pass; retried with backoff. */
  providerUnavailable: 'ProviderUnavailable',
  /** The workflow's own failure once the send is recorded as failed. */
  sendFailed: 'SendFailed',
} as const;

/** Failure types that retrying cannot fix. */
export const PERMANENT_DELIVERY_FAILURES: string[] = [
  DELIVERY_FAILURES.sendNotFound,
  DELIVERY_FAILURES.configNotFound,
  DELIVERY_FAILURES.credentialsUnusable,
];

/** What one delivery came to; the workflow returns it and the send row mirrors it. */
export interface DeliveryResult {
  sendId: number;
  /** The send's status afterwards: `sent` (or a later webhook status), `failed` or `suppressed`. */
  status: 'sent' | 'delivered' | 'delivery_delayed' | 'bounced' | 'complained' | 'failed' | 'suppressed';
  providerMessageId?: string | null;
  error?: string | null;
  /** True when an earlier attempt or run had already settled the send and nothing was done now. */
  alreadySettled?: boolean;
}
