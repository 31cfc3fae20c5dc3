/**
 * The one place where activities get their dependencies, and the worker that runs workflows and
 * activities on the task queue.
 */
import os from 'node:os';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createCreditActivities } from './activities/credits';
import { createEmailCodeActivities } from './activities/email-code';
import { createLicenceMigrationActivities } from './activities/licence-migrations';
import { createPaymentActivities } from './activities/payments';
import { createRefundActivities } from './activities/refunds';
import { createSubscriptionActivities } from './activities/subscriptions';
import { createOfflineRenewalActivities } from './activities/offline-renewals';
import { createLicenceChangeActivities } from './activities/licence-changes';
import { createSessionActivities } from './activities/sessions';
import { createViesActivities, type ViesDeps } from './activities/vies';
import { createEInvoiceActivities } from './activities/e-invoicing';
import type { PlatformAdapter } from './services/e-invoicing/platform-adapter';
import type { Mailer } from './infra/mailer';
import type Stripe from 'stripe';
import type { LicenceKeyRing } from './infra/licence-keys';
import type { PrismaClient } from './infra/prisma';
import type { EmailLinkSettings } from './services/payments/payment-link';
import { DEFAULT_CREDIT_SETTINGS, type BillingSettings, type CreditSettings } from './services/deps';
import { defaultSessionSettings, type SessionSettings } from './services/sessions/settings';

export interface WorkerDeps {
  prisma: PrismaClient;
  mailer: Mailer;
  secret: string;
  stripe: Stripe;
  licenceKeys: LicenceKeyRing;
  billing: BillingSettings;
  /** support time and wallet settings; DEFAULT_CREDIT_SETTINGS when not given */
  credits?: CreditSettings;
  /** concurrent sessions (heartbeat timeout); defaults when absent */
  sessions?: SessionSettings;
  /** signs the links of the licence mails (EMAIL_LINK_TTL_DAYS, PUBLIC_BASE_URL); none: mails without links */
  emailLinks?: EmailLinkSettings;
  /** VIES (VIES_URL): registers `checkVatNumberWithVies` when given */
  vies?: ViesDeps;
  /** the approved e-invoicing platform (EINVOICE_PLATFORM): registers the outbox's activities when given */
  eInvoicePlatform?: PlatformAdapter;
}

export function createActivities(deps: WorkerDeps) {
  return {
    ...createEmailCodeActivities({ prisma: deps.prisma, mailer: deps.mailer, secret: deps.secret }),
    ...createPaymentActivities({ stripe: deps.stripe, prisma: deps.prisma }),
    ...createSubscriptionActivities({
      prisma: deps.prisma,
      mailer: deps.mailer,
      billing: deps.billing,
      stripe: deps.stripe,
      ...(deps.emailLinks ? { emailLinks: deps.emailLinks } : {}),
    }),
    ...createLicenceChangeActivities({ prisma: deps.prisma }),
    ...createOfflineRenewalActivities({ prisma: deps.prisma }),
    ...createLicenceMigrationActivities({ prisma: deps.prisma, mailer: deps.mailer }),
    ...createCreditActivities({
      prisma: deps.prisma,
      mailer: deps.mailer,
      billing: deps.billing,
      credits: deps.credits ?? DEFAULT_CREDIT_SETTINGS,
    }),
    ...createRefundActivities({ prisma: deps.prisma }),
    ...createSessionActivities({ prisma: deps.prisma, sessions: deps.sessions ?? defaultSessionSettings }),
    ...(deps.vies ? { checkVatNumberWithVies: createViesActivities(deps.vies).checkVatNumberWithVies } : {}),
    ...(deps.eInvoicePlatform
      ? createEInvoiceActivities({ prisma: deps.prisma, platform: deps.eInvoicePlatform })
      : {}),
  };
}

export const workflowsPath = require.resolve('./workflows');

export async function createWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: WorkerDeps;
  /** a pre-built bundle (tests build it once per file); otherwise the workflows are bundled at start */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** memory and concurrency bounds (WORKER_MAX_CACHED_WORKFLOWS, WORKER_MAX_CONCURRENT_ACTIVITIES); SDK defaults when absent */
  tuning?: WorkerTuning;
  /** what histories record as the worker of each task (workerIdentityOf); the SDK's pid@host when absent */
  identity?: string;
  /** the payload codec shared with the clients (infra/payload-codec.ts) */
  dataConverter?: WorkerOptions['dataConverter'];
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.tuning?.maxCachedWorkflows !== undefined
      ? { maxCachedWorkflows: options.tuning.maxCachedWorkflows }
      : {}),
    ...(options.tuning?.maxConcurrentActivities !== undefined
      ? { maxConcurrentActivityTaskExecutions: options.tuning.maxConcurrentActivities }
      : {}),
  });
}

export interface WorkerTuning {
  maxCachedWorkflows?: number;
  maxConcurrentActivities?: number;
}

/** The worker's bounds from the configuration: a cache that fits in memory, activities that fit the pool. */
export function workerTuningOf(config: {
  WORKER_MAX_CACHED_WORKFLOWS: number;
  WORKER_MAX_CONCURRENT_ACTIVITIES?: number;
  DATABASE_POOL_SIZE: number;
}): WorkerTuning {
  return {
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    maxConcurrentActivities: config.WORKER_MAX_CONCURRENT_ACTIVITIES ?? config.DATABASE_POOL_SIZE * 2,
  };
}

/** `<build>:<pid>@<host>` with WORKER_BUILD_ID set: histories then say which build ran each step. */
export function workerIdentityOf(config: { WORKER_BUILD_ID?: string }): string | undefined {
  return config.WORKER_BUILD_ID ? `${config.WORKER_BUILD_ID}:${process.pid}@${os.hostname()}` : undefined;
}
