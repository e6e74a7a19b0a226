import type { Config } from '../config.js';

/**
 * The page of one workflow in the Temporal Web UI, or null when no UI is known (TEMPORAL_UI_URL unset
 * and no embedded dev server). The API hands these out so clients (the dashboard) never guess the
 * UI's address.
 */
export function temporalWorkflowUrl(config: Pick<Config, 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'>, workflowId: string | null): string | null {
  if (!config.TEMPORAL_UI_URL || !workflowId) return null;
  const base = config.TEMPORAL_UI_URL.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
}
