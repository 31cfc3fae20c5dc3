/**
 * The real worker (`main.ts --role worker`) in a child process, so a test can kill it with SIGKILL at
 * any moment — a crash, not a graceful shutdown: in-flight activities never report back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../api/app';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../worker';
import { createHarness, TEST_WEBHOOK_SECRET, workerDeps, workflowBundle, type Harness } from './harness';

const root = path.resolve(__dirname, '..', '..');

export interface WorkerProcess {
  pid: number;
  /** what the process printed, for failure messages */
  output(): string;
  /** SIGKILL, and wait until it is gone */
  kill(): Promise<void>;
}

export interface WorkerProcessOptions {
  temporalAddress: string;
  taskQueue: string;
  stripeApiBase: string;
  /** extra environment (settings) */
  env?: Record<string, string>;
}

/** Starts a worker process on the harness's database, SMTP peer and licence keys; resolves once it polls. */
export async function startWorkerProcess(h: Harness, options: WorkerProcessOptions): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'main.ts', '--role', 'worker'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: h.databaseUrl,
      DATABASE_POOL_SIZE: '5',
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      SMTP_URL: h.mail.smtpUrl,
      STRIPE_SECRET_KEY: 'sk_test_harness',
      STRIPE_API_BASE: options.stripeApiBase,
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      APP_SECRET: h.secret,
      TEMPORAL_PAYLOAD_KEY: h.payloadKey,
      LICENCE_KEYS_DIR: h.licenceKeysDir,
      LICENCE_ACTIVE_KEY_ID: 'test-1',
      DUNNING_RETRY_DAYS: h.services.billing.dunningRetryDays.join(','),
      RENEWAL_REMINDER_DAYS: String(h.services.billing.renewalReminderDays),
      ...options.env,
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/task queue/.test(output)) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`the worker process exited during start-up:\n${output}`));
    });
  });

  return {
    pid: child.pid!,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A harness without its in-process worker: the app starts workflows on `taskQueue`, served by a worker
 * process the test may kill; Stripe requests of both go to `stripeApiBase` (a recorder in front of stripe-mock).
 */
export async function harnessWithWorkerProcess(
  stripeApiBase: string,
  taskQueue: string,
  /** settings of the worker process (e.g. a renewal notice longer than a month) */
  env: Record<string, string> = {},
): Promise<{ h: Harness; app: Express; child: WorkerProcess }> {
  const h = await createHarness({ stripeApiBase });
  await h.stopWorker();
  const app = createApp({
    services: { ...h.services, taskQueue },
    logger: pino({ level: 'silent' }),
    registrationsPerHour: 10_000,
    readiness: {},
  });
  const child = await startWorkerProcess(h, {
    temporalAddress: process.env.TEST_TEMPORAL_ADDRESS!,
    taskQueue,
    stripeApiBase,
    env,
  });
  return { h, app, child };
}

/** After the worker process was killed: a worker in this process takes its task queue over. */
export async function takeOverWorker(
  h: Harness,
  taskQueue: string,
): Promise<{ connection: NativeConnection; worker: Worker; running: Promise<void> }> {
  const connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue,
    dataConverter: h.dataConverter,
    workflowBundle: await workflowBundle(),
    activities: createActivities(workerDeps(h)),
  });
  return { connection, worker, running: worker.run() };
}
