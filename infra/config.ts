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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** how many reverse proxies sit in front of the API (for client IPs in rate limits) */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).default(0),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),

  TEMPORAL_ADDRESS: z.string().min(1),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('licensing'),
  /** shown in logs so people can find the UI */
  TEMPORAL_UI_URL: z.string().optional(),

  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL'),
  MAIL_FROM: z.string().min(3).default('Gestan Licences <licences@localhost>'),
  MAIL_CATCHER_URL: z.string().optional(),

  /** key for HMAC of emailed codes at rest; at least 32 characters */
  APP_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),

  EMAIL_CODE_TTL_SECONDS: seconds(30 * 60),
  EMAIL_CODE_MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
  EMAIL_CODE_RESEND_COOLDOWN_SECONDS: z.coerce.number().int().min(0).default(60),
  EMAIL_CODE_MAX_RESENDS: z.coerce.number().int().min(0).default(5),
  /** after a correct code, how long a re-submission of it still answers "ok" (lets a crashed client retry) */
  EMAIL_CODE_VERIFIED_GRACE_SECONDS: seconds(15 * 60),

  /** POST /installations per client IP per hour */
  REGISTRATION_RATE_LIMIT_PER_HOUR: z.coerce.number().int().positive().default(20),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
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
