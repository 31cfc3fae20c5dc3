/**
 * stripe-mock, Stripe's official mock API server, run by the project: the development default when no
 * STRIPE_SECRET_KEY is given, and the Stripe of the integration tests. It validates every request
 * against Stripe's OpenAPI spec and answers with fixtures; it keeps no state (no declines, no webhooks).
 */
import { locateStripeMock } from './binaries';
import { startPortProcess } from './port-process';

export interface StripeMockOptions {
  port: number;
  log?: (message: string) => void;
}

export interface RunningStripeMock {
  /** for `createStripe(key, apiBase)` / STRIPE_API_BASE */
  apiBase: string;
  stop(): Promise<void>;
}

export async function startStripeMock(options: StripeMockOptions): Promise<RunningStripeMock> {
  const binary = locateStripeMock(options.log);
  if (!binary) {
    throw new Error(
      'stripe-mock is not available: install Go (it is built from the Go module proxy into .cache/stripe-mock), ' +
        'or set STRIPE_MOCK_PATH to a stripe-mock binary',
    );
  }
  // `-http-addr` alone also opens HTTPS on the fixed port 12112 (a clash between two runs), so HTTPS is
  // given an ephemeral loopback port; HTTP listens on loopback only.
  const peer = await startPortProcess({
    name: 'stripe-mock',
    command: binary,
    args: ['-http-addr', `127.0.0.1:${options.port}`, '-https-addr', '127.0.0.1:0'],
    port: options.port,
    portSetting: 'STRIPE_MOCK_PORT',
    startTimeoutMs: 15_000,
  });

  return {
    apiBase: `http://127.0.0.1:${options.port}`,
    stop: () => peer.stop(),
  };
}
