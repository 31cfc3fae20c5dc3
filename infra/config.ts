/**
 * Configuration, parsed once at start-up from the environment. Fails fast with one line per problem.
 * Every key is listed in `.env.example`. No secret has a default: `npm start` generates a local one for
 * the embedded development set-up (see main.ts), production must set its own.
 */
import { z } from 'zod';

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** the address clients and customers' browsers reach this service at (OpenAPI `servers`, payment links, links in
   * emails); unset: http://localhost:PORT */
  PUBLIC_BASE_URL: z
    .url()
    .regex(/^https?:\/\/[^/]+(\/.*[^/])?$/, 'an http(s) URL without a trailing slash')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** how many reverse proxies sit in front of the API (for client IPs in rate limits) */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).default(0),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /**
   * on (default): each process applies pending migrations at start-up. off: they were applied once before the
   * processes start (the cluster command, docker-compose's `migrate` service), so several processes starting
   * together do not queue on the migration lock
   */
  MIGRATE_ON_START: z.enum(['on', 'off']).default('on'),

  TEMPORAL_ADDRESS: z.string().min(1),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('licensing'),
  /**
   * workflows the worker keeps in memory between tasks (each waiting subscription costs about 1 MiB there; an
   * evicted one is replayed from its short history on its next task)
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(100),
  /** activities run at once by the worker; default twice DATABASE_POOL_SIZE (most of them hold a connection) */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().optional(),
  /**
   * the build a worker runs (e.g. the commit it was built from): part of its identity, which Temporal records in
   * every history event a worker produces, so a rolling restart shows which build ran each step (cluster.md)
   */
  WORKER_BUILD_ID: z
    .string()
    .regex(/^[\w.-]+$/, 'letters, digits, dots, dashes')
    .optional(),
  /** shown in logs so people can find the UI */
  TEMPORAL_UI_URL: z.string().optional(),

  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL'),
  MAIL_FROM: z.string().min(3).default('Gestan Licences <licences@localhost>'),
  MAIL_CATCHER_URL: z.string().optional(),

  /** key for HMAC of emailed codes at rest; at least 32 characters */
  APP_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),

  /**
   * AES-256 key (64 hex characters) encrypting Temporal payloads (codes, client secrets) in workflow
   * histories; the same on every API and worker process. Generated per machine in development.
   */
  TEMPORAL_PAYLOAD_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (`openssl rand -hex 32`)'),

  EMAIL_CODE_TTL_SECONDS: seconds(30 * 60),
  EMAIL_CODE_MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
  EMAIL_CODE_RESEND_COOLDOWN_SECONDS: z.coerce.number().int().min(0).default(60),
  EMAIL_CODE_MAX_RESENDS: z.coerce.number().int().min(0).default(5),
  /**
   * across challenges, per address and window: the wrong codes checked (EMAIL_CODE_MAX_ATTEMPTS, whatever
   * the challenge) and the codes mailed (new challenges and re-sends)
   */
  EMAIL_CODE_LIMIT_WINDOW_SECONDS: seconds(3600),
  EMAIL_CODE_MAX_CODES_PER_WINDOW: z.coerce.number().int().positive().default(6),
  /** after a correct code, how long a re-submission of it still answers "ok" (lets a crashed client retry) */
  EMAIL_CODE_VERIFIED_GRACE_SECONDS: seconds(15 * 60),

  /** POST /installations per client IP per hour */
  REGISTRATION_RATE_LIMIT_PER_HOUR: z.coerce.number().int().positive().default(20),

  /** Stripe secret key; against stripe-mock any `sk_test_...` works */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^sk_(test|live)_\w+/, 'must be a Stripe secret key (sk_test_... or sk_live_...)'),
  /** another Stripe API endpoint, e.g. http://127.0.0.1:12111 for stripe-mock */
  STRIPE_API_BASE: z.url().optional(),
  /** signing secret of the webhook endpoint (whsec_...) */
  STRIPE_WEBHOOK_SECRET: z.string().min(16),
  /** publishable key the payment page hands Stripe.js (pk_...); required in production */
  STRIPE_PUBLISHABLE_KEY: z
    .string()
    .regex(/^pk_(test|live)_\w+/, 'must be a Stripe publishable key (pk_test_... or pk_live_...)')
    .optional(),
  /** the Stripe.js script of the payment page (localstripe's stand-in in development) */
  STRIPE_JS_URL: z.url().default('https://js.stripe.com/v3/'),
  /** the VIES REST API (EU VAT numbers checked before a reverse charge); unset in development: a local peer */
  VIES_URL: z.url().default('https://ec.europa.eu/taxation_customs/vies/rest-api'),
  /** the approved e-invoicing platform the outbox sends to; `local`: a directory (no platform is wired yet) */
  EINVOICE_PLATFORM: z.enum(['local']).default('local'),
  /** the local platform's directory: each document sent as `<id>.pdf` and its status record `<id>.json` */
  EINVOICE_LOCAL_DIR: z.string().min(1).default('var/e-invoices'),
  /** how long a payment link stays valid */
  PAYMENT_LINK_TTL_HOURS: z.coerce.number().int().positive().default(48),
  /** how long the links of the licence emails stay valid (3-D Secure of a renewal, card change) */
  EMAIL_LINK_TTL_DAYS: z.coerce.number().int().positive().default(10),

  /** folder of Ed25519 private keys `<key id>.pem` signing licence files; all of them verify */
  LICENCE_KEYS_DIR: z.string().min(1),
  /** the key id that signs new licence files (rotation: add a key, switch this) */
  LICENCE_ACTIVE_KEY_ID: z.string().regex(/^[\w.-]+$/),
  /** a paid licence's file asks to be refreshed this many days after issue, whatever the period end */
  LICENCE_FILE_REFRESH_DAYS: z.coerce.number().int().min(1).max(366).default(30),
  /** days after the refresh date an offline ERP's file still verifies (docs/licence-file.md) */
  LICENCE_FILE_OFFLINE_GRACE_DAYS: z.coerce.number().int().min(0).max(366).default(14),

  /** version of the licence terms the customer accepts at purchase */
  TERMS_VERSION: z.string().min(1).default('2026-01'),
  /** the seller on invoices */
  SELLER_NAME: z.string().min(1).default('Gestan SAS'),
  SELLER_ADDRESS: z.string().min(1).default('12 rue des Entrepreneurs, 75015 Paris, France'),
  SELLER_SIREN: z
    .string()
    .regex(/^\d{9}$/)
    .default('123456789'),
  SELLER_VAT_NUMBER: z.string().min(4).default('FR32123456789'),
  SELLER_LEGAL_FORM: z.string().min(1).default('SAS'),
  SELLER_SHARE_CAPITAL: z.string().min(1).default('10 000 €'),
  SELLER_RCS_CITY: z.string().min(1).default('Paris'),

  /** days before a period ends that the renewal reminder is mailed */
  RENEWAL_REMINDER_DAYS: z.coerce.number().int().min(0).default(7),
  /** days after a failed renewal payment at which it is retried, comma-separated */
  DUNNING_RETRY_DAYS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated days, e.g. 1,3,7')
    .default('1,3,7')
    .transform((v) => v.split(',').map(Number)),
  /** cheque/transfer: days before the customer is reminded, and before the purchase is cancelled */
  OFFLINE_PAYMENT_REMINDER_DAYS: z.coerce.number().int().positive().default(5),
  OFFLINE_PAYMENT_DEADLINE_DAYS: z.coerce.number().int().positive().default(30),
  /**
   * cheque/transfer renewal (docs/subscriptions.md): days before the period end that the invoice to pay is
   * mailed, days after the period end that it is due (the licence PAST_DUE meanwhile), reminders (days
   * before the due date, comma-separated)
   */
  OFFLINE_RENEWAL_NOTICE_DAYS: z.coerce.number().int().positive().default(30),
  OFFLINE_RENEWAL_GRACE_DAYS: z.coerce.number().int().min(0).default(15),
  OFFLINE_RENEWAL_REMINDER_DAYS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated days, e.g. 14,3')
    .default('14,3')
    .transform((v) => v.split(',').map(Number)),
  /** where cheque and transfer payers pay: the seller's bank account, and the cheque's payee and address */
  SELLER_IBAN: z.string().min(15).default('FR7630006000011234567890189'),
  SELLER_BIC: z.string().min(8).default('AGRIFRPPXXX'),
  SELLER_CHEQUE_PAYEE: z.string().min(1).optional(),
  SELLER_CHEQUE_ADDRESS: z.string().min(1).optional(),
  /** card payment: hours to complete it before the purchase is cancelled */
  ONLINE_PAYMENT_TIMEOUT_HOURS: z.coerce.number().int().positive().default(24),

  /** support time and credits wallet: where ops reminders go, the contact for buyers who can't buy online */
  OPS_EMAIL: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, 'an email address')
    .default('ops@localhost'),
  VENDOR_CONTACT_EMAIL: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, 'an email address')
    .default('contact@localhost'),
  /** card payment of a support pack or wallet recharge: hours to complete it before it expires */
  CREDIT_PAYMENT_TIMEOUT_HOURS: z.coerce.number().int().positive().default(24),
  /** hours between reminders to ops of a paid purchase waiting for an account */
  UNMATCHED_PURCHASE_REMINDER_HOURS: z.coerce.number().int().positive().default(24),
  /** a session silent (no heartbeat) for longer than this is expired and no longer counts */
  SESSION_HEARTBEAT_TIMEOUT_SECONDS: seconds(300),
  /**
   * off (default): a session admission's commit does not wait for its WAL flush (SET LOCAL
   * synchronous_commit): on a database crash the last fraction of a second of admissions may be lost (those
   * ERPs log in again), never an over-admission; money writes always wait. on: admissions wait too.
   */
  SESSION_SYNCHRONOUS_COMMIT: z.enum(['on', 'off']).default('off'),
  /** how long the hot session routes reuse a resolved API key: revocations reach them within this (0: off) */
  AUTH_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),

  /** a static bearer Prometheus sends to GET /metrics (ops tokens work too); unset: ops tokens only */
  METRICS_TOKEN: z.string().min(32, 'at least 32 characters (`openssl rand -hex 32`)').optional(),
  /** the Temporal worker's own metrics on this port (0: off); appended to /metrics when the API runs alongside */
  METRICS_TEMPORAL_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** the interface it listens on (0.0.0.0 when Prometheus scrapes a worker container); it has no auth */
  METRICS_TEMPORAL_HOST: z.string().min(1).default('127.0.0.1'),
  /** how long /metrics reuses the business figures read from the database */
  METRICS_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The seller's legal identity printed on invoices. Development and tests get a placeholder (a fake SIREN);
 * production must set every one, like APP_SECRET: a forgotten one would print the placeholder on legal invoices.
 */
const PLACEHOLDER_SELLER = { SELLER_SIREN: '123456789', SELLER_VAT_NUMBER: 'FR32123456789' };

export const SELLER_IDENTITY_KEYS = [
  'SELLER_NAME',
  'SELLER_ADDRESS',
  'SELLER_SIREN',
  'SELLER_VAT_NUMBER',
  'SELLER_LEGAL_FORM',
  'SELLER_SHARE_CAPITAL',
  'SELLER_RCS_CITY',
] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (env.NODE_ENV === 'production') {
    for (const key of SELLER_IDENTITY_KEYS) {
      if (!env[key]?.trim())
        problems.push(`${key}: required in production (the seller printed on invoices; no placeholder)`);
    }
    // the placeholders of .env.example, copied as they are, are as fake as the defaults
    for (const key of ['SELLER_SIREN', 'SELLER_VAT_NUMBER'] as const) {
      if (env[key]?.trim() === PLACEHOLDER_SELLER[key])
        problems.push(
          `${key}: ${PLACEHOLDER_SELLER[key]} is the example placeholder, not the seller's number`,
        );
    }
    if (!env.STRIPE_PUBLISHABLE_KEY?.trim())
      problems.push(
        'STRIPE_PUBLISHABLE_KEY: required in production (the payment page hands it to Stripe.js)',
      );
  }
  if (problems.length || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

/**
 * The Temporal worker's metrics endpoint, read before anything starts: the Temporal Runtime that exports
 * them is installed once per process, before the embedded dev server (which would install a default one).
 */
export function temporalMetricsSettings(env: NodeJS.ProcessEnv = process.env) {
  const parsed = configSchema
    .pick({ METRICS_TEMPORAL_PORT: true, METRICS_TEMPORAL_HOST: true })
    .safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return parsed.data;
}

/** The email-code settings handed to emailCodeWorkflow. */
export function emailCodeSettings(config: Config) {
  return {
    ttlSeconds: config.EMAIL_CODE_TTL_SECONDS,
    maxAttempts: config.EMAIL_CODE_MAX_ATTEMPTS,
    resendCooldownSeconds: config.EMAIL_CODE_RESEND_COOLDOWN_SECONDS,
    maxResends: config.EMAIL_CODE_MAX_RESENDS,
    verifiedGraceSeconds: config.EMAIL_CODE_VERIFIED_GRACE_SECONDS,
  };
}

/** The email-code limits across challenges, applied by the API (services/email-codes/email-code-flow.ts). */
export function emailCodeLimits(config: Config) {
  return {
    windowSeconds: config.EMAIL_CODE_LIMIT_WINDOW_SECONDS,
    maxCodesPerWindow: config.EMAIL_CODE_MAX_CODES_PER_WINDOW,
  };
}

/** The billing settings handed to use-cases and workflows. */
export function billingSettings(config: Config) {
  return {
    termsVersion: config.TERMS_VERSION,
    seller: {
      name: config.SELLER_NAME,
      address: config.SELLER_ADDRESS,
      siren: config.SELLER_SIREN,
      vatNumber: config.SELLER_VAT_NUMBER,
      legalForm: config.SELLER_LEGAL_FORM,
      shareCapital: config.SELLER_SHARE_CAPITAL,
      rcsCity: config.SELLER_RCS_CITY,
    },
    renewalReminderDays: config.RENEWAL_REMINDER_DAYS,
    dunningRetryDays: config.DUNNING_RETRY_DAYS,
    offlinePaymentReminderDays: config.OFFLINE_PAYMENT_REMINDER_DAYS,
    offlinePaymentDeadlineDays: config.OFFLINE_PAYMENT_DEADLINE_DAYS,
    onlinePaymentTimeoutHours: config.ONLINE_PAYMENT_TIMEOUT_HOURS,
    offlineRenewalNoticeDays: config.OFFLINE_RENEWAL_NOTICE_DAYS,
    offlineRenewalGraceDays: config.OFFLINE_RENEWAL_GRACE_DAYS,
    offlineRenewalReminderDays: config.OFFLINE_RENEWAL_REMINDER_DAYS,
    payee: {
      iban: config.SELLER_IBAN,
      bic: config.SELLER_BIC,
      chequePayee: config.SELLER_CHEQUE_PAYEE ?? config.SELLER_NAME,
      chequeAddress: config.SELLER_CHEQUE_ADDRESS ?? config.SELLER_ADDRESS,
    },
  };
}

/** The payment page's settings: where its links point, what signs them, what the page loads. */
export function paymentPageSettings(config: Config) {
  return {
    publicUrl: config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`,
    secret: config.APP_SECRET,
    publishableKey: config.STRIPE_PUBLISHABLE_KEY,
    stripeJsUrl: config.STRIPE_JS_URL,
    linkTtlSeconds: config.PAYMENT_LINK_TTL_HOURS * 3600,
  };
}

/** What signs the links of the licence emails (the worker's side). */
export function emailLinkSettings(config: Config) {
  return {
    publicUrl: config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`,
    secret: config.APP_SECRET,
    linkTtlSeconds: config.EMAIL_LINK_TTL_DAYS * 86_400,
  };
}

/** The support time and wallet settings handed to use-cases and workflows. */
export function creditSettings(config: Config) {
  return {
    opsEmail: config.OPS_EMAIL,
    vendorContactEmail: config.VENDOR_CONTACT_EMAIL,
    paymentTimeoutHours: config.CREDIT_PAYMENT_TIMEOUT_HOURS,
    unmatchedReminderHours: config.UNMATCHED_PURCHASE_REMINDER_HOURS,
  };
}

/** How long a signed licence file of a paid licence lasts (docs/licence-file.md). */
export function licenceFileSettings(config: Config) {
  return {
    refreshDays: config.LICENCE_FILE_REFRESH_DAYS,
    offlineGraceDays: config.LICENCE_FILE_OFFLINE_GRACE_DAYS,
  };
}

/** The concurrent-session settings handed to use-cases and the expiry job. */
export function sessionSettings(config: Config) {
  return {
    heartbeatTimeoutSeconds: config.SESSION_HEARTBEAT_TIMEOUT_SECONDS,
    synchronousCommit: config.SESSION_SYNCHRONOUS_COMMIT === 'on',
  };
}
