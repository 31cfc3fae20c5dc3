/**
 * The real Temporal server (go.temporal.io/server, built into `.cache/` by binaries.ts) on PostgreSQL:
 * persistence and SQL visibility in two databases of the given PostgreSQL, schemas created and migrated by
 * `temporal-sql-tool` (idempotent: an existing schema is brought up to date), the namespace registered and
 * the project's search attributes added. The production shape of Temporal (`npm run cluster`, the cluster
 * tests and benchmarks); the single-process dev server on SQLite stays the `npm start` default.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { SearchAttributeSpec } from './temporal';
import { locateTemporalServer, TEMPORAL_SERVER_VERSION, type TemporalServerBinaries } from './binaries';
import { freeLowPort, freePort, waitForPort } from './ports';

export interface TemporalServerOptions {
  /** PostgreSQL that keeps the history and visibility (a superuser or a user that may create databases) */
  postgres: { host: string; port: number; user: string; password: string };
  /** database names: `<prefix>` (history) and `<prefix>_visibility` */
  databasePrefix?: string;
  /** the frontend's gRPC port (the address workers and clients use) */
  port: number;
  /** where its config and log go */
  dir: string;
  namespace?: string;
  /** history shards: fixed for the life of the cluster (capacity.md) */
  historyShards?: number;
  /** the server's own Prometheus metrics on this port (0: off) */
  metricsPort?: number;
  /** the custom search attributes registered in the namespace (the project passes domain/search-attributes.ts) */
  searchAttributes: readonly SearchAttributeSpec[];
  log?: (message: string) => void;
}

export interface RunningTemporalServer {
  address: string;
  namespace: string;
  pid: number;
  /** what the server printed (errors only), for failure messages */
  output(): string;
  stop(): Promise<void>;
}

export async function startTemporalServer(options: TemporalServerOptions): Promise<RunningTemporalServer> {
  const log = options.log ?? (() => {});
  const binaries = await locateTemporalServer(log);
  if (!binaries)
    throw new Error(
      'the Temporal server is not available: install Go (it is built from the Go module proxy into .cache/), or set TEMPORAL_SERVER_DIR',
    );
  const prefix = options.databasePrefix ?? 'temporal';
  const namespace = options.namespace ?? 'default';
  const databases = { history: prefix, visibility: `${prefix}_visibility` };
  setUpSchema(binaries, options.postgres, databases.history, 'temporal');
  setUpSchema(binaries, options.postgres, databases.visibility, 'visibility');

  const configDir = path.join(options.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  const ports = {
    frontend: options.port,
    frontendHttp: await freePort(),
    history: await freePort(),
    matching: await freePort(),
    worker: await freePort(),
    // stored as smallint in PostgreSQL: under 32768
    membership: [await freeLowPort(), await freeLowPort(), await freeLowPort(), await freeLowPort()],
  };
  fs.writeFileSync(
    path.join(configDir, 'cluster.yaml'),
    serverConfig({ ...options, databases, ports, dynamicConfig: path.join(configDir, 'dynamic.yaml') }),
  );
  fs.writeFileSync(path.join(configDir, 'dynamic.yaml'), DYNAMIC_CONFIG);

  const child: ChildProcess = spawn(
    binaries.server,
    ['--root', options.dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killed);
    }
  };

  const address = `127.0.0.1:${options.port}`;
  try {
    await Promise.race([
      waitForPort(options.port, '127.0.0.1', 120_000).then(() => registerNamespace(address, namespace, options.searchAttributes)),
      exited.then(() => {
        throw new Error('it exited during start-up');
      }),
    ]);
  } catch (error) {
    await stop();
    throw new Error(`the Temporal server did not start: ${String(error)}\n${errorLines(output)}`);
  }
  log(
    `Temporal server ${TEMPORAL_SERVER_VERSION} on ${address} (PostgreSQL ${databases.history}, ${databases.visibility})`,
  );
  return { address, namespace, pid: child.pid!, output: () => output, stop };
}

function setUpSchema(
  binaries: TemporalServerBinaries,
  pg: TemporalServerOptions['postgres'],
  database: string,
  schema: 'temporal' | 'visibility',
): void {
  const base = [
    '--plugin',
    'postgres12',
    '--endpoint',
    pg.host,
    '--port',
    String(pg.port),
    '--user',
    pg.user,
    '--password',
    pg.password,
    '--database',
    database,
  ];
  const run = (args: string[], allowFailure = false) => {
    const result = spawnSync(binaries.sqlTool, [...base, ...args], { encoding: 'utf8' });
    if (result.status !== 0 && !allowFailure)
      throw new Error(
        `temporal-sql-tool ${args[0]} on ${database} failed: ${result.stderr || result.stdout}`,
      );
    return result;
  };
  // create-database fails when it exists; setup-schema -v 0.0 only creates the version table (kept if there);
  // update-schema applies the versioned migrations not yet applied
  run(['create-database'], true);
  run(['setup-schema', '-v', '0.0']);
  run(['update-schema', '-d', path.join(binaries.postgresSchemaDir, schema, 'versioned')]);
}

/** Registers the namespace (once) and the project's search attributes, and waits until both are served. */
async function registerNamespace(
  address: string,
  namespace: string,
  searchAttributes: readonly SearchAttributeSpec[],
): Promise<void> {
  // the frontend's port opens before it serves: connect until it answers
  let connection: Connection | undefined;
  for (let i = 0; !connection; i += 1) {
    try {
      connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
    } catch (error) {
      if (i > 24) throw error;
    }
  }
  try {
    const service = connection.workflowService;
    for (let i = 0; ; i += 1) {
      try {
        await service.registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: msToTs('3 days'),
        });
        break;
      } catch (error) {
        if ((error as { code?: number }).code === 6) break; // ALREADY_EXISTS
        // the frontend answers before the history service has its shards
        if (i > 120) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const indexed = temporal.api.enums.v1.IndexedValueType;
    for (let i = 0; ; i += 1) {
      try {
        const listed = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = searchAttributes.filter((key) => !(key.name in listed.customAttributes));
        if (missing.length === 0) break;
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(
            missing.map((key) => [
              key.name,
              key.type === 'DATETIME'
                ? indexed.INDEXED_VALUE_TYPE_DATETIME
                : indexed.INDEXED_VALUE_TYPE_KEYWORD,
            ]),
          ),
        });
      } catch (error) {
        // the namespace reaches the frontend's cache within a few seconds of its registration
        if (i > 120) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    // visibility answers for the namespace: workflows can be listed (what ops' stuck-workflow page does)
    for (let i = 0; ; i += 1) {
      try {
        await service.listWorkflowExecutions({ namespace, pageSize: 1 });
        break;
      } catch (error) {
        if (i > 120) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

// settings of the dev server's that the project relies on: update-with-start, search attributes read fresh
const DYNAMIC_CONFIG = `frontend.enableExecuteMultiOperation:
  - value: true
frontend.enableUpdateWorkflowExecution:
  - value: true
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
limit.maxIDLength:
  - value: 255
`;

function serverConfig(o: {
  postgres: TemporalServerOptions['postgres'];
  databases: { history: string; visibility: string };
  ports: {
    frontend: number;
    frontendHttp: number;
    history: number;
    matching: number;
    worker: number;
    membership: number[];
  };
  historyShards?: number;
  metricsPort?: number;
  dynamicConfig: string;
}): string {
  const store = (database: string, maxConns: number) => `      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${o.postgres.host}:${o.postgres.port}"
        connectProtocol: tcp
        user: ${JSON.stringify(o.postgres.user)}
        password: ${JSON.stringify(o.postgres.password)}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (grpc: number, membership: number, http?: number) => `    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  const [m1, m2, m3, m4] = o.ports.membership;
  return `log:
  stdout: true
  level: error
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${o.historyShards ?? 4}
  datastores:
    postgres-default:
${store(o.databases.history, 20)}
    postgres-visibility:
${store(o.databases.visibility, 5)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
${
  o.metricsPort
    ? `  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "127.0.0.1:${o.metricsPort}"
`
    : ''
}services:
  frontend:
${service(o.ports.frontend, m1!, o.ports.frontendHttp)}
  history:
${service(o.ports.history, m2!)}
  matching:
${service(o.ports.matching, m3!)}
  worker:
${service(o.ports.worker, m4!)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${o.ports.frontend}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${JSON.stringify(o.dynamicConfig)}
  pollInterval: 10s
`;
}

/** The server's log lines at error level or above, without their stack traces (the last few). */
function errorLines(output: string): string {
  return output
    .split('\n')
    .filter((line) => /"level":"(error|fatal|panic)"/.test(line))
    .slice(-5)
    .map((line) => line.replace(/,"stacktrace":".*$/, '}'))
    .join('\n');
}
