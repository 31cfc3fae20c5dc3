/**
 * The stack of a workflow test on the time-skipping server: the harness (PostgreSQL, SMTP, stripe-mock), the
 * app whose services start workflows there, and a worker running the real activities on its own task queue.
 * Days of timers pass with `env.sleep`. With `stripe: 'localstripe'` the app listens on a port of its own
 * (`url`), where localstripe's webhooks and the payment links go. `workerDeps` gives the worker settings of
 * its own (e.g. billing settings a test changes while workflows run); `activities` replaces some of the real
 * activities, at the activity boundary, to reach failure paths a real peer can't produce (a declined card).
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
import { createActivities, type WorkerDeps } from '../../worker';
import {
  createHarness,
  installTestRuntime,
  TEST_WEBHOOK_SECRET,
  workflowBundle,
  workerDeps,
  type Harness,
  type HarnessOptions,
} from './harness';

export type Activities = ReturnType<typeof createActivities>;

export interface TimeSkippingOptions extends HarnessOptions {
  /** the worker's deps instead of the harness's (`workerDeps(h)`), e.g. a billing policy of its own */
  workerDeps?: (h: Harness) => Partial<WorkerDeps>;
  /** activities that replace the real ones (given), the only place a workflow test stubs */
  activities?: (real: Activities) => Partial<Activities>;
}

export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  h: Harness;
  app: Express;
  /** the app's services: the time-skipping server's client, the worker's task queue */
  services: ServiceDeps;
  /** with localstripe: where the app listens */
  url?: string;
  close(): Promise<void>;
}

export async function startTimeSkippingStack(
  name: string,
  options: TimeSkippingOptions = {},
): Promise<TimeSkippingStack> {
  const { workerDeps: depsOf, activities: replace, ...harnessOptions } = options;
  installTestRuntime();
  const h = await createHarness(harnessOptions);
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
  const real = createActivities(workerDeps(h, depsOf?.(h)));
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: { ...real, ...replace?.(real) },
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
    services,
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
