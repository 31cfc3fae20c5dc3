/**
 * localstripe, a stateful local Stripe (PyPI), run by the project: the development default when no
 * STRIPE_SECRET_KEY is given, and the Stripe of the tests that need money to move (payment page, 3-D
 * Secure, off-session charges). Unlike stripe-mock it keeps what was created, answers Stripe's test cards
 * (4242… succeeds, 4000 0027 6000 3184 needs 3-D Secure, 4000 0000 0000 0341 is refused), sends signed
 * webhooks and serves `localstripe-v3.js`, a stand-in for Stripe.js in a page. It is started through
 * `localstripe-server.py`, which adapts it where it departs from Stripe (docs/local-stripe.md).
 */
import path from 'node:path';
import { locateLocalstripePython } from './binaries';
import { startPortProcess } from './port-process';

export interface LocalstripeOptions {
  port: number;
  /** where its objects are kept between runs (`npm start`); omitted: in memory only (tests) */
  stateFile?: string;
  log?: (message: string) => void;
}

export interface RunningLocalstripe {
  /** for `createStripe(key, apiBase)` / STRIPE_API_BASE */
  apiBase: string;
  /** the page script standing in for Stripe.js (`https://js.stripe.com/v3/`) */
  stripeJsUrl: string;
  /** sends the PaymentIntent events, signed with `secret`, to `url` (replaces an earlier registration) */
  registerWebhook(url: string, secret: string): Promise<void>;
  stop(): Promise<void>;
}

/** The PaymentIntent events our webhook route acts on. */
export const WEBHOOK_EVENTS = ['payment_intent.succeeded', 'payment_intent.payment_failed'] as const;

export async function startLocalstripe(options: LocalstripeOptions): Promise<RunningLocalstripe> {
  const python = locateLocalstripePython(options.log);
  if (!python) {
    throw new Error(
      'localstripe is not available: install Python 3 (it is installed from PyPI into .cache/localstripe), ' +
        'or set LOCALSTRIPE_PYTHON to a Python that has localstripe 1.15.10 (LOCAL_STRIPE=stripe-mock: the stateless mock)',
    );
  }
  const script = path.join(__dirname, 'localstripe-server.py');
  const args = [script, '--port', String(options.port)];
  if (options.stateFile) args.push('--state-file', options.stateFile);
  const peer = await startPortProcess({
    name: 'localstripe',
    command: python,
    args,
    port: options.port,
    portSetting: 'LOCALSTRIPE_PORT',
    startTimeoutMs: 20_000,
  });

  const apiBase = `http://127.0.0.1:${options.port}`;
  return {
    apiBase,
    stripeJsUrl: `${apiBase}/js.stripe.com/v3/`,
    async registerWebhook(url, secret) {
      // localstripe's own configuration route (not a Stripe API): one registration per id
      const response = await fetch(`${apiBase}/_config/webhooks/licensing`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url, secret, events: WEBHOOK_EVENTS }),
      });
      if (!response.ok) {
        throw new Error(
          `localstripe refused the webhook registration: ${response.status} ${await response.text()}`,
        );
      }
    },
    stop: () => peer.stop(),
  };
}
