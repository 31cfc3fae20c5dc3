/**
 * The stack of a workflow test on the time-skipping server: the harness (PostgreSQL, SMTP, stripe-mock), the
 * app whose services start workflows there, and a worker running the real activities on its own task queue.
 * Days of timers pass with `env.sleep`. With `stripe: 'localstripe'` the app listens on a port of its own
 * (`url`), where localstripe's webhooks and the payment links go.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Server } from 'node:http';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../api/app';
import { freePort } from '../../infra/embedded/ports';
import { startTimeSkippingServer } from '../../infra/embedded/temporal';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import type { ServiceDeps } from '../../services/deps';
import { createActivities } from '../../worker';
import {
  createHarness,
  installTestRuntime,
  TEST_WEBHOOK_SECRET,
  workflowBundle,
  workerDeps,
  type Harness,
  type HarnessOptions,
} from './harness';

export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  h: Harness;
  app: Express;
  /** with localstripe: where the app listens */
  url?: string;
  close(): Promise<void>;
}

export async function startTimeSkippingStack(
  name: string,
  options: HarnessOptions = {},
): Promise<TimeSkippingStack> {
  installTestRuntime();
  const h = await createHarness(options);
  const env = await startTimeSkippingServer({ searchAttributes: PROJECT_SEARCH_ATTRIBUTES });
  const taskQueue = `${name}-${Date.now()}`;
  const port = h.localstripe ? await freePort() : undefined;
  const url = port ? `http://127.0.0.1:${port}` : undefined;
  const services: ServiceDeps = {
    ...h.services,
    temporal: env.client,
    taskQueue,
    ...(url && h.services.paymentPage ? { paymentPage: { ...h.services.paymentPage, publicUrl: url } } : {}),
  };
  const app = createApp({
    services,
    logger: pino({ level: 'silent' }),
    registrationsPerHour: 10_000,
    readiness: {},
  });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(workerDeps(h)),
  });
  const running = worker.run();
  let server: Server | undefined;
  if (port && url && h.localstripe) {
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s));
    });
    // one registration per id: the webhooks now reach this app (and its time-skipping server)
    await h.localstripe.registerWebhook(`${url}/webhooks/stripe`, TEST_WEBHOOK_SECRET);
  }
  return {
    env,
    h,
    app,
    ...(url ? { url } : {}),
    async close() {
      worker.shutdown();
      await running;
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      await env.teardown();
      await h.close();
    },
  };
}
