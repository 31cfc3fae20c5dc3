/**
 * Author the next migration: `npm run db:migration -- <name>`.
 *
 * `prisma migrate dev` cannot run here (its shadow database introspection fails with the JS engine), so
 * each migration folder keeps a snapshot of the datamodel it was generated from (`schema.prisma`), and
 * the next migration is the diff between the last snapshot and the current `prisma/schema.prisma`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../infra/embedded/ports';
import { startEmbeddedPostgres } from '../infra/embedded/postgres';

const root = path.resolve(__dirname, '..');
const migrationsDir = path.join(root, 'prisma', 'migrations');
const schema = path.join(root, 'prisma', 'schema.prisma');

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    console.error('usage: npm run db:migration -- <snake_case_name>');
    process.exit(2);
  }
  fs.mkdirSync(migrationsDir, { recursive: true });
  const previous = fs
    .readdirSync(migrationsDir)
    .filter((d) => fs.existsSync(path.join(migrationsDir, d, 'schema.prisma')))
    .sort()
    .pop();
  const from = previous
    ? ['--from-schema-datamodel', path.join(migrationsDir, previous, 'schema.prisma')]
    : ['--from-empty'];
  // with a driver adapter the CLI connects even for a datamodel diff: give it a throwaway database
  const scratch = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'pg-diff-')),
        port: await freePort(),
        persistent: false,
      });
  let sql: string;
  try {
    sql = execFileSync(
      path.join(root, 'node_modules', '.bin', 'prisma'),
      ['migrate', 'diff', ...from, '--to-schema-datamodel', schema, '--script'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? scratch!.adminUrl },
      },
    );
  } finally {
    await scratch?.stop();
  }
  if (/^-- This is an empty migration\.\s*$/m.test(sql) || sql.trim() === '') {
    console.log('schema.prisma has no change since the last migration; nothing written');
    return;
  }
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = path.join(migrationsDir, `${stamp}_${name}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'migration.sql'), sql);
  fs.copyFileSync(schema, path.join(dir, 'schema.prisma'));
  console.log(`wrote ${path.relative(root, dir)}/migration.sql`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
