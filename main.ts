/**
 * `npm start`: the API and the worker in one process, with embedded PostgreSQL, Temporal dev server and
 * mail catcher for whatever the environment does not point at. `--role api|worker` runs one half
 * (docker-compose runs them as two services). Ctrl-C stops everything, in order.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createViesActivities } from './activities/vies';
import { createApp } from './api/app';
import {
  billingSettings,
  ConfigError,
  creditSettings,
  emailCodeLimits,
  emailCodeSettings,
  loadConfig,
  paymentPageSettings,
  emailLinkSettings,
  sessionSettings,
  licenceFileSettings,
  temporalMetricsSettings,
} from './infra/config';
import { PROJECT_ROOT } from './infra/embedded/binaries';
import { startDevStack } from './infra/embedded/dev-stack';
import { PROJECT_SEARCH_ATTRIBUTES } from './domain/search-attributes';
import { createLogger } from './infra/logger';
import { createMailer } from './infra/mailer';
import { createMetrics, workflowStartInterceptor } from './infra/metrics';
import { migrateDatabase } from './infra/migrate';
import { loadLicenceKeyRing } from './infra/licence-keys';
import { encryptedDataConverter } from './infra/payload-codec';
import { createPrisma } from './infra/prisma';
import { createStripe } from './infra/stripe';
import { connectTemporal } from './infra/temporal';
import { ensureMonthlyFeesSchedule } from './services/credits/monthly-fees-schedule';
import { ensureSessionExpirySchedule } from './services/sessions/expiry-schedule';
import { ensureEInvoiceOutboxSchedule } from './services/e-invoicing/outbox-schedule';
import { platformAdapterOf } from './services/e-invoicing/platforms';
import { createWorker, workerIdentityOf, workerTuningOf } from './worker';

type Role = 'all' | 'api' | 'worker';

function parseRole(argv: string[]): Role {
  const i = argv.indexOf('--role');
  const role = i >= 0 ? argv[i + 1] : 'all';
  if (role !== 'all' && role !== 'api' && role !== 'worker') {
    console.error(`unknown role ${role}: use --role all|api|worker`);
    process.exit(2);
  }
  return role;
}

async function main(): Promise<void> {
  const role = parseRole(process.argv);
  const envFile = path.join(PROJECT_ROOT, '.env');
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
  // we decide the shutdown order ourselves (HTTP, worker, connections, embedded servers). Installed first:
  // the embedded Temporal dev server would otherwise install a default Runtime. The worker's own metrics
  // go to Prometheus on METRICS_TEMPORAL_PORT when set.
  const telemetry = temporalMetricsSettings(process.env);
  const temporalMetrics =
    role !== 'api' && telemetry.METRICS_TEMPORAL_PORT > 0
      ? `${telemetry.METRICS_TEMPORAL_HOST}:${telemetry.METRICS_TEMPORAL_PORT}`
      : undefined;
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('WARN'),
    ...(temporalMetrics && {
      telemetryOptions: {
        metrics: { prometheus: { bindAddress: temporalMetrics, useSecondsForDurations: true } },
      },
    }),
  });

  // registered before anything starts, so Ctrl-C at any moment stops what did start, newest first
  const cleanups: (() => unknown)[] = [];
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    for (const cleanup of cleanups.reverse()) {
      await Promise.resolve()
        .then(cleanup)
        .catch((error: unknown) => logger.warn({ err: error }, 'a component did not stop cleanly'));
    }
    logger.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(signal));

  const stack = await startDevStack(process.env, logger, { searchAttributes: PROJECT_SEARCH_ATTRIBUTES });
  cleanups.push(() => stack.stop());
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    await shutdownQuietly(stack);
    throw error;
  }
  const metrics = createMetrics();

  if (config.MIGRATE_ON_START === 'on')
    logger.info(await migrateDatabase(config.DATABASE_URL).then((out) => out.trim().split('\n').pop()));
  const prisma = createPrisma(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const mailer = createMailer(config.SMTP_URL, config.MAIL_FROM);
  cleanups.push(
    () => prisma.$disconnect(),
    () => mailer.close(),
  );
  // one codec for the client and the worker: payloads are encrypted in Temporal's history
  const dataConverter = await encryptedDataConverter(config.TEMPORAL_PAYLOAD_KEY);
  const temporal = await connectTemporal(
    config.TEMPORAL_ADDRESS,
    config.TEMPORAL_NAMESPACE,
    config.TEMPORAL_TASK_QUEUE,
    { workflow: [workflowStartInterceptor(metrics)] },
    dataConverter,
  );
  cleanups.push(() => temporal.connection.close());

  const stripe = createStripe(config.STRIPE_SECRET_KEY, config.STRIPE_API_BASE);
  const licenceKeys = loadLicenceKeyRing(config.LICENCE_KEYS_DIR, config.LICENCE_ACTIVE_KEY_ID);
  const viesDeps = { baseUrl: config.VIES_URL, fetch, requesterVatNumber: config.SELLER_VAT_NUMBER };
  const services = {
    prisma,
    temporal: temporal.client,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    emailCode: emailCodeSettings(config),
    emailCodeLimits: emailCodeLimits(config),
    stripe,
    stripeWebhookSecret: config.STRIPE_WEBHOOK_SECRET,
    licenceKeys,
    billing: billingSettings(config),
    vies: createViesActivities(viesDeps).checkVatNumber,
    credits: creditSettings(config),
    sessions: sessionSettings(config),
    licenceFiles: licenceFileSettings(config),
    temporalUiUrl: config.TEMPORAL_UI_URL,
    paymentPage: paymentPageSettings(config),
  };

  let server: Server | undefined;
  if (role !== 'worker') {
    const app = createApp({
      services,
      logger,
      registrationsPerHour: config.REGISTRATION_RATE_LIMIT_PER_HOUR,
      publicBaseUrl: config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`,
      trustProxyHops: config.TRUST_PROXY_HOPS,
      authCacheSeconds: config.AUTH_CACHE_SECONDS,
      metrics,
      metricsToken: config.METRICS_TOKEN,
      metricsCacheSeconds: config.METRICS_CACHE_SECONDS,
      // the worker of this same process (--role all) exposes its metrics locally: one page for ops
      temporalMetricsUrl: temporalMetrics && role === 'all' ? localMetricsUrl(temporalMetrics) : undefined,
      readiness: {
        database: async () => void (await prisma.$queryRaw`SELECT 1`),
        temporal: async () => void (await temporal.connection.healthService.check({})),
        smtp: () => mailer.verify(),
      },
    });
    const listening = await new Promise<Server>((resolve) => {
      const s = app.listen(config.PORT, () => resolve(s));
    });
    server = listening;
    cleanups.push(() => new Promise<void>((resolve) => listening.close(() => resolve())));
  }

  let worker: Worker | undefined;
  let workerConnection: NativeConnection | undefined;
  if (role !== 'api') {
    const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    workerConnection = connection;
    cleanups.push(() => connection.close());
    worker = await createWorker({
      connection: workerConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      deps: {
        prisma,
        mailer,
        secret: config.APP_SECRET,
        stripe,
        licenceKeys,
        billing: services.billing,
        credits: services.credits,
        sessions: services.sessions,
        vies: viesDeps,
        emailLinks: emailLinkSettings(config),
        eInvoicePlatform: platformAdapterOf(config),
      },
      tuning: workerTuningOf(config),
      identity: workerIdentityOf(config),
      dataConverter,
    });
    const started = worker;
    const run = started.run();
    run.catch((error: unknown) => logger.fatal({ err: error }, 'worker stopped'));
    cleanups.push(async () => {
      started.shutdown();
      await run.catch(() => undefined);
    });
    // the schedules the worker runs (idempotent: an existing schedule is kept): monthly app fees, and the
    // every-minute jobs expiring silent sessions and sending the e-invoicing outbox
    const schedule = await ensureMonthlyFeesSchedule(temporal.client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
    });
    logger.info(schedule, 'monthly app fees schedule in place');
    await ensureSessionExpirySchedule(temporal.client, config.TEMPORAL_TASK_QUEUE);
    await ensureEInvoiceOutboxSchedule(temporal.client, config.TEMPORAL_TASK_QUEUE);
  }

  const where: Record<string, string> = { ...stack.summary };
  if (server) where.api = `http://localhost:${config.PORT} (OpenAPI at /openapi.json, docs at /docs)`;
  if (worker) where.worker = `task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`;
  if (temporalMetrics) where.metrics = `Temporal worker metrics on http://${temporalMetrics}/metrics`;
  logger.info(
    { where, temporalUi: config.TEMPORAL_UI_URL, mailCatcher: config.MAIL_CATCHER_URL },
    'service ready',
  );
  for (const [part, value] of Object.entries(where)) console.log(`  ${part.padEnd(8)} ${value}`);
  console.log('  Ctrl-C to stop');
}

/** Where this process reaches its own metrics endpoint (a wildcard bind address is reached on loopback). */
function localMetricsUrl(bindAddress: string): string {
  const [host, port] = [bindAddress.slice(0, bindAddress.lastIndexOf(':')), bindAddress.split(':').pop()];
  const reachable = host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
  return `http://${reachable}:${port}/metrics`;
}

async function shutdownQuietly(stack: { stop(): Promise<void> }): Promise<void> {
  await stack.stop().catch(() => undefined);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
