import type { Db } from '../../infra/prisma';

/** The key of a base's purchase lock (also taken by hand in tests/faults/migration-worker-killed.test.ts). */
export const purchaseLockKey = (baseId: string) => `purchase:${baseId}`;

/**
 * One licence purchase (or v15 → A1 migration) at a time per base: takes the base's purchase lock for the
 * rest of the transaction `tx`, so the check for a running licence and the insert after it are serialised.
 */
export async function lockBasePurchases(tx: Db, baseId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${purchaseLockKey(baseId)}))`;
}
