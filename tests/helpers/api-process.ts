/**
 * The real API (`main.ts --role api`) in a child process, so a test can kill it with SIGKILL in the middle
 * of a request and start it again on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_WEBHOOK_SECRET, type Harness } from './harness';

const root = path.resolve(__dirname, '..', '..');

export interface ApiProcess {
  url: string;
  output(): string;
  /** SIGKILL, and wait until it is gone */
  kill(): Promise<void>;
}

/** Starts the API on the harness's database and task queue; resolves once it answers `/healthz`. */
export async function startApiProcess(
  h: Harness,
  options: { port: number; temporalAddress: string; stripeApiBase: string },
): Promise<ApiProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'main.ts', '--role', 'api'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: String(options.port),
      DATABASE_URL: h.databaseUrl,
      DATABASE_POOL_SIZE: '5',
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_TASK_QUEUE: h.taskQueue,
      SMTP_URL: h.mail.smtpUrl,
      STRIPE_SECRET_KEY: 'sk_test_harness',
      STRIPE_API_BASE: options.stripeApiBase,
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      APP_SECRET: h.secret,
      TEMPORAL_PAYLOAD_KEY: h.payloadKey,
      LICENCE_KEYS_DIR: h.licenceKeysDir,
      LICENCE_ACTIVE_KEY_ID: 'test-1',
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${options.port}`;
  for (let i = 0; ; i += 1) {
    if (gone) throw new Error(`the API process exited during start-up:\n${output}`);
    // start-up applies the migrations first (a few seconds, more on a busy machine)
    if (i > 1200) {
      child.kill('SIGKILL');
      throw new Error(`the API process did not answer /healthz in 2 minutes:\n${output}`);
    }
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
