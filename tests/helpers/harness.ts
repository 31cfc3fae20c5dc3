/**
 * Integration harness for one test file: its own database (cloned from the migrated template), its own
 * SMTP peer, a real Temporal worker on its own task queue, and the Express app — all real components.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type Stripe from 'stripe';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  makeTelemetryFilterString,
  NativeConnection,
  Runtime,
  DefaultLogger,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../api/app';
import type { EmailCodeLimits, EmailCodeSettings } from '../../domain/email-code';
import { startLocalstripe, type RunningLocalstripe } from '../../infra/embedded/localstripe';
import { createDatabaseIfMissing } from '../../infra/embedded/postgres';
import { freePort } from '../../infra/embedded/ports';
import { startMailCatcher, type CaughtMail, type MailCatcher } from '../../infra/embedded/mail-catcher';
import { startViesPeer, type ViesPeer } from '../../infra/embedded/vies-peer';
import { createViesActivities } from '../../activities/vies';
import { createMailer, type Mailer } from '../../infra/mailer';
import { encryptedDataConverter } from '../../infra/payload-codec';
import type { DataConverter } from '@temporalio/common';
import { generateLicenceKey, loadLicenceKeyRing } from '../../infra/licence-keys';
import { createPrisma, type PrismaClient } from '../../infra/prisma';
import { createStripe } from '../../infra/stripe';
import type { BillingSettings, ServiceDeps } from '../../services/deps';
import { createWorker, workflowsPath, type WorkerDeps } from '../../worker';
import { createLocalPlatform } from '../../services/e-invoicing/local-platform';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
let runtimeInstalled = false;

/** Quiet SDK logs; tests stop workers themselves. Must run before any worker or native connection. */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({
    // activity failures that tests provoke on purpose are logged at WARN
    logger: new DefaultLogger('ERROR'),
    shutdownSignals: [],
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  runtimeInstalled = true;
}

/** Workflow code is bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  installTestRuntime();
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  return bundle;
}

export const defaultEmailCodeSettings: EmailCodeSettings = {
  ttlSeconds: 1800,
  maxAttempts: 5,
  resendCooldownSeconds: 1,
  maxResends: 5,
  verifiedGraceSeconds: 60,
};

export const testBilling: BillingSettings = {
  termsVersion: '2026-01',
  seller: {
    name: 'Gestan SAS',
    address: '12 rue des Entrepreneurs, 75015 Paris, France',
    siren: '123456789',
    legalForm: 'SAS',
    shareCapital: '10 000 €',
    rcsCity: 'Paris',
    vatNumber: 'FR32123456789',
  },
  renewalReminderDays: 7,
  dunningRetryDays: [1, 3, 7],
  offlinePaymentReminderDays: 5,
  offlinePaymentDeadlineDays: 30,
  onlinePaymentTimeoutHours: 24,
  offlineRenewalNoticeDays: 30,
  offlineRenewalGraceDays: 15,
  offlineRenewalReminderDays: [14, 3],
  payee: {
    iban: 'FR7630006000011234567890189',
    bic: 'AGRIFRPPXXX',
    chequePayee: 'Gestan SAS',
    chequeAddress: '12 rue des Entrepreneurs, 75015 Paris, France',
  },
};

export const TEST_WEBHOOK_SECRET = 'whsec_test_0123456789abcdef';

export interface HarnessOptions {
  emailCode?: Partial<EmailCodeSettings>;
  /** limits across challenges (DEFAULT_EMAIL_CODE_LIMITS when absent) */
  emailCodeLimits?: EmailCodeLimits;
  registrationsPerHour?: number;
  billing?: Partial<BillingSettings>;
  /** another Stripe endpoint than the run's stripe-mock (e.g. a recording proxy in front of it) */
  stripeApiBase?: string;
  /**
   * `localstripe`: a stateful local Stripe of this file's own (payments complete, 3-D Secure, refused
   * cards), its webhooks sent to the app, which then listens on a port (`baseUrl`). Default: the run's
   * stripe-mock, which checks every request against Stripe's API definition but keeps nothing.
   */
  stripe?: 'stripe-mock' | 'localstripe';
}

export interface Harness {
  app: Express;
  prisma: PrismaClient;
  mail: MailCatcher;
  mailer: Mailer;
  temporal: Client;
  taskQueue: string;
  services: ServiceDeps;
  stripe: Stripe;
  secret: string;
  licenceKeysDir: string;
  databaseUrl: string;
  /** TEMPORAL_PAYLOAD_KEY of this harness, and the codec its client and worker share (give it to other workers) */
  payloadKey: string;
  dataConverter: DataConverter;
  /** with `stripe: 'localstripe'`: where the app listens (payment links point here) */
  baseUrl?: string;
  localstripe?: RunningLocalstripe;
  /** the local VIES every purchase of the harness consults (every number valid unless told otherwise) */
  vies: ViesPeer;
  /** the local e-invoicing platform's directory the harness's worker sends the outbox to */
  eInvoiceDir: string;
  startWorker(): Promise<Worker>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the integration tests through jest (global set-up)`);
  return value;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  installTestRuntime();
  const adminUrl = required('TEST_PG_ADMIN_URL');
  const database = `t_${crypto.randomBytes(6).toString('hex')}`;
  await createDatabaseIfMissing(adminUrl, database, required('TEST_PG_TEMPLATE'));
  const databaseUrl = adminUrl.replace(/\/postgres$/, `/${database}`);
  const prisma = createPrisma(databaseUrl, 20);
  const mail = await startMailCatcher();
  const vies = await startViesPeer();
  const mailer = createMailer(mail.smtpUrl, 'Licences <licences@test.local>');
  const address = required('TEST_TEMPORAL_ADDRESS');
  const connection = await Connection.connect({ address });
  // payloads encrypted as in production (infra/payload-codec.ts)
  const payloadKey = crypto.randomBytes(32).toString('hex');
  const dataConverter = await encryptedDataConverter(payloadKey);
  const temporal = new Client({ connection, namespace: 'default', dataConverter });
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `test-${database}`;
  const secret = crypto.randomBytes(32).toString('hex');
  const localstripe =
    options.stripe === 'localstripe' ? await startLocalstripe({ port: await freePort() }) : undefined;
  const stripe = createStripe(
    'sk_test_harness',
    localstripe?.apiBase ?? options.stripeApiBase ?? process.env.TEST_STRIPE_API_BASE ?? 'http://127.0.0.1:9',
  );
  const appPort = localstripe ? await freePort() : undefined;
  const baseUrl = appPort ? `http://127.0.0.1:${appPort}` : undefined;
  const licenceKeysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'licence-keys-'));
  generateLicenceKey(licenceKeysDir, 'test-1');
  const licenceKeys = loadLicenceKeyRing(licenceKeysDir, 'test-1');
  const eInvoiceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e-invoices-'));
  const billing = { ...testBilling, ...options.billing };
  const services: ServiceDeps = {
    prisma,
    temporal,
    taskQueue,
    emailCode: { ...defaultEmailCodeSettings, ...options.emailCode },
    emailCodeLimits: options.emailCodeLimits,
    stripe,
    stripeWebhookSecret: TEST_WEBHOOK_SECRET,
    licenceKeys,
    billing,
    vies: createViesActivities({
      baseUrl: vies.url,
      fetch,
      requesterVatNumber: billing.seller.vatNumber,
      retryDelayMs: 10,
    }).checkVatNumber,
    paymentPage: {
      publicUrl: baseUrl ?? 'http://127.0.0.1',
      secret,
      publishableKey: 'pk_test_harness',
      stripeJsUrl: localstripe?.stripeJsUrl ?? 'https://js.stripe.com/v3/',
      linkTtlSeconds: 3600,
    },
  };
  const app = createApp({
    services,
    logger: pino({ level: 'silent' }),
    registrationsPerHour: options.registrationsPerHour ?? 10_000,
    readiness: {
      database: async () => void (await prisma.$queryRaw`SELECT 1`),
      temporal: async () => void (await connection.healthService.check({})),
      smtp: () => mailer.verify(),
    },
  });

  let server: Server | undefined;
  if (localstripe && appPort && baseUrl) {
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(appPort, '127.0.0.1', () => resolve(s));
    });
    await localstripe.registerWebhook(`${baseUrl}/webhooks/stripe`, TEST_WEBHOOK_SECRET);
  }

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const harness: Harness = {
    app,
    prisma,
    mail,
    mailer,
    temporal,
    taskQueue,
    services,
    stripe,
    secret,
    licenceKeysDir,
    databaseUrl,
    payloadKey,
    dataConverter,
    baseUrl,
    localstripe,
    vies,
    eInvoiceDir,
    async startWorker() {
      worker = await createWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        deps: {
          prisma,
          mailer,
          secret,
          stripe,
          licenceKeys,
          billing,
          emailLinks: { publicUrl: baseUrl ?? 'http://127.0.0.1', secret, linkTtlSeconds: 10 * 86_400 },
          eInvoicePlatform: createLocalPlatform(eInvoiceDir),
        },
        workflowBundle: await workflowBundle(),
        dataConverter,
      });
      running = worker.run();
      return worker;
    },
    async stopWorker() {
      if (!worker) return;
      worker.shutdown();
      await running;
      worker = undefined;
    },
    async close() {
      await harness.stopWorker();
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      await localstripe?.stop();
      await nativeConnection.close();
      await connection.close();
      mailer.close();
      await mail.stop();
      await vies.stop();
      await prisma.$disconnect();
      fs.rmSync(licenceKeysDir, { recursive: true, force: true });
      fs.rmSync(eInvoiceDir, { recursive: true, force: true });
    },
  };
  await harness.startWorker();
  return harness;
}

/** The 6-digit code in a caught message. */
/** What a worker of this harness is given (another worker taking over, wrapped activities), with overrides. */
export function workerDeps(h: Harness, overrides: Partial<WorkerDeps> = {}): WorkerDeps {
  return {
    prisma: h.prisma,
    mailer: h.mailer,
    secret: h.secret,
    stripe: h.stripe,
    licenceKeys: h.services.licenceKeys,
    billing: h.services.billing,
    eInvoicePlatform: createLocalPlatform(h.eInvoiceDir),
    ...overrides,
  };
}

export function codeIn(mail: CaughtMail): string {
  const match = /\b(\d{6})\b/.exec(mail.text);
  if (!match?.[1]) throw new Error(`no code in mail "${mail.subject}"`);
  return match[1];
}

export function randomBaseId(): string {
  return Array.from({ length: 17 }, (_, i) =>
    i === 0 ? 1 + crypto.randomInt(9) : crypto.randomInt(10),
  ).join('');
}

export function uniqueEmail(label = 'user'): string {
  return `${label}.${crypto.randomBytes(4).toString('hex')}@example.fr`;
}

export function companyDetails(overrides: Record<string, unknown> = {}) {
  return {
    companyName: `Boulangerie ${crypto.randomBytes(3).toString('hex')}`,
    lastName: 'Dupont',
    firstName: 'Jean',
    address: '1 rue de la Paix',
    postalCode: '75001',
    city: 'Paris',
    country: 'FRA',
    phone: '+33 1 23 45 67 89',
    apeCode: '1071C',
    ...overrides,
  };
}
