/**
 * Rate limits counted in PostgreSQL, so every API process shares them (docs/security.md): a rule allows
 * `limit` events of one key per sliding window of `windowSeconds`. An attempt is reserved *before* the
 * guarded work runs (under the key's advisory lock), so concurrent requests can't overshoot the limit; the
 * caller releases the reservation when the attempt turned out not to count (a right password, a refusal of
 * another kind). The database clock is the only clock.
 */
import { Prisma, type PrismaClient } from '../../infra/prisma';

export interface RateRule {
  key: string;
  limit: number;
  windowSeconds: number;
}

export class RateLimitExceeded extends Error {
  constructor(
    public readonly rule: RateRule,
    public readonly retryAfterSeconds: number,
  ) {
    super(`rate limit reached for ${rule.key}: retry in ${retryAfterSeconds} s`);
    this.name = 'RateLimitExceeded';
  }
}

export interface RateReservation {
  /** the attempt does not count after all */
  release(): Promise<void>;
}

const NOW = Prisma.sql`(now() AT TIME ZONE 'UTC')`;
const windowOf = (seconds: number) => Prisma.sql`make_interval(secs => ${seconds}::double precision)`;

type Tx = Pick<PrismaClient, '$queryRaw' | '$executeRaw'>;

/** Seconds until the rule allows one more event (0: allowed now). */
async function waitFor(tx: Tx, rule: RateRule): Promise<number> {
  const rows = await tx.$queryRaw<{ wait: number }[]>`
    SELECT extract(epoch FROM (at + ${windowOf(rule.windowSeconds)} - ${NOW}))::float8 AS wait
      FROM "RateLimitEvent"
     WHERE key = ${rule.key} AND at > ${NOW} - ${windowOf(rule.windowSeconds)}
     ORDER BY at DESC
    OFFSET ${rule.limit - 1} LIMIT 1`;
  const wait = rows[0]?.wait;
  return wait === undefined ? 0 : Math.max(1, Math.ceil(wait));
}

/**
 * Counts one event under every rule's key (one row per distinct key), or throws RateLimitExceeded
 * (with the longest wait) and counts nothing.
 */
export async function reserveAttempt(prisma: PrismaClient, rules: RateRule[]): Promise<RateReservation> {
  const keys = [...new Set(rules.map((r) => r.key))].sort();
  if (keys.length === 0) return { release: async () => undefined };
  const ids = await prisma.$transaction(async (tx) => {
    for (const key of keys) await tx.$executeRaw`SELECT pg_advisory_xact_lock(6002, hashtext(${key}))`;
    let refused: RateLimitExceeded | undefined;
    for (const rule of rules) {
      const wait = await waitFor(tx, rule);
      if (wait > 0 && (!refused || wait > refused.retryAfterSeconds))
        refused = new RateLimitExceeded(rule, wait);
    }
    if (refused) throw refused;
    const inserted: bigint[] = [];
    for (const key of keys) {
      const longest = Math.max(...rules.filter((r) => r.key === key).map((r) => r.windowSeconds));
      await tx.$executeRaw`DELETE FROM "RateLimitEvent" WHERE key = ${key} AND at <= ${NOW} - ${windowOf(longest)}`;
      const [row] = await tx.$queryRaw<{ id: bigint }[]>`
        INSERT INTO "RateLimitEvent" (key, at) VALUES (${key}, ${NOW}) RETURNING id`;
      inserted.push(row!.id);
    }
    return inserted;
  });
  return {
    async release() {
      await prisma.$executeRaw`DELETE FROM "RateLimitEvent" WHERE id = ANY(${ids}::bigint[])`;
    },
  };
}

/** Seconds until every rule allows one more event (0: now), counting nothing. */
export async function retryAfterOf(prisma: PrismaClient, rules: RateRule[]): Promise<number> {
  let longest = 0;
  for (const rule of rules) longest = Math.max(longest, await waitFor(prisma, rule));
  return longest;
}
