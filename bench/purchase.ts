/**
 * `npm run bench:purchase`: a card purchase end to end, next to the raw Temporal figure, written to its
 * section of docs/benchmarks.md.
 *
 * The service runs as `npm start` runs it (`main.ts`: API and worker in one process, Temporal dev server,
 * stripe-mock, mail catcher), over a durable PostgreSQL. Each purchase, with BENCH_CONCURRENCY of them
 * under way at once:
 *   1. `POST /bases/{id}/subscriptions` (card): the API starts the subscription workflow, whose activity
 *      creates the PaymentIntent on stripe-mock, and answers with what the ERP needs to pay (an update);
 *   2. the `payment_intent.succeeded` webhook, signed like Stripe signs it, `POST /webhooks/stripe`: the
 *      API records the event and signals the workflow;
 *   3. the workflow activates the licence (payment, invoice with its PDF, licence row, mail): done when the
 *      licence reads ACTIVE in the database (polled every 10 ms).
 * The raw figure: a minimal workflow with one activity (`bench/raw-workflow.ts`), started and awaited the
 * same way with the same concurrency, on the same dev server, by a worker in this process.
 *
 * Settings: BENCH_PURCHASES (200), BENCH_CONCURRENCY (10), BENCH_RAW (1000 workflows).
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import {
  log,
  loadNow,
  machineLine,
  num,
  registerBases,
  startService,
  waitForQuietMachine,
  writeSection,
  type BenchBase,
} from './common';
import { inParallel, ms, orderLicence, round, sendPaymentSucceeded } from './card-purchase';
import { Histogram } from './histogram';

const settings = {
  purchases: num('BENCH_PURCHASES', 200),
  concurrency: num('BENCH_CONCURRENCY', 10),
  raw: num('BENCH_RAW', 1000),
};

/** Resolves when each base's licence reads ACTIVE (one query for all the waiting bases every 10 ms). */
function activationWatcher(pool: Pool) {
  const waiting = new Map<string, () => void>();
  let running = true;
  const loop = (async () => {
    while (running) {
      if (waiting.size) {
        const r = await pool.query<{ baseId: string }>(
          `SELECT "baseId" FROM "Licence" WHERE status = 'ACTIVE' AND "baseId" = ANY($1)`,
          [[...waiting.keys()]],
        );
        for (const { baseId } of r.rows) {
          waiting.get(baseId)?.();
          waiting.delete(baseId);
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    active: (baseId: string) => new Promise<void>((resolve) => waiting.set(baseId, resolve)),
    stop: async () => {
      running = false;
      await loop;
    },
  };
}


async function main() {
  const quiet = await waitForQuietMachine();
  const loadBefore = loadNow();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const service = await startService({ role: 'all' });
  const pool = new Pool({ connectionString: service.databaseUrl, max: 4 });
  const watcher = activationWatcher(pool);
  const connection = await Connection.connect({ address: service.temporalAddress });
  const client = new Client({ connection });
  try {
    log(`registering ${settings.purchases + 20} bases`);
    const bases = await registerBases(
      service.apiUrl,
      settings.purchases + 20,
      `4${String(Date.now() % 1e6).padStart(6, '0')}`,
    );
    const steps = {
      order: new Histogram(),
      webhook: new Histogram(),
      activation: new Histogram(),
      total: new Histogram(),
    };
    let failures = 0;
    const purchase = async (base: BenchBase, record: boolean) => {
      const t0 = process.hrtime.bigint();
      const { status, order } = await orderLicence(service.apiUrl, base);
      if (status !== 201) {
        failures += 1;
        log(`purchase of ${base.baseId}: ${status} ${JSON.stringify(order)}`);
        return;
      }
      const t1 = process.hrtime.bigint();
      const activated = watcher.active(base.baseId);
      const hookStatus = await sendPaymentSucceeded(service.apiUrl, base, order, service.webhookSecret);
      if (hookStatus !== 200) {
        failures += 1;
        log(`webhook for ${base.baseId}: ${hookStatus}`);
        return;
      }
      const t2 = process.hrtime.bigint();
      await activated;
      const t3 = process.hrtime.bigint();
      if (!record) return;
      steps.order.record(ms(t0, t1));
      steps.webhook.record(ms(t1, t2));
      steps.activation.record(ms(t2, t3));
      steps.total.record(ms(t0, t3));
    };
    log('warm-up: 20 purchases');
    await inParallel(bases.slice(0, 20), settings.concurrency, (b) => purchase(b, false));
    log(`${settings.purchases} purchases, ${settings.concurrency} at once`);
    const purchaseSeconds = await inParallel(bases.slice(20), settings.concurrency, (b) => purchase(b, true));

    log(`raw: ${settings.raw} one-activity workflows, ${settings.concurrency} at once`);
    const nativeConnection = await NativeConnection.connect({ address: service.temporalAddress });
    const taskQueue = `bench-raw-${Date.now()}`;
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./raw-workflow'),
      activities: { echo: async (value: string) => value },
    });
    const raw = new Histogram();
    const rawSeconds = await worker.runUntil(async () => {
      const ids = Array.from({ length: settings.raw + 50 }, (_, i) => `bench-raw-${taskQueue}-${i}`);
      await inParallel(ids.slice(0, 50), settings.concurrency, async (id) => {
        await client.workflow.execute('rawWorkflow', { taskQueue, workflowId: id, args: [id] });
      });
      return inParallel(ids.slice(50), settings.concurrency, async (id) => {
        const t0 = process.hrtime.bigint();
        await client.workflow.execute('rawWorkflow', { taskQueue, workflowId: id, args: [id] });
        raw.record(ms(t0, process.hrtime.bigint()));
      });
    });
    await nativeConnection.close();

    const purchasesPerSecond = steps.total.count / purchaseSeconds;
    const rawPerSecond = raw.count / rawSeconds;
    const ratio = Math.round((purchasesPerSecond / rawPerSecond) * 1000) / 10;
    const row = (name: string, h: Histogram) =>
      `| ${name} | ${round(h.percentile(50))} | ${round(h.percentile(99))} |`;
    writeSection(
      'purchase',
      [
        `_Written by \`npm run bench:purchase\` on ${new Date().toISOString()}._`,
        '',
        machineLine(),
        `Load average (1/5/15 min) before: ${loadBefore}${quiet.quiet ? '' : ' (busy: other work shared the CPUs)'}; after: ${loadNow()}.`,
        `Service: ${service.description}, with the Temporal dev server (SQLite), stripe-mock and the mail catcher it starts; the load generator and the raw worker run on the same 2 CPUs.`,
        `${settings.purchases} card purchases (after 20 for warm-up), ${settings.concurrency} under way at once; ${failures} failed.`,
        '',
        '| | completed/s | p50 ms | p99 ms |',
        '|---|---:|---:|---:|',
        `| purchase end to end (order → signed webhook → licence ACTIVE) | ${round(purchasesPerSecond)} | ${round(steps.total.percentile(50))} | ${round(steps.total.percentile(99))} |`,
        `| raw Temporal: one-activity workflow, \`execute\` (${settings.raw}, same concurrency, same server) | ${round(rawPerSecond)} | ${round(raw.percentile(50))} | ${round(raw.percentile(99))} |`,
        '',
        'Where a purchase spends its time:',
        '',
        '| step | p50 ms | p99 ms |',
        '|---|---:|---:|',
        row(
          'order: `POST /bases/{id}/subscriptions` (workflow start, PaymentIntent activity on stripe-mock, update answered)',
          steps.order,
        ),
        row('webhook: `POST /webhooks/stripe` (signature, event recorded, signal)', steps.webhook),
        row(
          'activation: signal → licence ACTIVE in the database (payment, invoice + PDF, licence, mail)',
          steps.activation,
        ),
        '',
        `Purchases per second are **${ratio} %** of the raw workflow figure (target ≥ 50 %: **${ratio >= 50 ? 'met' : 'not met'}**).`,
      ].join('\n'),
    );
  } finally {
    await watcher.stop();
    await pool.end();
    await connection.close();
    await service.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
