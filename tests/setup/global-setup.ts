/**
 * Once per test run (integration project): a throwaway real PostgreSQL with a migrated template
 * database (each test file clones it), a Temporal dev server, stripe-mock, and the time-skipping test
 * server's jars.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { locateTimeSkippingServer } from '../../infra/embedded/binaries';
import { freePort } from '../../infra/embedded/ports';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../infra/embedded/postgres';
import { startStripeMock, type RunningStripeMock } from '../../infra/embedded/stripe-mock';
import { startTemporalDevServer, type RunningTemporal } from '../../infra/embedded/temporal';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { migrateDatabase } from '../../infra/migrate';

export const TEMPLATE_DATABASE = 'app_template';

export interface TestInfra {
  pg: EmbeddedPostgres;
  temporal: RunningTemporal;
  stripeMock: RunningStripeMock;
  dataDir: string;
}

export default async function globalSetup(): Promise<void> {
  const log = (message: string) => console.log(`[test set-up] ${message}`);
  if (!locateTimeSkippingServer(log))
    log('no local time-skipping server: the Temporal SDK will try to download one');

  // first, so that nothing is left running when it can't be had (it throws saying how to get it); no
  // fallback: integration tests never reach the real Stripe
  const stripeMock = await startStripeMock({ port: await freePort(), log });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'licensing-test-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
  await pg.createDatabase(TEMPLATE_DATABASE);
  await migrateDatabase(pg.urlFor(TEMPLATE_DATABASE));
  const temporal = await startTemporalDevServer({
    port: await freePort(),
    log,
    searchAttributes: PROJECT_SEARCH_ATTRIBUTES,
  });

  process.env.TEST_PG_ADMIN_URL = pg.adminUrl;
  process.env.TEST_PG_TEMPLATE = TEMPLATE_DATABASE;
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.TEST_STRIPE_API_BASE = stripeMock.apiBase;
  (globalThis as { __TEST_INFRA__?: TestInfra }).__TEST_INFRA__ = { pg, temporal, stripeMock, dataDir };
}
