/**
 * What the benchmarks share: the machine's description, waiting for a quiet machine before recording,
 * each benchmark's own marked section of docs/benchmarks.md, the service in a child process (`main.ts`
 * over a throwaway PostgreSQL, with the dev stack `npm start` runs for the rest), a discarding SMTP
 * peer, and a summary of a V8 CPU profile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { freePort, waitForPort } from '../infra/embedded/ports';
import { startEmbeddedPostgres } from '../infra/embedded/postgres';

export const ROOT = path.resolve(__dirname, '..');
export const DOC = path.join(ROOT, 'docs', 'benchmarks.md');

export const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

export function log(message: string) {
  console.log(`[bench] ${new Date().toISOString().slice(11, 19)} ${message}`);
}

export function machine() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism(),
    cpu: cpus[0]?.model ?? 'unknown',
    ramGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load: os.loadavg().map((l) => l.toFixed(2)),
  };
}

export function machineLine(): string {
  const m = machine();
  return `Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, ${m.ramGiB} GiB RAM, Node ${m.node}.`;
}

export const loadNow = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

/**
 * Waits until the 1-minute load average is under BENCH_MAX_LOAD (1.5) for at most BENCH_IDLE_WAIT
 * seconds (300); figures taken on a busy machine say so next to them (the load is always written).
 */
export async function waitForQuietMachine(): Promise<{ quiet: boolean; load: string }> {
  const max = num('BENCH_MAX_LOAD', 1.5);
  const deadline = Date.now() + num('BENCH_IDLE_WAIT', 300) * 1000;
  while (os.loadavg()[0]! >= max && Date.now() < deadline) {
    log(`load ${loadNow()}: waiting for it to drop under ${max}`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
  const quiet = os.loadavg()[0]! < max;
  if (!quiet) log(`still busy (load ${loadNow()}): recording anyway, with the load next to the figures`);
  return { quiet, load: loadNow() };
}

/** Replaces the `<!-- bench:NAME:start -->` … `end` section of docs/benchmarks.md (appended if absent). */
export function writeSection(name: string, body: string) {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = `${start}\n${body}\n${end}`;
  const current = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const next = current.includes(start)
    ? current.slice(0, current.indexOf(start)) + section + current.slice(current.indexOf(end) + end.length)
    : `${current.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(DOC, next);
  console.log(section);
}

export interface Service {
  apiUrl: string;
  databaseUrl: string;
  temporalAddress: string;
  webhookSecret: string;
  pid: number;
  description: string;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  role: 'api' | 'all';
  /** V8 CPU profile of the service process, written into this folder at its exit */
  cpuProfDir?: string;
  env?: Record<string, string>;
}

export const BENCH_WEBHOOK_SECRET = 'whsec_bench_0123456789abcdef';

/**
 * The service as it runs (`main.ts --role api|all`) in a child process, over a throwaway durable
 * PostgreSQL started here; `main.ts` starts the Temporal dev server, the mail catcher and stripe-mock
 * itself, as `npm start` does.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const durable = process.env.BENCH_PG_DURABLE !== '0';
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(varDir, 'postgres'),
    port: await freePort(),
    persistent: durable,
  });
  await pg.createDatabase('bench');
  const port = await freePort();
  const temporalPort = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    PORT: String(port),
    VAR_DIR: varDir,
    DATABASE_URL: pg.urlFor('bench'),
    DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '10',
    TEMPORAL_DEV_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(await freePort()),
    MAIL_CATCHER_SMTP_PORT: String(await freePort()),
    MAIL_CATCHER_WEB_PORT: String(await freePort()),
    STRIPE_MOCK_PORT: String(await freePort()),
    STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
    REGISTRATION_RATE_LIMIT_PER_HOUR: '100000000',
    ...options.env,
  };
  const nodeArgs = ['--import', 'tsx'];
  if (options.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  log(`starting the service (main.ts --role ${options.role}) on port ${port}`);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, 'main.ts', '--role', options.role], {
    cwd: ROOT,
    env,
    // the service logs at info level as in production; the bench keeps only its errors
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, '127.0.0.1', 180_000);
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    databaseUrl: pg.urlFor('bench'),
    temporalAddress: `127.0.0.1:${temporalPort}`,
    webhookSecret: BENCH_WEBHOOK_SECRET,
    pid: child.pid!,
    description:
      `\`main.ts --role ${options.role}\` (LOG_LEVEL ${env.LOG_LEVEL}, pool ${env.DATABASE_POOL_SIZE}) ` +
      `over embedded PostgreSQL (${durable ? 'durable: fsync on' : 'fsync off'})`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await pg.stop();
      fs.rmSync(varDir, { recursive: true, force: true });
    },
  };
}

/** An SMTP peer that accepts and drops every message (a mail catcher would parse and keep them all). */
export async function startSmtpSink(): Promise<{
  url: string;
  received: () => number;
  stop(): Promise<void>;
}> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received += 1;
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self time of a .cpuprofile, by function and by package (node_modules/<package>, our code, node:). */
export function summariseCpuProfile(file: string, top = 12) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
  };
  // shares of the busy samples: idle time is left out
  const busyNodes = profile.nodes.filter((n) => n.callFrame.functionName !== '(idle)');
  const total = busyNodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0) || 1;
  const where = (url: string) => {
    if (!url) return '(native / V8)';
    if (url.startsWith('node:')) return 'node core';
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) return m[1]!;
    return path.relative(ROOT, url.replace(/^file:\/\//, '')) || url;
  };
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const n of busyNodes) {
    const hits = n.hitCount ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const pkg = where(url);
    const fn = `${functionName || '(anonymous)'} (${url ? `${pkg}:${lineNumber + 1}` : pkg})`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
    const group = !url
      ? pkg
      : url.includes('node_modules') || url.startsWith('node:')
        ? pkg
        : url.startsWith('wasm://')
          ? 'WebAssembly (the Prisma query compiler)'
          : url.includes('/generated/')
            ? 'generated Prisma client'
            : 'our code';
    byPackage.set(group, (byPackage.get(group) ?? 0) + hits);
  }
  // inclusive: samples with the package anywhere on the stack (what it costs with what it calls)
  const inclusive = new Map<string, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const stack: { id: number; packages: string[] }[] = [{ id: profile.nodes[0]!.id, packages: [] }];
  while (stack.length) {
    const { id, packages } = stack.pop()!;
    const n = byId.get(id)!;
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(n.callFrame.url);
    const here = m && !packages.includes(m[1]!) ? [...packages, m[1]!] : packages;
    if (n.callFrame.functionName !== '(idle)')
      for (const p of here) inclusive.set(p, (inclusive.get(p) ?? 0) + (n.hitCount ?? 0));
    for (const child of n.children ?? []) stack.push({ id: child, packages: here });
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({ name, percent: Math.round((hits / total) * 1000) / 10 }));
  return {
    functions: rank(byFunction),
    packages: rank(byPackage),
    inclusive: rank(inclusive),
    busyMs: Math.round(
      (total * (profile.endTime - profile.startTime)) /
        1000 /
        (profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1),
    ),
  };
}

/** The main thread's profile: the busiest one (tsx's module loader thread writes its own, nearly idle). */
export function busiestProfile(dir: string): string | undefined {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const busy = (f: string) =>
    (JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { nodes: ProfileNode[] }).nodes
      .filter((n) => n.callFrame.functionName !== '(idle)')
      .reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const ranked = files.map((f) => ({ f, hits: busy(f) })).sort((a, b) => b.hits - a.hits);
  return ranked[0] && path.join(dir, ranked[0].f);
}

export async function fixedRate(
  autocannonModule: typeof import('autocannon'),
  options: import('autocannon').Options,
) {
  const result = await autocannonModule(options);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = (stat as { count: number }).count;
  }
  return {
    requestsPerSecond: Math.round(result.requests.total / result.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    statusCodes,
    errors: result.errors + result.timeouts,
  };
}

export const codes = (statusCodes: Record<string, number>) =>
  Object.entries(statusCodes)
    .map(([c, n]) => `${c}: ${n}`)
    .join(', ');

export interface BenchBase {
  baseId: string;
  apiKey: string;
}

/** Registers bases through the API (their keys), and gives each a paid licence written directly. */
export async function registerBases(apiUrl: string, count: number, prefix: string) {
  const bases: BenchBase[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
        const baseId = `${prefix}${String(i + j + 1).padStart(17 - prefix.length, '0')}`;
        const res = await fetch(`${apiUrl}/installations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ baseId, machineName: 'BENCH' }),
        });
        if (res.status !== 201)
          throw new Error(`registration of ${baseId}: ${res.status} ${await res.text()}`);
        return { baseId, apiKey: ((await res.json()) as { apiKey: string }).apiKey };
      }),
    );
    bases.push(...batch);
  }
  return bases;
}
