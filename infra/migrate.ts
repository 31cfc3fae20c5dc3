import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './embedded/binaries';

const run = promisify(execFile);

/** Applies pending migrations (`prisma migrate deploy`: idempotent, guarded by an advisory lock). */
export async function migrateDatabase(databaseUrl: string): Promise<string> {
  const prisma = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'prisma');
  try {
    const { stdout } = await run(prisma, ['migrate', 'deploy'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`database migration failed:\n${e.stdout ?? ''}${e.stderr ?? String(error)}`);
  }
}
