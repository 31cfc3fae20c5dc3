/**
 * `GET /metrics`, Prometheus text format: this process's metrics (HTTP latency, workflow starts, Node),
 * the business figures read from the database, and — when this process also runs the worker — the
 * Temporal worker's own metrics appended. Prometheus scrapers carry a static bearer (METRICS_TOKEN);
 * people may use their ops token.
 */
import crypto from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { Registry } from 'prom-client';
import { AppError } from '../../domain/errors';
import { fetchMetricsText, type Metrics } from '../../infra/metrics';
import type { PrismaClient } from '../../infra/prisma';
import { resolveToken } from '../../services/auth/principal';

export const METRICS_PATH = '/metrics';

export interface MetricsRouteDeps {
  prisma: PrismaClient;
  metrics: Metrics;
  /** business figures, per app */
  business: Registry;
  /** a static bearer accepted besides ops tokens (Prometheus scrape config) */
  token?: string;
  /** the Temporal worker's Core metrics endpoint in this process, appended to the page */
  temporalMetricsUrl?: string;
}

const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest();

async function authorise(req: Request, deps: MetricsRouteDeps): Promise<void> {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const token = match?.[1];
  if (!token)
    throw new AppError(
      'UNAUTHENTICATED',
      'A metrics token or ops token is required (Authorization: Bearer ...)',
    );
  // compared as hashes: same length, constant time
  if (deps.token && crypto.timingSafeEqual(sha256(token), sha256(deps.token))) return;
  const principal = await resolveToken(deps.prisma, token);
  if (!principal) throw new AppError('UNAUTHENTICATED', 'Unknown or revoked token');
  if (principal.kind !== 'ops')
    throw new AppError('ROLE_REQUIRED', 'A metrics token or ops token is required');
}

export function metricsRoutes(registry: OpenAPIRegistry, deps: MetricsRouteDeps): Router {
  registry.registerComponent('securitySchemes', 'metricsToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'The static scrape token METRICS_TOKEN (Prometheus `authorization` in the scrape config)',
  });
  registry.registerPath({
    method: 'get',
    path: METRICS_PATH,
    summary:
      'Metrics in Prometheus text format (HTTP latency, workflow starts, payments, ops queues, sessions, Temporal worker)',
    tags: ['ops'],
    security: [{ metricsToken: [] }, { opsToken: [] }],
    responses: {
      200: {
        description: 'Prometheus exposition format 0.0.4',
        content: { 'text/plain': { schema: z.string() } },
      },
      401: {
        description: 'Error: UNAUTHENTICATED',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      403: {
        description: 'Error: ROLE_REQUIRED',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  });

  const merged = Registry.merge([deps.metrics.registry, deps.business]);
  const router = Router();
  router.get(METRICS_PATH, async (req, res) => {
    await authorise(req, deps);
    const [own, worker] = await Promise.all([
      merged.metrics(),
      deps.temporalMetricsUrl ? fetchMetricsText(deps.temporalMetricsUrl) : undefined,
    ]);
    let text = own;
    if (worker) {
      text +=
        '# HELP temporal_worker_metrics_up 1 when the Temporal worker metrics below could be read\n' +
        '# TYPE temporal_worker_metrics_up gauge\n' +
        `temporal_worker_metrics_up ${worker.ok ? 1 : 0}\n` +
        worker.text;
    }
    res.status(200).type(merged.contentType).send(text);
  });
  return router;
}
