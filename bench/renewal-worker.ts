/**
 * The worker of the renewal-wave benchmark, in its own process so that its memory is its own: the real
 * activities and workflows (`createWorker`, as `main.ts --role worker`), configured from the environment,
 * without the schedules `main.ts` creates (the time-skipping test server has none). Prints `worker ready`.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { billingSettings, loadConfig } from '../infra/config';
import { loadLicenceKeyRing } from '../infra/licence-keys';
import { createMailer } from '../infra/mailer';
import { createPrisma } from '../infra/prisma';
import { createStripe } from '../infra/stripe';
import { createWorker, workerTuningOf } from '../worker';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig(process.env);
  const prisma = createPrisma(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const mailer = createMailer(config.SMTP_URL, config.MAIL_FROM);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const deps = {
    prisma,
    mailer,
    secret: config.APP_SECRET,
    stripe: createStripe(config.STRIPE_SECRET_KEY, config.STRIPE_API_BASE),
    licenceKeys: loadLicenceKeyRing(config.LICENCE_KEYS_DIR, config.LICENCE_ACTIVE_KEY_ID),
    billing: billingSettings(config),
  };
  // as main.ts --role worker; BENCH_MAX_CACHED_WORKFLOWS reaches it as WORKER_MAX_CACHED_WORKFLOWS
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps,
    tuning: workerTuningOf(config),
  });
  process.on('SIGTERM', () => worker.shutdown());
  console.log('worker ready');
  await worker.run();
  await prisma.$disconnect();
  mailer.close();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
