/**
 * `npm run bench:cluster`: the production shape measured, on the real Temporal server (PostgreSQL persistence,
 * SQL visibility) and, in the same run, on the development server (SQLite), written to its section of
 * docs/benchmarks.md.
 *
 * For each server, the same topology as `npm run cluster` (infra/embedded/cluster.ts): 2 API processes behind
 * one front port, 2 worker processes, a durable embedded PostgreSQL shared by the service and the real server,
 * stripe-mock behind a proxy that makes PaymentIntents succeed (renewals charge off-session), an SMTP peer that
 * drops mails. Measured, BENCH_CONCURRENCY (10) under way at once:
 *   1. raw Temporal: a one-activity workflow (bench/raw-workflow.ts), a worker in this process (BENCH_RAW, 300);
 *   2. purchase end to end through the front (order → signed webhook → licence ACTIVE; BENCH_PURCHASES, 100);
 *   3. a renewal wave: every purchased licence renewed at once through "renew now" (the same charge as the
 *      period's end: quote, off-session charge, payment + invoice in one transaction, mail), answered when
 *      recorded. A period-end wave on a real server would wait for real days: the time-skipping wave stays
 *      `npm run bench:renewals`.
 * Then, on the real server's cluster only (no Temporal on those paths), each beside its baseline in the same run:
 *   4. session opens, closed loop through the front (BENCH_HTTP_CONNECTIONS 20, BENCH_HTTP_SECONDS 10), beside
 *      pgbench's TPC-B on the same PostgreSQL (same clients, same seconds);
 *   5. the licence check `GET /bases/{id}/licence` through the front, beside an Express hello-world route in the
 *      same layout (2 processes behind the same front).
 * And the workers' resident memory at the end (VmRSS, VmHWM).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { PROJECT_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { TEMPORAL_SERVER_VERSION } from '../infra/embedded/binaries';
import { startCluster, startFront, type Cluster, type ClusterTemporal } from '../infra/embedded/cluster';
import { freePort, waitForPort } from '../infra/embedded/ports';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../infra/embedded/postgres';
import { startStripeMock } from '../infra/embedded/stripe-mock';
import { startTemporalDevServer } from '../infra/embedded/temporal';
import { startTemporalServer } from '../infra/embedded/temporal-server';
import { generateLicenceKey } from '../infra/licence-keys';
import { migrateDatabase } from '../infra/migrate';
import { encryptedDataConverter } from '../infra/payload-codec';
import {
  log,
  loadNow,
  machineLine,
  num,
  registerBases,
  ROOT,
  startSmtpSink,
  waitForQuietMachine,
  writeSection,
  type BenchBase,
} from './common';
import {
  inParallel,
  memoryOf,
  ms,
  orderLicence,
  round,
  sendPaymentSucceeded,
  startSucceedingStripe,
} from './card-purchase';
import { Histogram } from './histogram';

const PAYLOAD_KEY = crypto.randomBytes(32).toString('hex');

const settings = {
  raw: num('BENCH_RAW', 300),
  purchases: num('BENCH_PURCHASES', 100),
  concurrency: num('BENCH_CONCURRENCY', 10),
  httpConnections: num('BENCH_HTTP_CONNECTIONS', 20),
  httpSeconds: num('BENCH_HTTP_SECONDS', 10),
  sessionBases: num('BENCH_SESSION_BASES', 500),
  rounds: num('BENCH_ROUNDS', 3),
};
const WEBHOOK_SECRET = 'whsec_bench_0123456789abcdef';
const PGBENCH = process.env.PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench';

interface TemporalFigures {
  server: string;
  raw: { perSecond: number; p50: number; p99: number };
  purchase: { perSecond: number; p50: number; p99: number; failed: number };
  renewal: { perSecond: number; p50: number; p99: number; failed: number };
  workers: { rssMiB: number; hwmMiB: number }[];
}

/** Raw workflows, purchases and the renewal wave on one cluster. */
async function temporalFigures(server: string, cluster: Cluster, pool: Pool): Promise<TemporalFigures> {
  const front = cluster.front.url;
  const connection = await Connection.connect({ address: cluster.temporal.address });
  // the service processes encrypt their payloads with this key; the raw workflow's worker does too, so that
  // the ratios compare like with like
  const dataConverter = await encryptedDataConverter(PAYLOAD_KEY);
  const client = new Client({ connection, namespace: cluster.temporal.namespace, dataConverter });
  try {
    // 1. raw: a worker in this process
    const nativeConnection = await NativeConnection.connect({ address: cluster.temporal.address });
    const taskQueue = `bench-raw-${Date.now()}`;
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: cluster.temporal.namespace,
      taskQueue,
      dataConverter,
      workflowsPath: require.resolve('./raw-workflow'),
      activities: { echo: async (value: string) => value },
    });
    const raw = new Histogram();
    const runningRaw = worker.run();
    const rawIds = Array.from({ length: settings.raw + 30 }, (_, i) => `bench-raw-${taskQueue}-${i}`);
    const runRaw = (id: string, record: boolean) => async () => {
      const t0 = process.hrtime.bigint();
      await client.workflow.execute('rawWorkflow', { taskQueue, workflowId: id, args: [id] });
      if (record) raw.record(ms(t0, process.hrtime.bigint()));
    };

    // 2. purchases through the front
    log(`${server}: ${settings.purchases} purchases through the front`);
    const bases = await registerBases(
      front,
      settings.purchases + 10,
      `${server === 'real' ? 5 : 6}${String(Date.now() % 1e6).padStart(6, '0')}`,
    );
    const purchase = new Histogram();
    let purchaseFailed = 0;
    const buy = async (base: BenchBase, record: boolean) => {
      const t0 = process.hrtime.bigint();
      const { status, order } = await orderLicence(front, base);
      if (status !== 201 || (await sendPaymentSucceeded(front, base, order, WEBHOOK_SECRET)) !== 200) {
        purchaseFailed += 1;
        return;
      }
      for (;;) {
        const r = await pool.query(`SELECT 1 FROM "Licence" WHERE "baseId" = $1 AND status = 'ACTIVE'`, [
          base.baseId,
        ]);
        if (r.rowCount) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (record) purchase.record(ms(t0, process.hrtime.bigint()));
    };

    // 3. the renewal of a purchased licence, now
    const renewal = new Histogram();
    let renewalFailed = 0;
    const renew = async (base: BenchBase) => {
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${front}/bases/${base.baseId}/licence/renewals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${base.apiKey}`, 'content-type': 'application/json' },
      });
      await res.text();
      if (res.status !== 200) renewalFailed += 1;
      else renewal.record(ms(t0, process.hrtime.bigint()));
    };

    // warm-up, then BENCH_ROUNDS rounds of (raw, purchases, their renewals): on a machine whose load changes,
    // each figure and its reference are taken in alternation, under the same conditions
    await inParallel(rawIds.slice(0, 30), settings.concurrency, (id) => runRaw(id, false)());
    await inParallel(bases.slice(0, 10), settings.concurrency, (b) => buy(b, false));
    let rawSeconds = 0;
    let purchaseSeconds = 0;
    let renewalSeconds = 0;
    for (let round = 0; round < settings.rounds; round += 1) {
      const slice = <T>(items: T[]) => {
        const size = Math.ceil(items.length / settings.rounds);
        return items.slice(round * size, (round + 1) * size);
      };
      const roundBases = slice(bases.slice(10));
      log(`${server}: round ${round + 1}/${settings.rounds}: raw, purchases, renewals`);
      rawSeconds += await inParallel(slice(rawIds.slice(30)), settings.concurrency, (id) =>
        runRaw(id, true)(),
      );
      purchaseSeconds += await inParallel(roundBases, settings.concurrency, (b) => buy(b, true));
      renewalSeconds += await inParallel(roundBases, settings.concurrency, renew);
    }
    worker.shutdown();
    await runningRaw;
    await nativeConnection.close();

    return {
      server,
      raw: { perSecond: raw.count / rawSeconds, p50: raw.percentile(50), p99: raw.percentile(99) },
      purchase: {
        perSecond: purchase.count / purchaseSeconds,
        p50: purchase.percentile(50),
        p99: purchase.percentile(99),
        failed: purchaseFailed,
      },
      renewal: {
        perSecond: renewal.count / renewalSeconds,
        p50: renewal.percentile(50),
        p99: renewal.percentile(99),
        failed: renewalFailed,
      },
      workers: cluster.workers.map((w) => memoryOf(w.pid)),
    };
  } finally {
    await connection.close();
  }
}

interface Loop {
  count: number;
  seconds: number;
  p50: number;
  p99: number;
  errors: number;
}

async function closedLoop(
  url: string,
  requests: autocannon.Request[],
  count = (r: autocannon.Result) => r.requests.total,
): Promise<Loop> {
  await autocannon({ url, connections: settings.httpConnections, duration: 2, requests }); // warm-up
  const result = await autocannon({
    url,
    connections: settings.httpConnections,
    duration: settings.httpSeconds,
    requests,
  });
  return {
    count: count(result),
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    // connection errors and timeouts (a 409 of a full base is an answer)
    errors: result.errors + result.timeouts,
  };
}

/** Rounds of one closed loop, together: rate over all, the median p50, the worst p99. */
function combined(loops: Loop[]) {
  const p50s = loops.map((l) => l.p50).sort((a, b) => a - b);
  return {
    perSecond: Math.round(loops.reduce((n, l) => n + l.count, 0) / loops.reduce((n, l) => n + l.seconds, 0)),
    p50: p50s[Math.floor(p50s.length / 2)]!,
    p99: Math.max(...loops.map((l) => l.p99)),
    errors: loops.reduce((n, l) => n + l.errors, 0),
  };
}

/** pgbench's TPC-B on the same PostgreSQL: the ceiling of a small read-write transaction there. */
async function startPgbench(pg: EmbeddedPostgres) {
  const args = ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres'];
  const env = { ...process.env, PGPASSWORD: 'postgres' };
  const run = (extra: string[]) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(PGBENCH, [...args, ...extra], { env });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgbench failed: ${out}`))));
    });
  await pg.createDatabase('pgbench');
  await run(['-i', '-s', '10', '-q', 'pgbench']);
  return async (): Promise<{ tps: number; latencyMs: number }> => {
    const out = await run([
      '-c',
      String(settings.httpConnections),
      '-j',
      '2',
      '-T',
      String(settings.httpSeconds),
      '-M',
      'prepared',
      'pgbench',
    ]);
    return {
      tps: Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 0),
      latencyMs: Number(/latency average = ([\d.]+) ms/.exec(out)?.[1] ?? 0),
    };
  };
}

/** An Express hello-world route in 2 processes behind a front, as the API runs. */
async function helloWorld(): Promise<{ url: string; stop(): Promise<void> }> {
  const ports = [await freePort(), await freePort()];
  const children = ports.map((port) =>
    spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'hello-world.ts')], {
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
    }),
  );
  for (const port of ports) await waitForPort(port, '127.0.0.1', 60_000);
  const front = await startFront(0, () => ports.map((p) => `http://127.0.0.1:${p}`));
  return {
    url: front.url,
    async stop() {
      await front.stop();
      for (const child of children) child.kill('SIGTERM');
    },
  };
}

async function httpFigures(cluster: Cluster, pg: EmbeddedPostgres, pool: Pool) {
  log('sessions and licence check through the front, with their baselines');
  const bases = await registerBases(
    cluster.front.url,
    settings.sessionBases,
    `7${String(Date.now() % 1e6).padStart(6, '0')}`,
  );
  // paid licences, written directly: a fixture, the purchase path is measured above
  await pool.query(
    `INSERT INTO "Licence" (id, "baseId", version, edition, mode, connections, period, status, "holderName", "updatedAt")
     SELECT gen_random_uuid(), b, 'A1', 'ENTERPRISE', 'LOCAL', 3, 'ANNUAL', 'ACTIVE', 'Bench', now()
     FROM unnest($1::text[]) AS b`,
    [bases.map((b) => b.baseId)],
  );
  const pick = () => bases[Math.floor(Math.random() * bases.length)]!;
  let user = 0;
  const opens: autocannon.Request[] = [
    {
      method: 'POST',
      setupRequest: (req) => {
        const base = pick();
        user += 1;
        return {
          ...req,
          path: `/bases/${base.baseId}/sessions`,
          headers: { authorization: `Bearer ${base.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            userCode: `U${user % 1000}`,
            userName: `Utilisateur ${user}`,
            ip: '192.168.1.148',
            computerName: `POSTE-${user % 100}`,
          }),
        };
      },
    },
  ];
  // an admission decision is 201 (admitted) or 409 (the base is full): both are the work measured
  const decisions = (r: autocannon.Result) => {
    const stats = (r.statusCodeStats ?? {}) as Record<string, { count: number }>;
    return (stats['201']?.count ?? 0) + (stats['409']?.count ?? 0);
  };
  const checks: autocannon.Request[] = [
    {
      method: 'GET',
      setupRequest: (req) => {
        const base = pick();
        return {
          ...req,
          path: `/bases/${base.baseId}/licence`,
          headers: { authorization: `Bearer ${base.apiKey}` },
        };
      },
    },
  ];
  const pgbench = await startPgbench(pg);
  const hello = await helloWorld();
  // each figure and its baseline in alternation, BENCH_ROUNDS times: the same conditions on a busy machine
  const loops = { sessions: [] as Loop[], licence: [] as Loop[], hello: [] as Loop[] };
  const tpcbRounds: { tps: number; latencyMs: number }[] = [];
  try {
    for (let round = 0; round < settings.rounds; round += 1) {
      log(`HTTP round ${round + 1}/${settings.rounds}: sessions, pgbench, licence check, hello-world`);
      loops.sessions.push(await closedLoop(cluster.front.url, opens, decisions));
      tpcbRounds.push(await pgbench());
      loops.licence.push(await closedLoop(cluster.front.url, checks));
      loops.hello.push(await closedLoop(hello.url, [{ method: 'GET', path: '/hello' }]));
    }
  } finally {
    await hello.stop();
  }
  const mean = (values: number[]) =>
    Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10;
  const tpcb = {
    tps: Math.round(mean(tpcbRounds.map((r) => r.tps))),
    latencyMs: mean(tpcbRounds.map((r) => r.latencyMs)),
  };
  const sessions = combined(loops.sessions);
  const licence = combined(loops.licence);
  const helloFigure = combined(loops.hello);
  return { sessions, licence, tpcb, hello: helloFigure };
}

async function main() {
  const quiet = await waitForQuietMachine();
  const loadBefore = loadNow();
  const started = new Date();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-'));
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'postgres'),
    port: await freePort(),
    persistent: true,
  });
  const stripeMock = await startStripeMock({ port: await freePort(), log });
  const stripe = await startSucceedingStripe(stripeMock.apiBase);
  const smtp = await startSmtpSink();
  const keysDir = path.join(dir, 'licence-keys');
  generateLicenceKey(keysDir, 'bench-1');
  const results: TemporalFigures[] = [];
  let httpResults: Awaited<ReturnType<typeof httpFigures>> | undefined;
  try {
    for (const server of ['real', 'dev'] as const) {
      const database = `bench_${server}`;
      await pg.createDatabase(database);
      await migrateDatabase(pg.urlFor(database));
      let temporal: ClusterTemporal;
      if (server === 'real') {
        temporal = await startTemporalServer({
          postgres: { host: '127.0.0.1', port: pg.port, user: 'postgres', password: 'postgres' },
          databasePrefix: 'temporal_bench',
          port: await freePort(),
          dir: path.join(dir, 'temporal'),
          searchAttributes: PROJECT_SEARCH_ATTRIBUTES,
          log,
        });
      } else {
        const dev = await startTemporalDevServer({
          port: await freePort(),
          dbFilename: path.join(dir, 'temporal.db'),
          searchAttributes: PROJECT_SEARCH_ATTRIBUTES,
          log,
        });
        temporal = { address: dev.address, namespace: 'default', stop: () => dev.stop() };
      }
      const cluster = await startCluster({
        temporal: { running: temporal },
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_ENV: 'development',
          LOG_LEVEL: 'warn',
          DATABASE_URL: pg.urlFor(database),
          DATABASE_POOL_SIZE: '10',
          SMTP_URL: smtp.url,
          STRIPE_SECRET_KEY: 'sk_test_bench',
          STRIPE_API_BASE: stripe.url,
          STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
          APP_SECRET: crypto.randomBytes(32).toString('hex'),
          TEMPORAL_PAYLOAD_KEY: PAYLOAD_KEY,
          LICENCE_KEYS_DIR: keysDir,
          LICENCE_ACTIVE_KEY_ID: 'bench-1',
          REGISTRATION_RATE_LIMIT_PER_HOUR: '100000000',
          TRUST_PROXY_HOPS: '1',
        },
        apiPorts: [await freePort(), await freePort()],
        workers: 2,
        frontPort: 0,
        log,
      });
      const pool = new Pool({ connectionString: pg.urlFor(database), max: 4 });
      try {
        results.push(await temporalFigures(server, cluster, pool));
        if (server === 'real') httpResults = await httpFigures(cluster, pg, pool);
      } catch (error) {
        // what the service processes said, to tell a crash from a refusal
        for (const p of [...cluster.apis, ...cluster.workers])
          console.error(`--- ${p.name} (pid ${p.pid}):\n${p.output().slice(-3000)}`);
        throw error;
      } finally {
        await pool.end();
        await cluster.stop();
      }
    }
  } finally {
    await smtp.stop();
    await stripe.stop();
    await stripeMock.stop();
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  writeSection('cluster', render({ started, loadBefore, quiet: quiet.quiet, results, http: httpResults! }));
}

function render(data: {
  started: Date;
  loadBefore: string;
  quiet: boolean;
  results: TemporalFigures[];
  http: Awaited<ReturnType<typeof httpFigures>>;
}): string {
  const pct = (a: number, b: number) => Math.round((a / b) * 1000) / 10;
  const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
  const names: Record<string, string> = {
    real: `real server ${TEMPORAL_SERVER_VERSION} (PostgreSQL persistence, SQL visibility, 4 history shards)`,
    dev: 'development server (`temporal server start-dev`, SQLite file)',
  };
  const lines = [
    `_Written by \`npm run bench:cluster\` on ${new Date().toISOString()} (started ${data.started.toISOString()})._`,
    '',
    machineLine(),
    `Load average (1/5/15 min) before: ${data.loadBefore}${data.quiet ? '' : ' (**busy: other people’s test runs shared the 2 CPUs; figures are lower bounds, re-run on an idle machine**)'}; after: ${loadNow()}.`,
    `Topology per server: 2 API processes behind one front port, 2 worker processes (\`main.ts --role api|worker\`, pool 10 each), durable embedded PostgreSQL shared by the service and the real server; ${settings.concurrency} operations under way at once; after a warm-up (30 raw workflows, 10 purchases), ${settings.rounds} rounds of (raw workflows, purchases, the renewal of each licence just bought), ${settings.raw} raw workflows and ${settings.purchases} purchases and renewals in all: each figure and its reference taken in alternation, under the same load.`,
    '',
    '| server | raw one-activity workflow /s (p50, p99 ms) | purchase end to end /s (p50, p99 ms) | purchase ÷ raw (target ≥ 60 %) | renewal /s (p50, p99 ms) | renewal ÷ raw (target ≥ 100 %) | workers RSS / peak MiB |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of data.results) {
    const p = pct(r.purchase.perSecond, r.raw.perSecond);
    const w = pct(r.renewal.perSecond, r.raw.perSecond);
    lines.push(
      `| ${names[r.server]} | ${round(r.raw.perSecond)} (${round(r.raw.p50)}, ${round(r.raw.p99)}) | ${round(r.purchase.perSecond)} (${round(r.purchase.p50)}, ${round(r.purchase.p99)})${r.purchase.failed ? `, ${r.purchase.failed} failed` : ''} | ${p} % ${met(p >= 60)} | ${round(r.renewal.perSecond)} (${round(r.renewal.p50)}, ${round(r.renewal.p99)})${r.renewal.failed ? `, ${r.renewal.failed} failed` : ''} | ${w} % ${met(w >= 100)} | ${r.workers.map((m) => `${m.rssMiB} / ${m.hwmMiB}`).join(', ')} |`,
    );
  }
  const h = data.http;
  const s = pct(h.sessions.perSecond, h.tpcb.tps);
  const l = pct(h.licence.perSecond, h.hello.perSecond);
  lines.push(
    '',
    `Closed loops of ${settings.httpConnections} connections, ${settings.rounds} rounds of ${settings.httpSeconds} s each (after 2 s of warm-up), each figure alternating with its baseline (sessions, pgbench, licence check, hello-world), on the real server's cluster; p50 the median of the rounds, p99 the worst:`,
    '',
    '| figure | per second | p50 ms | p99 ms | errors | baseline | ratio | target |',
    '|---|---:|---:|---:|---:|---|---:|---|',
    `| session opens through the front (admission decisions: 201 or 409; ${settings.sessionBases} bases) | ${h.sessions.perSecond} | ${h.sessions.p50} | ${h.sessions.p99} | ${h.sessions.errors} | pgbench TPC-B, same PostgreSQL, ${settings.httpConnections} clients: ${h.tpcb.tps} tps (latency ${h.tpcb.latencyMs} ms) | ${s} % | ≥ 80 %: ${met(s >= 80)} |`,
    `| licence check \`GET /bases/{id}/licence\` through the front | ${h.licence.perSecond} | ${h.licence.p50} | ${h.licence.p99} | ${h.licence.errors} | Express hello-world, 2 processes behind the same front: ${h.hello.perSecond}/s (p50 ${h.hello.p50} ms, p99 ${h.hello.p99} ms) | ${l} % | ≥ 50 %: ${met(l >= 50)} |`,
  );
  return lines.join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
