/**
 * The embedded defaults of `npm start`: every part the environment does not point at (DATABASE_URL,
 * TEMPORAL_ADDRESS, SMTP_URL, STRIPE_SECRET_KEY) is started locally (Stripe: localstripe, or
 * stripe-mock with LOCAL_STRIPE=stripe-mock), with its data under `var/`, and
 * the environment is filled in so the rest of the service can't tell the difference.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateLicenceKey } from '../licence-keys';
import type { Logger } from '../logger';
import { PROJECT_ROOT } from './binaries';
import { startMailCatcher } from './mail-catcher';
import { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './postgres';
import { startLocalstripe } from './localstripe';
import { startStripeMock } from './stripe-mock';
import { startTemporalDevServer, type SearchAttributeSpec } from './temporal';
import { startViesPeer } from './vies-peer';

export interface DevStack {
  /** human-readable "what runs where" */
  summary: Record<string, string>;
  stop(): Promise<void>;
}

const port = (value: string | undefined, fallback: number) => (value ? Number(value) : fallback);

export async function startDevStack(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  options: { searchAttributes: readonly SearchAttributeSpec[] },
): Promise<DevStack> {
  const varDir = env.VAR_DIR ?? path.join(PROJECT_ROOT, 'var');
  fs.mkdirSync(varDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const summary: Record<string, string> = {};
  const stop = async () => {
    for (const s of stops.reverse()) {
      await s().catch((error: unknown) =>
        logger.warn({ err: error }, 'stopping an embedded component failed'),
      );
    }
  };

  try {
    if (!env.DATABASE_URL) {
      const pgPort = port(env.EMBEDDED_POSTGRES_PORT, 5433);
      logger.info({ port: pgPort }, 'starting embedded PostgreSQL');
      const pg = await superviseEmbeddedPostgres(
        { dataDir: path.join(varDir, 'postgres'), port: pgPort, persistent: true },
        logger,
      );
      stops.push(() => pg.stop());
      await pg.createDatabase('licensing');
      env.DATABASE_URL = pg.urlFor('licensing');
      summary.postgres = `embedded PostgreSQL on 127.0.0.1:${pgPort} (data in ${pg.dataDir.startsWith(PROJECT_ROOT) ? path.relative(PROJECT_ROOT, pg.dataDir) : pg.dataDir})`;
    } else {
      summary.postgres = 'DATABASE_URL (external)';
    }

    if (!env.TEMPORAL_ADDRESS) {
      const temporalPort = port(env.TEMPORAL_DEV_PORT, 7233);
      const uiPort = port(env.TEMPORAL_UI_PORT, 8233);
      logger.info(
        { port: temporalPort, uiPort },
        'starting the Temporal dev server (history in var/temporal.db)',
      );
      const temporal = await startTemporalDevServer({
        port: temporalPort,
        uiPort,
        dbFilename: path.join(varDir, 'temporal.db'),
        log: (message) => logger.info(message),
        searchAttributes: options.searchAttributes,
      });
      stops.push(() => temporal.stop());
      env.TEMPORAL_ADDRESS = temporal.address;
      env.TEMPORAL_UI_URL = temporal.uiUrl;
      summary.temporal = `Temporal dev server on ${temporal.address}, UI at ${temporal.uiUrl}`;
    } else {
      summary.temporal = `TEMPORAL_ADDRESS ${env.TEMPORAL_ADDRESS} (external)${env.TEMPORAL_UI_URL ? `, UI at ${env.TEMPORAL_UI_URL}` : ''}`;
    }

    if (!env.SMTP_URL) {
      const mail = await startMailCatcher({
        smtpPort: port(env.MAIL_CATCHER_SMTP_PORT, 1025),
        webPort: port(env.MAIL_CATCHER_WEB_PORT, 1080),
        dir: path.join(varDir, 'mail'),
      });
      stops.push(() => mail.stop());
      env.SMTP_URL = mail.smtpUrl;
      env.MAIL_CATCHER_URL = mail.webUrl;
      summary.mail = `mail catcher: SMTP ${mail.smtpUrl}, messages at ${mail.webUrl} and in ${path.relative(PROJECT_ROOT, varDir)}/mail/*.eml`;
    } else {
      summary.mail = 'SMTP_URL (external)';
    }

    if (!env.VIES_URL && env.NODE_ENV !== 'production') {
      const vies = await startViesPeer();
      stops.push(() => vies.stop());
      env.VIES_URL = vies.url;
      summary.vies = `local VIES peer on ${vies.url} (every VAT number valid)`;
    }

    if (!env.STRIPE_SECRET_KEY && env.NODE_ENV !== 'production') {
      if (!env.STRIPE_WEBHOOK_SECRET) {
        // generated once per machine, like APP_SECRET: the local Stripe signs its webhooks with it
        const file = path.join(varDir, 'stripe-webhook-secret');
        if (!fs.existsSync(file))
          fs.writeFileSync(file, `whsec_${crypto.randomBytes(24).toString('hex')}`, { mode: 0o600 });
        env.STRIPE_WEBHOOK_SECRET = fs.readFileSync(file, 'utf8').trim();
        summary.webhook = `STRIPE_WEBHOOK_SECRET generated for this machine in ${path.relative(PROJECT_ROOT, file)}`;
      }
      // local Stripes take any test key: placeholders, not secrets
      env.STRIPE_SECRET_KEY = 'sk_test_local';
      env.STRIPE_PUBLISHABLE_KEY ??= 'pk_test_local';
      if (env.LOCAL_STRIPE === 'stripe-mock') {
        if (!env.STRIPE_API_BASE) {
          const stripeMock = await startStripeMock({
            port: port(env.STRIPE_MOCK_PORT, 12111),
            log: (message) => logger.info(message),
          });
          stops.push(() => stripeMock.stop());
          env.STRIPE_API_BASE = stripeMock.apiBase;
        }
        summary.stripe = `stripe-mock at ${env.STRIPE_API_BASE} (checks requests, keeps nothing: no payment completes)`;
      } else if (!env.STRIPE_API_BASE) {
        const localstripe = await startLocalstripe({
          port: port(env.LOCALSTRIPE_PORT, 8420),
          stateFile: path.join(varDir, 'localstripe.pickle'),
          log: (message) => logger.info(message),
        });
        stops.push(() => localstripe.stop());
        env.STRIPE_API_BASE = localstripe.apiBase;
        env.STRIPE_JS_URL ??= localstripe.stripeJsUrl;
        // its payment events come to our webhook route, signed with the secret the route checks
        const webhookUrl = `http://127.0.0.1:${port(env.PORT, 3000)}/webhooks/stripe`;
        await localstripe.registerWebhook(webhookUrl, env.STRIPE_WEBHOOK_SECRET);
        summary.stripe = `localstripe at ${env.STRIPE_API_BASE} (test cards, no real money; webhooks to ${webhookUrl})`;
      } else {
        summary.stripe = `STRIPE_API_BASE ${env.STRIPE_API_BASE} with a test key`;
      }
    } else if (env.STRIPE_SECRET_KEY) {
      summary.stripe = `Stripe API ${env.STRIPE_API_BASE ?? 'https://api.stripe.com'} (STRIPE_SECRET_KEY set)`;
    }

    if (!env.APP_SECRET && env.NODE_ENV !== 'production') {
      // a secret of this machine, generated once; never a default shared by every install
      const file = path.join(varDir, 'app-secret');
      if (!fs.existsSync(file))
        fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600 });
      env.APP_SECRET = fs.readFileSync(file, 'utf8').trim();
      summary.secret = `APP_SECRET generated for this machine in ${path.relative(PROJECT_ROOT, file)}`;
    }

    if (!env.TEMPORAL_PAYLOAD_KEY && env.NODE_ENV !== 'production') {
      // the key of Temporal payloads on this machine, generated once (every process of `npm start` reads it)
      const file = path.join(varDir, 'temporal-payload-key');
      if (!fs.existsSync(file))
        fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600 });
      env.TEMPORAL_PAYLOAD_KEY = fs.readFileSync(file, 'utf8').trim();
      summary.payloads = `Temporal payloads encrypted with a key generated for this machine in ${path.relative(PROJECT_ROOT, file)}`;
    }

    if (!env.LICENCE_KEYS_DIR && env.NODE_ENV !== 'production') {
      // a licence-signing key of this machine, generated once: files it signs verify with its own key only
      const dir = path.join(varDir, 'licence-keys');
      const keyId = env.LICENCE_ACTIVE_KEY_ID ?? 'dev-1';
      if (!fs.existsSync(path.join(dir, `${keyId}.pem`))) generateLicenceKey(dir, keyId);
      env.LICENCE_KEYS_DIR = dir;
      env.LICENCE_ACTIVE_KEY_ID = keyId;
      summary.licence = `licence files signed with key ${keyId}, generated for this machine in ${path.relative(PROJECT_ROOT, dir)}/`;
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { summary, stop };
}

/**
 * The embedded PostgreSQL of `npm start`, restarted when it stops by itself (killed, crashed): the
 * service's connection pools reconnect on their own once it is back (docs/faults.md). Restarts are tried
 * every second, then less often, until one succeeds or the stack stops.
 */
export async function superviseEmbeddedPostgres(
  options: Omit<EmbeddedPostgresOptions, 'onLog' | 'onUnexpectedExit'>,
  logger: Logger,
): Promise<EmbeddedPostgres> {
  let stopped = false;
  let current: EmbeddedPostgres;
  let timer: NodeJS.Timeout | undefined;
  const start = (): Promise<EmbeddedPostgres> =>
    startEmbeddedPostgres({
      ...options,
      onLog: (line) => logger.debug({ component: 'postgres' }, line),
      onUnexpectedExit: (how) => {
        logger.error({ component: 'postgres', how }, 'embedded PostgreSQL stopped; restarting it');
        restart(1);
      },
    });
  const restart = (attempt: number) => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        start().then(
          (pg) => {
            if (stopped) return void pg.stop();
            current = pg;
            logger.info({ component: 'postgres', attempt }, 'embedded PostgreSQL restarted');
          },
          (error: unknown) => {
            logger.warn({ component: 'postgres', err: error, attempt }, 'embedded PostgreSQL restart failed');
            restart(attempt + 1);
          },
        );
      },
      Math.min(1000 * attempt, 10_000),
    );
  };
  current = await start();
  return {
    get adminUrl() {
      return current.adminUrl;
    },
    get pid() {
      return current.pid;
    },
    port: current.port,
    dataDir: current.dataDir,
    urlFor: (database) => current.urlFor(database),
    createDatabase: (name, template) => current.createDatabase(name, template),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current.stop();
    },
  };
}
