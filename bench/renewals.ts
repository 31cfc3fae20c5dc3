/**
 * `npm run bench:renewals`: a renewal wave — N monthly card subscriptions whose period ends at the same
 * instant — on the time-skipping Temporal server, written to its section of docs/benchmarks.md.
 *
 * For each size in BENCH_SUBSCRIPTIONS (default `1000,10000`), on a fresh time-skipping server and a fresh
 * worker process (`bench/renewal-worker.ts`: the real workflows and activities):
 *   1. N active licences (base, licence with billing details and a saved card) are written straight into
 *      a durable PostgreSQL — buying them through the API is not what is measured;
 *   2. N subscription workflows start with the state an activated licence has (period 0 ending tomorrow,
 *      paid through period 0, auto-renew on): each waits on its end-of-period timer;
 *   3. once the worker is idle, the server skips two days ahead: every timer fires at once. Each renewal
 *      quotes, charges the saved card off-session (stripe-mock behind a small proxy that makes the
 *      PaymentIntent answer `succeeded`, which stripe-mock can't), records payment + invoice + the new
 *      period, mails the customer (an SMTP peer that drops the messages), and continues as new;
 *   4. measured: wall time from the skip until N renewal payments are in the database, and the worker
 *      process's peak resident memory (VmHWM from /proc, and VmRSS sampled every second).
 * Nothing is stubbed in our code.
 *
 * Settings: BENCH_SUBSCRIPTIONS (`1000,10000`), BENCH_RENEWAL_TIMEOUT (seconds per size, 900),
 * BENCH_WORKER_POOL (the worker's DATABASE_POOL_SIZE, 10), BENCH_MAX_CACHED_WORKFLOWS (the worker's
 * WORKER_MAX_CACHED_WORKFLOWS; its default, 100, when unset), BENCH_WORKER_HEAP_MIB (the worker's V8
 * old-space limit, `--max-old-space-size`; Node's default when unset).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Pool } from 'pg';
import { startTimeSkippingServer } from '../infra/embedded/temporal';
import { PROJECT_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { freePort } from '../infra/embedded/ports';
import { startEmbeddedPostgres } from '../infra/embedded/postgres';
import { startStripeMock } from '../infra/embedded/stripe-mock';
import { generateLicenceKey } from '../infra/licence-keys';
import { migrateDatabase } from '../infra/migrate';
import { dayOf } from '../domain/licence';
import { addDays, nthPeriod, parseLocalDate } from '../domain/periods';
import { subscriptionWorkflowId } from '../workflows/ids';
import { subscriptionWorkflow, type SubscriptionState } from '../workflows/subscription';
import {
  log,
  loadNow,
  machineLine,
  num,
  ROOT,
  startSmtpSink,
  waitForQuietMachine,
  writeSection,
} from './common';
import { memoryOf, startSucceedingStripe } from './card-purchase';

const sizes = (process.env.BENCH_SUBSCRIPTIONS ?? '1000,10000').split(',').map(Number);
const timeoutSeconds = num('BENCH_RENEWAL_TIMEOUT', 900);

const billing = {
  companyName: 'Boulangerie Dupont',
  lastName: 'Dupont',
  firstName: 'Jean',
  address: '1 rue de la Paix',
  postalCode: '75001',
  city: 'Paris',
  country: 'FRA',
  email: 'compta@dupont.example.fr',
};

function cpuTicksOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

interface WaveResult {
  size: number;
  startSeconds: number;
  waveSeconds: number;
  renewed: number;
  mails: number;
  peakRssMiB: number;
  hwmMiB: number;
  idleRssMiB: number;
  timedOut: boolean;
}

/** Time-skipping servers of the waves: torn down at the very end (a pending clock move retries until then). */
const servers: { teardown(): Promise<void> }[] = [];

async function wave(
  size: number,
  ctx: {
    pool: Pool;
    databaseUrl: string;
    stripeUrl: string;
    keysDir: string;
  },
): Promise<WaveResult> {
  log(`wave of ${size}: time-skipping server, worker process`);
  const env = await startTimeSkippingServer({ searchAttributes: PROJECT_SEARCH_ATTRIBUTES });
  servers.push(env);
  const smtp = await startSmtpSink();
  const taskQueue = `bench-renewals-${size}-${Date.now()}`;
  const workerEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'development',
    DATABASE_URL: ctx.databaseUrl,
    DATABASE_POOL_SIZE: String(num('BENCH_WORKER_POOL', 10)),
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: smtp.url,
    STRIPE_SECRET_KEY: 'sk_test_bench',
    STRIPE_API_BASE: ctx.stripeUrl,
    STRIPE_WEBHOOK_SECRET: 'whsec_bench_0123456789abcdef',
    APP_SECRET: crypto.randomBytes(32).toString('hex'),
    // required by the configuration; the bench's worker talks to the time-skipping server's plain client
    TEMPORAL_PAYLOAD_KEY: crypto.randomBytes(32).toString('hex'),
    LICENCE_KEYS_DIR: ctx.keysDir,
    LICENCE_ACTIVE_KEY_ID: 'bench-1',
    ...(process.env.BENCH_MAX_CACHED_WORKFLOWS
      ? { WORKER_MAX_CACHED_WORKFLOWS: process.env.BENCH_MAX_CACHED_WORKFLOWS }
      : {}),
  };
  // BENCH_WORKER_HEAP_MIB: the worker's V8 old-space limit, as a container's memory limit would set it
  const heap = process.env.BENCH_WORKER_HEAP_MIB
    ? [`--max-old-space-size=${process.env.BENCH_WORKER_HEAP_MIB}`]
    : [];
  const child = spawn(
    process.execPath,
    [...heap, '--import', 'tsx', path.join(ROOT, 'bench', 'renewal-worker.ts')],
    {
      cwd: ROOT,
      env: workerEnv,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('worker ready')) resolve();
    });
    void exited.then(() => reject(new Error('the worker process exited during start-up')));
  });
  let peakRss = 0;
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, memoryOf(child.pid!).rssMiB);
    } catch {
      // the process is gone
    }
  }, 1000);

  try {
    // period 0 ends tomorrow, for every subscription (the time-skipping server starts at the real clock)
    const tomorrow = addDays(dayOf(Date.now()), 1);
    const [y, m, d] = tomorrow.split('-').map(Number) as [number, number, number];
    const anchorDate = parseLocalDate(new Date(Date.UTC(y, m - 2, d)).toISOString().slice(0, 10));
    const period0 = nthPeriod(anchorDate, 'MONTHLY', 0);
    if (period0.end !== tomorrow)
      throw new Error(`period 0 from ${anchorDate} ends ${period0.end}, not ${tomorrow}`);

    const prefix = `3${String(Date.now() % 1e6).padStart(6, '0')}`;
    const subs = Array.from({ length: size }, (_, i) => ({
      baseId: `${prefix}${String(i + 1).padStart(10, '0')}`,
      licenceId: crypto.randomUUID(),
    }));
    log(`writing ${size} active licences`);
    for (let i = 0; i < subs.length; i += 2000) {
      const chunk = subs.slice(i, i + 2000);
      await ctx.pool.query(`INSERT INTO "Base" (id) SELECT unnest($1::text[])`, [chunk.map((s) => s.baseId)]);
      await ctx.pool.query(
        `INSERT INTO "Licence" (id, "baseId", version, edition, mode, connections, period, status, "anchorDate",
           "periodStart", "periodEnd", "autoRenew", "paymentMethod", "holderName", billing, "stripeCustomerId",
           "stripePaymentMethodId", "workflowId", "updatedAt")
         SELECT l, b, 'A1', 'ENTERPRISE', 'LOCAL', 3, 'MONTHLY', 'ACTIVE', $3, $4, $5, true, 'ONLINE',
           'Boulangerie Dupont', $6::jsonb, 'cus_bench', 'pm_card_visa', 'subscription:' || b, now()
         FROM unnest($1::uuid[], $2::text[]) AS t(l, b)`,
        [
          chunk.map((s) => s.licenceId),
          chunk.map((s) => s.baseId),
          anchorDate,
          period0.start,
          period0.end,
          JSON.stringify(billing),
        ],
      );
    }

    log(`starting ${size} subscription workflows`);
    const client = env.client;
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < subs.length) {
          const s = subs[next++]!;
          const state: SubscriptionState = {
            baseId: s.baseId,
            licenceId: s.licenceId,
            terms: { edition: 'ENTERPRISE', mode: 'LOCAL', connections: 3, period: 'MONTHLY' },
            paymentMethod: 'ONLINE',
            autoRenew: true,
            status: 'ACTIVE',
            anchorDate,
            periodIndex: 0,
            paidThroughIndex: 0,
            customerId: 'cus_bench',
            paymentMethodId: 'pm_card_visa',
          };
          await client.workflow.start(subscriptionWorkflow, {
            workflowId: subscriptionWorkflowId(s.baseId),
            taskQueue,
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
            args: [{ state }],
          });
        }
      }),
    );
    // every workflow has run its first task once the worker stops using CPU (3 quiet seconds)
    let ticks = cpuTicksOf(child.pid!);
    for (let quiet = 0; quiet < 3;) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = cpuTicksOf(child.pid!);
      quiet = now - ticks <= 5 ? quiet + 1 : 0;
      ticks = now;
    }
    const startSeconds = (Date.now() - started) / 1000;
    const idleRssMiB = memoryOf(child.pid!).rssMiB;

    log(`all waiting (${startSeconds.toFixed(1)} s, worker RSS ${idleRssMiB} MiB): skipping two days`);
    const renewedCount = async () =>
      (
        await ctx.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "Payment" WHERE status = 'SUCCEEDED' AND "baseId" LIKE $1 AND "idempotencyKey" LIKE 'renewal:%'`,
          [`${prefix}%`],
        )
      ).rows[0]!.n;
    const t0 = Date.now();
    // the server moves its clock two days on (it resolves only once that virtual time has passed, which the
    // wave's own work holds back): the renewals are counted meanwhile
    const skipped = env.sleep('2 days');
    let renewed = 0;
    let lastLog = 0;
    while (renewed < size && Date.now() - t0 < timeoutSeconds * 1000) {
      await new Promise((r) => setTimeout(r, 500));
      renewed = await renewedCount();
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`${renewed}/${size} renewed after ${Math.round((Date.now() - t0) / 1000)} s`);
      }
    }
    const waveSeconds = (Date.now() - t0) / 1000;
    void skipped.catch(() => undefined);
    const { hwmMiB } = memoryOf(child.pid!);
    peakRss = Math.max(peakRss, memoryOf(child.pid!).rssMiB);
    return {
      size,
      startSeconds,
      waveSeconds,
      renewed,
      mails: smtp.received(),
      peakRssMiB: peakRss,
      hwmMiB,
      idleRssMiB,
      timedOut: renewed < size,
    };
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(killer);
    await smtp.stop();
  }
}

async function main() {
  const quiet = await waitForQuietMachine();
  const loadBefore = loadNow();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-renewals-'));
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(varDir, 'postgres'),
    port: await freePort(),
    persistent: true,
  });
  await pg.createDatabase('bench');
  const databaseUrl = pg.urlFor('bench');
  await migrateDatabase(databaseUrl);
  const stripeMock = await startStripeMock({ port: await freePort() });
  const stripe = await startSucceedingStripe(stripeMock.apiBase);
  const keysDir = path.join(varDir, 'keys');
  generateLicenceKey(keysDir, 'bench-1');
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  const results: WaveResult[] = [];
  try {
    for (const size of sizes) {
      results.push(await wave(size, { pool, databaseUrl, stripeUrl: stripe.url, keysDir }));
      log(JSON.stringify(results.at(-1)));
    }
  } finally {
    await pool.end();
    await stripe.stop();
    await stripeMock.stop();
    await pg.stop();
    fs.rmSync(varDir, { recursive: true, force: true });
  }
  // a clock move still pending on a server retries on its closed channel once the server is gone: the
  // servers go last, and the process ends with them
  process.on('uncaughtException', (error) => {
    if (!/Channel has been shut down/.test(error.message)) throw error;
  });
  for (const server of servers) await server.teardown().catch(() => undefined);
  const met = (r: WaveResult) => !r.timedOut && r.waveSeconds <= 300 && r.hwmMiB <= 1024;
  writeSection(
    'renewals',
    [
      `_Written by \`npm run bench:renewals\` on ${new Date().toISOString()}._`,
      '',
      machineLine(),
      `Load average (1/5/15 min) before: ${loadBefore}${quiet.quiet ? '' : ' (busy: other work shared the CPUs)'}; after: ${loadNow()}.`,
      `Set-up: the time-skipping Temporal server (Java), one worker process (\`bench/renewal-worker.ts\`: the real workflows and activities, pool ${num('BENCH_WORKER_POOL', 10)}, workflow cache ${process.env.BENCH_MAX_CACHED_WORKFLOWS ?? 'WORKER_MAX_CACHED_WORKFLOWS default, 100'}, V8 old space ${process.env.BENCH_WORKER_HEAP_MIB ? `${process.env.BENCH_WORKER_HEAP_MIB} MiB` : 'the default limit'}),` +
        ' embedded PostgreSQL (durable: fsync on), stripe-mock behind a proxy that makes PaymentIntents succeed, an SMTP peer that drops mails. Monthly card subscriptions whose period ends at the same instant; the server skips past it at once.',
      '',
      '| subscriptions | workflows started and waiting (s) | wave: until all renewed (s) | renewed | renewals/s | mails sent | worker RSS while waiting (MiB) | worker peak RSS, sampled (MiB) | worker VmHWM (MiB) | target ≤ 300 s, ≤ 1,024 MiB |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      ...results.map(
        (r) =>
          `| ${r.size} | ${r.startSeconds.toFixed(1)} | ${r.waveSeconds.toFixed(1)}${r.timedOut ? ' (timed out)' : ''} | ${r.renewed} | ${(r.renewed / r.waveSeconds).toFixed(1)} | ${r.mails} | ${r.idleRssMiB} | ${r.peakRssMiB} | ${r.hwmMiB} | ${met(r) ? 'met' : 'not met'} |`,
      ),
    ].join('\n'),
  );
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
