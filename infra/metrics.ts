/**
 * The process's Prometheus registry and the metrics recorded as things happen (HTTP requests, workflow
 * starts). Built by a factory and handed to `createApp` / the Temporal client: no global registry, so
 * two apps in one process (tests) never share counters by accident. Business figures (payments, queues,
 * sessions) are read from the database at scrape time instead (api/metrics.ts).
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** `http_request_duration_seconds{method,route,status}`: route is the declared pattern, never the raw path */
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  /** `workflow_starts_total{workflow_type,outcome}`: starts asked by this process (outcome started|already_started|failed) */
  workflowStarts: Counter<'workflow_type' | 'outcome'>;
}

/** Latency buckets for an API whose hot routes answer in milliseconds and whose slowest wait on Stripe. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  // Node process metrics (CPU, memory, event-loop lag, GC): on by default, off where a test wants a small page
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: HTTP_DURATION_BUCKETS,
      registers: [registry],
    }),
    workflowStarts: new Counter({
      name: 'workflow_starts_total',
      help: 'Workflow starts asked of Temporal by this process, by workflow type and outcome',
      labelNames: ['workflow_type', 'outcome'] as const,
      registers: [registry],
    }),
  };
}

function startOutcome(error: unknown): string {
  return error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError'
    ? 'already_started'
    : 'failed';
}

/**
 * Counts workflow starts by type on the Temporal client (plain start, signal-with-start, update-with-start).
 * Failures inside a workflow are the worker's business: Temporal's own worker metrics count them
 * (`temporal_workflow_failed{workflow_type}`, see METRICS_TEMPORAL_PORT).
 */
export function workflowStartInterceptor(metrics: Metrics): WorkflowClientInterceptor {
  async function counted<T>(workflowType: string, start: () => Promise<T>): Promise<T> {
    try {
      const result = await start();
      metrics.workflowStarts.inc({ workflow_type: workflowType, outcome: 'started' });
      return result;
    } catch (error) {
      metrics.workflowStarts.inc({ workflow_type: workflowType, outcome: startOutcome(error) });
      throw error;
    }
  }
  return {
    startWithDetails: (input, next) => counted(input.workflowType, () => next(input)),
    signalWithStart: (input, next) => counted(input.workflowType, () => next(input)),
    startUpdateWithStart: (input, next) => counted(input.workflowType, () => next(input)),
  };
}

/**
 * The text of another Prometheus endpoint (the Temporal worker's Core metrics), to append to ours.
 * A missing or slow endpoint costs one comment line and `ok: false`, never the whole scrape.
 */
export async function fetchMetricsText(
  url: string,
  timeoutMs = 2000,
): Promise<{ ok: boolean; text: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { ok: false, text: `# ${url} answered ${response.status}\n` };
    const text = await response.text();
    return { ok: true, text: text.endsWith('\n') ? text : `${text}\n` };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { ok: false, text: `# ${url} unreachable: ${why}\n` };
  }
}
