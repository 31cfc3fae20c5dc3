/**
 * stripe-mock, Stripe's official mock API server, run by the project: the development default when no
 * STRIPE_SECRET_KEY is given, and the Stripe of the integration tests. It validates every request
 * against Stripe's OpenAPI spec and answers with fixtures; it keeps no state (no declines, no webhooks).
 */
import { spawn } from 'node:child_process';
import { locateStripeMock } from './binaries';
import { isPortOpen, waitForPort } from './ports';

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
  // an older stripe-mock on that port would answer our health check and hide a failed start
  if (await isPortOpen(options.port)) {
    throw new Error(`port ${options.port} is already in use (STRIPE_MOCK_PORT chooses another)`);
  }

  // `-http-addr` alone also opens HTTPS on the fixed port 12112 (a clash between two runs), so HTTPS is
  // given an ephemeral loopback port; HTTP listens on loopback only.
  const child = spawn(binary, ['-http-addr', `127.0.0.1:${options.port}`, '-https-addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`stripe-mock exited (${signal ?? code}) while starting: ${output.trim()}`)),
    );
    child.once('error', reject);
  });
  exited.catch(() => {}); // after a good start, an exit is stop()'s business
  try {
    await Promise.race([waitForPort(options.port, '127.0.0.1', 15_000), exited]);
  } catch (error) {
    killOnExit();
    process.off('exit', killOnExit);
    throw error;
  }

  return {
    apiBase: `http://127.0.0.1:${options.port}`,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
