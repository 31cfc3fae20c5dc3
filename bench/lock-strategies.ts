/**
 * Session admission at the SQL level, three ways of making it exact, on the same PostgreSQL:
 * - ADVISORY: `pg_advisory_xact_lock(class, hashtext(base))`, then the admission statement (what we ship);
 * - ROW_LOCK: `SELECT ... FROM "Base" WHERE id = $1 FOR UPDATE`, then the same statement;
 * - SERIALIZABLE: the statement alone in a SERIALIZABLE transaction, retried on serialization failures.
 * Each runs the same workload: clients admitting on random bases (spread) or on one 3-connection base
 * (hot), closing what they got. After every admission a probe counts the base's active sessions: any
 * count above the limit is an over-admission.
 */
import type { Pool, PoolClient } from 'pg';
import { Prisma } from '../infra/prisma';
import { admissionStatement, lockBaseSessions } from '../services/sessions/admission-sql';
import { endSessionStatement } from '../services/sessions/end-session-sql';
import { Histogram } from './histogram';

export type Strategy = 'ADVISORY' | 'ROW_LOCK' | 'SERIALIZABLE';
export const STRATEGIES: Strategy[] = ['ADVISORY', 'ROW_LOCK', 'SERIALIZABLE'];

const actor = { type: 'SYSTEM', id: 'bench' } as const;

export interface StrategyResult {
  strategy: Strategy;
  scenario: string;
  attempts: number;
  admitted: number;
  perSecond: number;
  p50: number;
  p99: number;
  retries: number;
  overAdmissions: number;
}

async function admitOnce(client: PoolClient, strategy: Strategy, baseId: string, n: number) {
  const work = admissionStatement({
    baseId,
    userCode: `B${n}`,
    userName: 'Bench',
    ip: '10.0.0.1',
    computerName: 'BENCH',
    actor,
    heartbeatTimeoutSeconds: 300,
    freeEditionConnections: 1,
  });
  let retries = 0;
  for (;;) {
    try {
      if (strategy === 'SERIALIZABLE') {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      } else {
        await client.query('BEGIN');
        const lock =
          strategy === 'ADVISORY'
            ? lockBaseSessions(baseId)
            : Prisma.sql`SELECT 1 FROM "Base" WHERE id = ${baseId}::bpchar FOR UPDATE`;
        await client.query({ name: `bench-lock-${strategy}`, text: lock.text, values: lock.values });
      }
      const res = await client.query<{ sessionId: string | null }>({
        name: 'bench-admission',
        text: work.text,
        values: work.values,
      });
      await client.query('COMMIT');
      return { sessionId: res.rows[0]!.sessionId, retries };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (error as { code?: string }).code;
      if (code === '40001' || code === '40P01') {
        retries += 1;
        continue;
      }
      throw error;
    }
  }
}

async function activeCount(client: PoolClient, baseId: string): Promise<number> {
  const r = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "Session" WHERE "baseId" = $1::bpchar AND status = 'ACTIVE'`,
    [baseId],
  );
  return r.rows[0]!.n;
}

export async function runStrategy(
  pool: Pool,
  options: {
    strategy: Strategy;
    scenario: string;
    bases: { baseId: string; connections: number }[];
    concurrency: number;
    durationMs: number;
  },
): Promise<StrategyResult> {
  const histogram = new Histogram();
  let attempts = 0;
  let admitted = 0;
  let retries = 0;
  let overAdmissions = 0;
  let n = 0;
  const deadline = Date.now() + options.durationMs;
  const started = Date.now();
  const worker = async () => {
    const client = await pool.connect();
    try {
      while (Date.now() < deadline) {
        const base = options.bases[Math.floor(Math.random() * options.bases.length)]!;
        n += 1;
        const t0 = process.hrtime.bigint();
        const result = await admitOnce(client, options.strategy, base.baseId, n);
        histogram.record(Number(process.hrtime.bigint() - t0) / 1e6);
        attempts += 1;
        retries += result.retries;
        if (result.sessionId === null) continue;
        admitted += 1;
        if ((await activeCount(client, base.baseId)) > base.connections) overAdmissions += 1;
        const end = endSessionStatement({
          sessionId: BigInt(result.sessionId),
          kind: 'CLOSED',
          actor,
          reason: null,
        });
        await client.query(end.text, end.values);
      }
    } finally {
      client.release();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  return {
    strategy: options.strategy,
    scenario: options.scenario,
    attempts,
    admitted,
    perSecond: Math.round(attempts / seconds),
    p50: histogram.percentile(50),
    p99: histogram.percentile(99),
    retries,
    overAdmissions,
  };
}
