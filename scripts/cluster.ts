/**
 * `npm run cluster`: the production shape on this machine. PostgreSQL (embedded, data in var/cluster/, or
 * DATABASE_URL's server), the real Temporal server on it (persistence + SQL visibility, built into .cache/ on
 * first use), the mail catcher and stripe-mock, the schema migrated once, then 2 API processes behind one front
 * port and 2 worker processes (CLUSTER_APIS, CLUSTER_WORKERS). Ctrl-C stops everything, in order.
 *
 * Ports: front CLUSTER_PORT (3000), API processes CLUSTER_PORT+1..n, Temporal CLUSTER_TEMPORAL_PORT (7233),
 * PostgreSQL EMBEDDED_POSTGRES_PORT (5434 here, so `npm start`'s 5433 can run beside it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../infra/embedded/binaries';
import { startCluster } from '../infra/embedded/cluster';
import { PROJECT_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { startDevStack } from '../infra/embedded/dev-stack';
import { startEmbeddedPostgres } from '../infra/embedded/postgres';
import { createLogger } from '../infra/logger';
import { migrateDatabase } from '../infra/migrate';

const int = (value: string | undefined, fallback: number) => (value ? Number(value) : fallback);

async function main(): Promise<void> {
  const envFile = path.join(PROJECT_ROOT, '.env');
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
  const env = process.env;
  const varDir = path.join(env.VAR_DIR ?? path.join(PROJECT_ROOT, 'var'), 'cluster');
  fs.mkdirSync(varDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => logger.warn({ err: error }));
  };
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping the cluster');
      void stopAll().then(() => process.exit(0));
    });

  try {
    // PostgreSQL for both the service and Temporal
    let postgres: { host: string; port: number; user: string; password: string };
    let postgresSummary = `DATABASE_URL's server (${env.DATABASE_URL?.replace(/\/\/[^@]*@/, '//')})`;
    if (env.DATABASE_URL) {
      const url = new URL(env.DATABASE_URL);
      postgres = {
        host: url.hostname,
        port: Number(url.port || 5432),
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
      };
    } else {
      const pgPort = int(env.EMBEDDED_POSTGRES_PORT, 5434);
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(varDir, 'postgres'),
        port: pgPort,
        persistent: true,
      });
      stops.push(() => pg.stop());
      await pg.createDatabase('licensing');
      env.DATABASE_URL = pg.urlFor('licensing');
      postgres = { host: '127.0.0.1', port: pgPort, user: 'postgres', password: 'postgres' };
      postgresSummary = `embedded PostgreSQL on 127.0.0.1:${pgPort} (data in ${path.relative(PROJECT_ROOT, pg.dataDir)})`;
    }
    logger.info(await migrateDatabase(env.DATABASE_URL).then((out) => out.trim().split('\n').pop()));

    // mail catcher, stripe-mock and this machine's secrets, as `npm start` makes them (the Temporal address is
    // filled in so that it starts no dev server)
    env.TEMPORAL_ADDRESS = `127.0.0.1:${int(env.CLUSTER_TEMPORAL_PORT, 7233)}`;
    env.VAR_DIR = varDir;
    const stack = await startDevStack(env, logger, { searchAttributes: PROJECT_SEARCH_ATTRIBUTES });
    stops.push(() => stack.stop());

    const frontPort = int(env.CLUSTER_PORT, 3000);
    const apis = int(env.CLUSTER_APIS, 2);
    const cluster = await startCluster({
      temporal: {
        postgres,
        port: int(env.CLUSTER_TEMPORAL_PORT, 7233),
        dir: path.join(varDir, 'temporal'),
        historyShards: int(env.CLUSTER_HISTORY_SHARDS, 4),
        searchAttributes: PROJECT_SEARCH_ATTRIBUTES,
      },
      env: {
        ...env,
        // the front is one proxy hop: client IPs (registration rate limit) come from X-Forwarded-For
        TRUST_PROXY_HOPS: String(int(env.TRUST_PROXY_HOPS, 0) + 1),
        LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
      },
      apiPorts: Array.from({ length: apis }, (_, i) => frontPort + 1 + i),
      workers: int(env.CLUSTER_WORKERS, 2),
      frontPort,
      log: (message) => logger.info(message),
    });
    stops.push(() => cluster.stop());

    const where: Record<string, string> = {
      ...stack.summary,
      postgres: postgresSummary,
      temporal: `Temporal server ${cluster.temporal.address} on PostgreSQL (databases temporal, temporal_visibility)`,
      api: `${cluster.front.url} → ${cluster.apis.map((a) => a.url).join(', ')}`,
      workers: cluster.workers.map((w) => `${w.name} (pid ${w.pid})`).join(', '),
    };
    for (const [part, value] of Object.entries(where)) console.log(`  ${part.padEnd(8)} ${value}`);
    console.log('  Ctrl-C to stop');
  } catch (error) {
    await stopAll();
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
