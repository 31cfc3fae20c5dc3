import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';

export type { PrismaClient } from '../generated/prisma/client';
export { Prisma } from '../generated/prisma/client';

const pools = new WeakMap<PrismaClient, Pool>();

/** The one way to build a Prisma client: the `pg` driver adapter, no Rust engine. */
export function createPrisma(databaseUrl: string, poolSize = 10): PrismaClient {
  // the pool is ours so that the hot path can use it directly (pgPoolOf); $disconnect still ends it
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize });
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, { disposeExternalPool: true }),
    // Prisma's defaults (2 s to get a connection, 5 s in all) turn a burst on one hot row (a wallet
    // charged 100 times at once, queued on its row lock) into failures; these bound a stuck transaction
    transactionOptions: { maxWait: 10_000, timeout: 20_000 },
  });
  pools.set(prisma, pool);
  return prisma;
}

/**
 * The `pg` pool under a Prisma client, for the few hot paths whose SQL is written by hand (session
 * admission: Prisma's per-query overhead is several times the database's own work there).
 */
export function pgPoolOf(prisma: PrismaClient): Pool {
  const pool = pools.get(prisma);
  if (!pool) throw new Error('this Prisma client was not built by createPrisma');
  return pool;
}

/** A Prisma client or an interactive-transaction client: use-cases accept either. */
export type Db = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;
