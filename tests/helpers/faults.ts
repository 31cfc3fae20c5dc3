/**
 * Helpers of the fault suite (tests/faults/): catching a step by holding a database row, signed Stripe
 * events for a licence purchase, polling.
 */
import pg from 'pg';
import Stripe from 'stripe';
import { TEST_WEBHOOK_SECRET } from './harness';

/** Reads until `ok`, every 250 ms, for at most `seconds`; the error says what was last read. */
export async function until<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  seconds = 60,
): Promise<T> {
  for (let i = 0; i < seconds * 4; i += 1) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await read())}`);
}

export interface RowLock {
  /** commits the holding transaction (idempotent) */
  release(): Promise<void>;
}

/**
 * Takes `SELECT ... FOR UPDATE` on one row in a transaction of its own and keeps it until `release()`: any
 * transaction that updates the row, or inserts a row referencing it, waits there — the step is caught.
 */
export async function rowLock(databaseUrl: string, table: string, id: string): Promise<RowLock> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  const { rowCount } = await client.query(`SELECT 1 FROM "${table}" WHERE id = $1 FOR UPDATE`, [id]);
  if (rowCount !== 1) throw new Error(`no ${table} row ${id} to lock`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await client.query('COMMIT');
      await client.end();
    },
  };
}

/** How many sessions of this database are waiting on a lock right now. */
export async function waitingOnLocks(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** A signed `payment_intent.*` event for a licence purchase's PaymentIntent, under a fresh event id. */
export function paymentIntentEvent(
  type: 'payment_intent.succeeded' | 'payment_intent.payment_failed',
  baseId: string,
  purchase: {
    purchaseId: string;
    quote: { totalInclVatCents: number };
    payment: { paymentIntentId: string };
  },
  /** the card or bank account the PaymentIntent names */
  paymentMethodId = 'pm_card_visa',
) {
  const amount = purchase.quote.totalInclVatCents;
  const payload = JSON.stringify({
    id: `evt_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type,
    data: {
      object: {
        id: purchase.payment.paymentIntentId,
        object: 'payment_intent',
        amount,
        amount_received: type === 'payment_intent.succeeded' ? amount : 0,
        payment_method: paymentMethodId,
        ...(type === 'payment_intent.payment_failed'
          ? { last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds' } }
          : {}),
        metadata: { workflowId: `subscription:${baseId}`, purchaseId: purchase.purchaseId, baseId },
      },
    },
  });
  return {
    payload,
    signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
  };
}

/**
 * Ends the sessions of this database that wait on a lock: after a SIGKILL, the dead worker's connections, as
 * PostgreSQL ends them once it notices their client is gone (otherwise a statement the dead worker sent
 * before dying, still waiting on the test's lock, would run and commit when the lock goes).
 */
export async function terminateWaiting(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
    );
    return rowCount ?? 0;
  } finally {
    await client.end();
  }
}
