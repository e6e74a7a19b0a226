/**
 * Task queues. Transactional mail has its own queue (and its own worker slots) so that a campaign
 * fanning out 100,000 batch activities can never delay a password reset.
 */
export const TASK_QUEUES = {
  /** Imports, sequences, campaigns: bulk and long-running work. */
  main: 'tidings-main',
  /** Transactional sends only. */
  transactional: 'tidings-transactional',
} as const;
