/**
 * The HTTP application, built from its dependencies (no listening here: main.ts listens, tests use
 * supertest). Routes are thin: validate, call one use-case or workflow, answer.
 */
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import type { Logger } from '../infra/logger';
import { createPrincipalCache } from '../services/auth/principal-cache';
import type { ServiceDeps } from '../services/deps';
import { registrationLimit } from './attempt-limiter';
import { jsonBody, rawBody } from './body-parsing';
import { errorMiddleware, notFound } from './error-middleware';
import { createRegistry, generateDocument } from './openapi';
import { createRouteKit } from './route-kit';
import { accountRoutes } from './routes/accounts';
import { baseRoutes } from './routes/bases';
import { catalogRoutes } from './routes/catalog';
import { healthRoutes, type ReadinessCheck } from './routes/health';
import { installationRoutes } from './routes/installations';
import { invoiceRoutes } from './routes/invoices';
import { licenceFileRoutes } from './routes/licence-files';
import { licenceChangeRoutes } from './routes/licence-changes';
import { opsRoutes } from './routes/ops';
import { promoCodeRoutes } from './routes/promo-codes';
import { STRIPE_WEBHOOK_PATH, stripeWebhookRoutes } from './routes/stripe-webhook';
import { subscriptionRoutes } from './routes/subscriptions';
import { migrationRoutes } from './routes/migrations';
import { refundRoutes } from './routes/refunds';
import { creditRoutes } from './routes/credits';
import { supportRoutes } from './routes/support';
import { walletRoutes } from './routes/wallet';
import { opsConsoleRoutes } from './routes/ops-console';
import { paymentPageRoutes } from './routes/payment-page';
import { cardChangeRoutes } from './routes/card-change';
import { opsQueueRoutes } from './routes/ops-queues';
import { opsDisputeRoutes } from './routes/ops-disputes';
import { opsEInvoiceRoutes } from './routes/ops-e-invoices';
import { sessionRoutes } from './routes/sessions';
import { createMetrics, type Metrics } from '../infra/metrics';
import { readBusinessFigures } from '../services/metrics/read-business-figures';
import { sessionSettingsOf } from '../services/sessions/settings';
import { businessMetricsRegistry, cachedLoader, httpMetrics } from './metrics';
import { metricsRoutes } from './routes/metrics';

export interface AppDeps {
  services: ServiceDeps;
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
  registrationsPerHour: number;
  /** the address clients reach the service at: the OpenAPI document's `servers` */
  publicBaseUrl?: string;
  trustProxyHops?: number;
  /** how long the hot session routes may reuse a resolved key (0: never); default 5 s */
  authCacheSeconds?: number;
  /** the process's metrics registry (shared with the Temporal client's interceptor); a fresh one when absent */
  metrics?: Metrics;
  /** a static bearer accepted on /metrics besides ops tokens (METRICS_TOKEN) */
  metricsToken?: string;
  /** the local Temporal worker's Prometheus endpoint, appended to /metrics */
  temporalMetricsUrl?: string;
  /** how long /metrics reuses the business figures read from the database; default 5 s */
  metricsCacheSeconds?: number;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxyHops ?? 0);
  const metrics = deps.metrics ?? createMetrics();
  app.use(httpMetrics(metrics));
  app.use(
    pinoHttp({
      logger: deps.logger,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // one line per request: who asked what, and the answer; not every header (serialising and redacting
      // them was a measurable share of the hot routes' CPU, docs/benchmarks.md)
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          // a payment link's token is a capability (it pays the order, downloads its invoice): not logged
          url: req.url.replace(/^\/pay\/[^/?]+/, '/pay/[token]'),
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  // Stripe signs the exact bytes it sends: its webhook gets them raw, and the JSON parser then skips it
  app.use(STRIPE_WEBHOOK_PATH, rawBody());
  app.use(jsonBody());

  const registry = createRegistry();
  const authCacheMs = (deps.authCacheSeconds ?? 5) * 1000;
  const kit = createRouteKit({
    prisma: deps.services.prisma,
    registry,
    principalCache: authCacheMs > 0 ? createPrincipalCache({ ttlMs: authCacheMs }) : undefined,
  });
  const registrationLimiter = registrationLimit(deps.services.prisma, deps.registrationsPerHour);

  app.use(healthRoutes(kit, deps.readiness));
  app.use(installationRoutes(kit, deps.services, registrationLimiter));
  app.use(accountRoutes(kit, deps.services));
  app.use(baseRoutes(kit, deps.services));
  app.use(opsRoutes(kit, deps.services));
  app.use(catalogRoutes(kit, deps.services));
  app.use(promoCodeRoutes(kit, deps.services));
  app.use(subscriptionRoutes(kit, deps.services));
  app.use(cardChangeRoutes(kit, deps.services));
  app.use(licenceChangeRoutes(kit, deps.services));
  app.use(invoiceRoutes(kit, deps.services));
  app.use(licenceFileRoutes(kit, deps.services));
  app.use(stripeWebhookRoutes(registry, deps.services));
  app.use(migrationRoutes(kit, deps.services));
  app.use(walletRoutes(kit, deps.services));
  app.use(supportRoutes(kit, deps.services));
  app.use(creditRoutes(kit, deps.services));
  app.use(refundRoutes(kit, deps.services));
  app.use(sessionRoutes(kit, deps.services));
  const figures = cachedLoader(
    () => readBusinessFigures(deps.services.prisma, sessionSettingsOf(deps.services)),
    (deps.metricsCacheSeconds ?? 5) * 1000,
  );
  app.use(
    metricsRoutes(registry, {
      prisma: deps.services.prisma,
      metrics,
      business: businessMetricsRegistry(figures),
      token: deps.metricsToken,
      temporalMetricsUrl: deps.temporalMetricsUrl,
    }),
  );
  // ops tools: queues, failed payments, stuck workflows, the console page
  app.use(opsQueueRoutes(kit, deps.services));
  app.use(opsDisputeRoutes(kit, deps.services));
  app.use(opsEInvoiceRoutes(kit, deps.services));
  app.use(opsConsoleRoutes());
  app.use(paymentPageRoutes(kit, registry, deps.services));

  const document = generateDocument(registry, deps.publicBaseUrl ?? 'http://localhost:3000');
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document as swaggerUi.JsonObject));

  app.use(notFound);
  app.use(errorMiddleware(deps.logger));
  return app;
}
