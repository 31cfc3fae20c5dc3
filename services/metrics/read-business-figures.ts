/**
 * The business figures `/metrics` exposes, read from the database at scrape time: they survive restarts
 * and count what every API and worker process did, which in-process counters can't. A handful of
 * GROUP BYs, run together; api/metrics.ts caches the result for a few seconds.
 */
import type { Db } from '../../infra/prisma';

/** The ops work queues, as ops see them in the console and the ops API. */
export const OPS_QUEUES = [
  'unmatched_purchases',
  'manual_payments',
  'free_licences',
  'failed_payments',
  /** cheque and transfer renewals mailed, not yet confirmed (offline-renewals.md) */
  'renewals_to_pay',
  /** disputes and early fraud warnings still open (disputes.md) */
  'open_disputes',
] as const;
export type OpsQueue = (typeof OPS_QUEUES)[number];

export interface PaymentFigure {
  /** licence_purchase | licence_renewal | licence_change (from the payment's key) | credit_purchase | other */
  kind: string;
  method: string;
  /** SUCCEEDED | FAILED */
  status: string;
  count: number;
  amountCents: number;
}

export interface BusinessFigures {
  payments: PaymentFigure[];
  creditPurchases: { product: string; status: string; count: number }[];
  licences: { version: string; status: string; count: number }[];
  /** per queue: how many items wait, and for how long the oldest has waited (0 when empty) */
  queues: Record<OpsQueue, { size: number; oldestSeconds: number }>;
  /** sessions that still count: ACTIVE and heard from within the heartbeat timeout */
  sessionsActive: number;
}

type Row = Record<string, string | number | bigint | boolean | null>;
const num = (v: Row[string] | undefined) => Number(v ?? 0);

export async function readBusinessFigures(
  db: Db,
  options: { heartbeatTimeoutSeconds: number },
): Promise<BusinessFigures> {
  const [payments, credits, licences, queues, sessions] = await Promise.all([
    // payments are append-only rows: a credit purchase's carries its id; a licence's is keyed
    // purchase:/renewal:/change:<...> (workflows/subscription.ts)
    db.$queryRaw<Row[]>`
      SELECT CASE WHEN "creditPurchaseId" IS NOT NULL THEN 'credit_purchase'
               ELSE CASE split_part("idempotencyKey", ':', 1)
                 WHEN 'purchase' THEN 'licence_purchase'
                 WHEN 'renewal' THEN 'licence_renewal'
                 WHEN 'change' THEN 'licence_change'
                 ELSE 'other' END END AS kind,
             method::text AS method, status::text AS status,
             count(*) AS count, coalesce(sum("amountCents"), 0) AS cents
      FROM "Payment" GROUP BY 1, 2, 3`,
    // credit purchases by product and status (their money is in "Payment" from the card's confirmation)
    db.$queryRaw<Row[]>`
      SELECT product::text AS product, status::text AS status, count(*) AS count
      FROM "CreditPurchase" GROUP BY 1, 2`,
    db.$queryRaw<Row[]>`
      SELECT version::text AS version, status::text AS status, count(*) AS count FROM "Licence" GROUP BY 1, 2`,
    db.$queryRaw<Row[]>`
      SELECT 'unmatched_purchases' AS queue, count(*) AS size,
             coalesce(extract(epoch FROM now() - min(coalesce("paidAt", "createdAt"))), 0) AS oldest
        FROM "CreditPurchase" WHERE status = 'UNMATCHED'
      UNION ALL
      SELECT 'manual_payments', count(*), coalesce(extract(epoch FROM now() - min("createdAt")), 0)
        FROM "Purchase" WHERE status = 'AWAITING_OPS' AND "paymentMethod" IN ('CHEQUE', 'TRANSFER')
      UNION ALL
      SELECT 'free_licences', count(*), coalesce(extract(epoch FROM now() - min("createdAt")), 0)
        FROM "Purchase" WHERE status = 'AWAITING_OPS' AND "paymentMethod" = 'FREE'
      UNION ALL
      SELECT 'failed_payments', count(*), coalesce(extract(epoch FROM now() - min("updatedAt")), 0)
        FROM "Licence" WHERE status = 'PAST_DUE'
      UNION ALL
      SELECT 'renewals_to_pay', count(*), coalesce(extract(epoch FROM now() - min("issuedAt")), 0)
        FROM "InvoiceToPay" WHERE status = 'OPEN'
      UNION ALL
      SELECT 'open_disputes', count(*), coalesce(extract(epoch FROM now() - min("openedAt")), 0)
        FROM "Dispute" WHERE outcome = 'OPEN'`,
    db.$queryRaw<Row[]>`
      SELECT count(*) AS count FROM "Session"
      WHERE status = 'ACTIVE'
        AND "lastSeenAt" >= now() - make_interval(secs => ${options.heartbeatTimeoutSeconds}::int)`,
  ]);

  const paymentFigures: PaymentFigure[] = payments.map((r) => ({
    kind: String(r.kind),
    method: String(r.method),
    status: String(r.status),
    count: num(r.count),
    amountCents: num(r.cents),
  }));
  const creditCounts = new Map<string, { product: string; status: string; count: number }>();
  for (const r of credits) {
    const key = `${r.product}/${r.status}`;
    const entry = creditCounts.get(key) ?? { product: String(r.product), status: String(r.status), count: 0 };
    entry.count += num(r.count);
    creditCounts.set(key, entry);
  }
  const queueFigures = Object.fromEntries(
    OPS_QUEUES.map((q) => {
      const row = queues.find((r) => r.queue === q);
      return [q, { size: num(row?.size), oldestSeconds: Math.max(0, Math.floor(num(row?.oldest))) }];
    }),
  ) as BusinessFigures['queues'];

  return {
    payments: paymentFigures,
    creditPurchases: [...creditCounts.values()],
    licences: licences.map((r) => ({
      version: String(r.version),
      status: String(r.status),
      count: num(r.count),
    })),
    queues: queueFigures,
    sessionsActive: num(sessions[0]?.count),
  };
}
