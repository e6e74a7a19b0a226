import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The process-wide Prometheus registry served at `/metrics`. Workers and other components register
 * their own metrics here (`registers: [metricsRegistry]`) so one scrape sees the whole process.
 */
export const metricsRegistry = new Registry();
metricsRegistry.setDefaultLabels({ service: 'tidings' });
collectDefaultMetrics({ register: metricsRegistry });

/**
 * HTTP request duration by method, matched route pattern and status. The route label is the
 * Express pattern (`/api/v1/contacts/:id`), never the raw URL, so label cardinality stays bounded.
 */
export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests in seconds',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});
