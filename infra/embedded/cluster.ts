/**
 * The production shape on one machine: the real Temporal server on PostgreSQL, several API processes behind
 * one front port, several worker processes — each a real `main.ts --role api|worker` child process, so one can
 * be killed (SIGKILL) or restarted (SIGTERM, then a new one, e.g. on another build) while the others serve.
 * Used by `npm run cluster` (scripts/cluster.ts), the cluster tests and the cluster benchmarks. The database is
 * migrated once, by the caller, before any process starts (MIGRATE_ON_START=off in the processes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT } from './binaries';
import {
  startTemporalServer,
  type RunningTemporalServer,
  type TemporalServerOptions,
} from './temporal-server';

export type Role = 'api' | 'worker';

export interface ServiceProcess {
  role: Role;
  name: string;
  pid: number;
  /** the API's own URL (api role) */
  url?: string;
  /** what the process printed, for failure messages */
  output(): string;
  /** SIGKILL (a crash: nothing is finished), and wait until it is gone */
  kill(): Promise<void>;
  /** SIGTERM (a deploy: the process finishes what it runs and stops), and wait until it is gone */
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  role: Role;
  name: string;
  /** the whole environment of the process (main.ts reads its settings from it) */
  env: Record<string, string | undefined>;
  /** api role: its port */
  port?: number;
}

/** Starts `main.ts --role <role>`; resolves once an API answers `/healthz` or a worker polls its task queue. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_ROOT, 'main.ts'), '--role', options.role],
    {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...options.env, ...(options.port !== undefined ? { PORT: String(options.port) } : {}) },
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const end = async (signal: NodeJS.Signals) => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };

  const url = options.port !== undefined ? `http://127.0.0.1:${options.port}` : undefined;
  // start-up applies the migrations (nothing to do once migrated) and bundles the workflow code: seconds,
  // more on a busy machine
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (gone) throw new Error(`${options.name} exited during start-up:\n${output}`);
    if (Date.now() > deadline) {
      await end('SIGKILL');
      throw new Error(`${options.name} was not ready after 3 minutes:\n${output}`);
    }
    const ready =
      options.role === 'api'
        ? await fetch(`${url}/healthz`).then(
            (r) => r.ok,
            () => false,
          )
        : /task queue/.test(output);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    role: options.role,
    name: options.name,
    pid: child.pid!,
    url,
    output: () => output,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}

export interface Front {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * One port in front of the API processes, round robin (what a load balancer does): a process that refuses the
 * connection is skipped for that request, so a restarting API costs no request that had not reached it.
 */
export async function startFront(port: number, upstreams: () => string[]): Promise<Front> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const targets = upstreams();
      let lastError = 'none configured';
      const attempt = (tries: number) => {
        if (targets.length === 0 || tries >= targets.length) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`no API process answers (${lastError})`);
          return;
        }
        const target = new URL(targets[next++ % targets.length]!);
        const forward = http.request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '' },
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.on('error', (error: NodeJS.ErrnoException) => {
          lastError = `${target.host}: ${error.code ?? error.message}`;
          if (error.code === 'ECONNREFUSED' && !res.headersSent) attempt(tries + 1);
          else if (!res.headersSent) {
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(String(error.message));
          } else res.destroy();
        });
        forward.end(body);
      };
      attempt(0);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ClusterOptions {
  /** the real Temporal server to start, or a server already running (the dev server, in benchmarks) */
  temporal: Omit<TemporalServerOptions, 'log'> | { running: ClusterTemporal };
  /** the environment every API and worker process gets (DATABASE_URL of a migrated database, SMTP_URL...) */
  env: Record<string, string | undefined>;
  apiPorts: number[];
  workers: number;
  /** the front port (0: any free one) */
  frontPort: number;
  log?: (message: string) => void;
}

/** What the cluster needs of its Temporal server. */
export type ClusterTemporal = Pick<RunningTemporalServer, 'address' | 'namespace' | 'stop'>;

export interface Cluster {
  temporal: ClusterTemporal;
  front: Front;
  apis: ServiceProcess[];
  /** the worker processes started (a caller that stops or kills one removes it) */
  workers: ServiceProcess[];
  /** environment of the service processes (TEMPORAL_ADDRESS filled in) */
  env: Record<string, string | undefined>;
  /** another worker process, with extra settings (e.g. WORKER_BUILD_ID of a new build) */
  addWorker(extraEnv?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const log = options.log ?? (() => {});
  const temporal =
    'running' in options.temporal
      ? options.temporal.running
      : await startTemporalServer({ ...options.temporal, log });
  const env = {
    ...options.env,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    // migrated once by the caller
    MIGRATE_ON_START: 'off',
  };
  const apis: ServiceProcess[] = [];
  const workers: ServiceProcess[] = [];
  let front: Front | undefined;
  let workerCount = 0;
  const addWorker = async (extraEnv: Record<string, string> = {}) => {
    workerCount += 1;
    const worker = await startServiceProcess({
      role: 'worker',
      name: `worker-${workerCount}`,
      env: { ...env, ...extraEnv },
    });
    workers.push(worker);
    return worker;
  };
  const stop = async () => {
    await front?.stop();
    await Promise.all([...apis, ...workers].map((p) => p.stop()));
    await temporal.stop();
  };
  try {
    // the API processes and the workers start together: each one's start-up finds the schema migrated
    await Promise.all([
      ...options.apiPorts.map(async (port, i) => {
        apis.push(await startServiceProcess({ role: 'api', name: `api-${i + 1}`, env, port }));
      }),
      ...Array.from({ length: options.workers }, () => addWorker()),
    ]);
    apis.sort((a, b) => a.name.localeCompare(b.name));
    front = await startFront(options.frontPort, () => apis.map((a) => a.url!));
    log(`front ${front.url} → ${apis.map((a) => a.url).join(', ')}; ${workers.length} workers`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    temporal,
    front,
    apis,
    workers,
    env,
    addWorker,
    stop,
  };
}
