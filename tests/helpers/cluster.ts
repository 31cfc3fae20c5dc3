/**
 * The production shape for one test file (infra/embedded/cluster.ts): the real Temporal server on the run's
 * PostgreSQL (its own two databases), 2 API processes behind a front, 2 worker processes, all on the harness's
 * database (cloned from the migrated template), SMTP peer and licence keys, and a Temporal client of that server.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { startCluster, type Cluster } from '../../infra/embedded/cluster';
import { freePort } from '../../infra/embedded/ports';
import { TEST_WEBHOOK_SECRET, type Harness } from './harness';

export interface TestCluster extends Cluster {
  client: Client;
  taskQueue: string;
  close(): Promise<void>;
}

export async function startTestCluster(
  h: Harness,
  options: { stripeApiBase: string; env?: Record<string, string> },
): Promise<TestCluster> {
  const admin = new URL(process.env.TEST_PG_ADMIN_URL!);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'licensing-cluster-'));
  const taskQueue = `cluster-${crypto.randomBytes(4).toString('hex')}`;
  const cluster = await startCluster({
    temporal: {
      postgres: {
        host: admin.hostname,
        port: Number(admin.port),
        user: decodeURIComponent(admin.username),
        password: decodeURIComponent(admin.password),
      },
      databasePrefix: `temporal_${crypto.randomBytes(4).toString('hex')}`,
      port: await freePort(),
      dir,
      searchAttributes: PROJECT_SEARCH_ATTRIBUTES,
    },
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: h.databaseUrl,
      DATABASE_POOL_SIZE: '5',
      TEMPORAL_TASK_QUEUE: taskQueue,
      SMTP_URL: h.mail.smtpUrl,
      STRIPE_SECRET_KEY: 'sk_test_harness',
      STRIPE_API_BASE: options.stripeApiBase,
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      APP_SECRET: h.secret,
      // the test's client reads the same encrypted payloads
      TEMPORAL_PAYLOAD_KEY: h.payloadKey,
      LICENCE_KEYS_DIR: h.licenceKeysDir,
      LICENCE_ACTIVE_KEY_ID: 'test-1',
      REGISTRATION_RATE_LIMIT_PER_HOUR: '10000',
      TRUST_PROXY_HOPS: '1',
      ...options.env,
    },
    apiPorts: [await freePort(), await freePort()],
    workers: 2,
    frontPort: 0,
  });
  const connection = await Connection.connect({ address: cluster.temporal.address });
  const client = new Client({
    connection,
    namespace: cluster.temporal.namespace,
    dataConverter: h.dataConverter,
  });
  return {
    ...cluster,
    client,
    taskQueue,
    async close() {
      await connection.close();
      await cluster.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JSON request to one of the cluster's URLs (an API process or the front). */
export async function call(
  base: string,
  method: string,
  route: string,
  options: { apiKey?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      ...options.headers,
    },
    body: options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
