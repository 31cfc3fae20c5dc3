/**
 * The stack of a workflow test on the time-skipping server: the harness (PostgreSQL, SMTP, stripe-mock), the
 * app whose services start workflows there, and a worker running the real activities on its own task queue.
 * Days of timers pass with `env.sleep`.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../api/app';
import { startTimeSkippingServer } from '../../infra/embedded/temporal';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import type { ServiceDeps } from '../../services/deps';
import { createActivities } from '../../worker';
import {
  createHarness,
  installTestRuntime,
  workflowBundle,
  workerDeps,
  type Harness,
  type HarnessOptions,
} from './harness';

export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  h: Harness;
  app: Express;
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
  const services: ServiceDeps = { ...h.services, temporal: env.client, taskQueue };
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
  return {
    env,
    h,
    app,
    async close() {
      worker.shutdown();
      await running;
      await env.teardown();
      await h.close();
    },
  };
}
