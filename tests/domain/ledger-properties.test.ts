/**
 * Ledger properties (SPEC §7) over the pure posting rule `movementAllowed`: whatever sequence of credits,
 * charges, limit changes and replayed idempotency keys arrives, a ledger that follows the rule never goes
 * below minus its overdraft limit (unless the limit is lowered under an existing debt, which refuses every
 * further charge), its balance is the sum of its entries, and a replay changes nothing.
 *
 * The model below posts exactly as services/credits/post-credit-entry.ts does (key seen → first result;
 * refused → nothing written; else append and move the balance); the integration property
 * (tests/integration/wallet-property.test.ts) runs the same kind of sequence against PostgreSQL.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { movementAllowed } from '../../domain/credits';

interface Entry {
  key: string;
  amount: number;
  balanceAfter: number;
}

class ModelLedger {
  entries: Entry[] = [];
  balance = 0;
  overdraftLimit = 0;
  private byKey = new Map<string, Entry>();

  post(key: string, amount: number): { ok: true; entry: Entry; replayed: boolean } | { ok: false } {
    const seen = this.byKey.get(key);
    if (seen) return { ok: true, entry: seen, replayed: true };
    if (!movementAllowed(this.balance, amount, this.overdraftLimit)) return { ok: false };
    this.balance += amount;
    const entry = { key, amount, balanceAfter: this.balance };
    this.entries.push(entry);
    this.byKey.set(key, entry);
    return { ok: true, entry, replayed: false };
  }
}

type Op =
  | { kind: 'credit'; amount: number }
  | { kind: 'charge'; amount: number }
  | { kind: 'replay'; index: number }
  | { kind: 'limit'; limit: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('credit' as const),
      amount: fc.integer({ min: 1, max: 50_000 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('charge' as const),
      amount: fc.integer({ min: 1, max: 80_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replay' as const), index: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('limit' as const),
      limit: fc.integer({ min: 0, max: 100_000 }),
    }),
  },
);

describe('ledger posting rule', () => {
  it('a credit is always accepted; a charge only down to minus the limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((a) => a !== 0),
        fc.integer({ min: 0, max: 1_000_000 }),
        (balance, amount, limit) => {
          const allowed = movementAllowed(balance, amount, limit);
          if (amount > 0) expect(allowed).toBe(true);
          else expect(allowed).toBe(balance + amount >= -limit);
        },
      ),
    );
  });

  it('a smaller charge is allowed whenever a bigger one is, and a higher limit never refuses more', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -100_000, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (balance, a, b, l1, l2) => {
          const [small, big] = a <= b ? [a, b] : [b, a];
          const [low, high] = l1 <= l2 ? [l1, l2] : [l2, l1];
          if (movementAllowed(balance, -big, low)) expect(movementAllowed(balance, -small, low)).toBe(true);
          if (movementAllowed(balance, -big, low)) expect(movementAllowed(balance, -big, high)).toBe(true);
        },
      ),
    );
  });

  it('any sequence: never below the limit, balance = sum of entries, replays change nothing', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const ledger = new ModelLedger();
        let next = 0;
        for (const o of ops) {
          const before = ledger.balance;
          const entriesBefore = ledger.entries.length;
          if (o.kind === 'limit') {
            ledger.overdraftLimit = o.limit;
            continue;
          }
          if (o.kind === 'replay') {
            if (ledger.entries.length === 0) continue;
            const original = ledger.entries[o.index % ledger.entries.length]!;
            const result = ledger.post(original.key, original.amount);
            expect(result).toEqual({ ok: true, entry: original, replayed: true });
            expect(ledger.balance).toBe(before);
            expect(ledger.entries).toHaveLength(entriesBefore);
            continue;
          }
          const amount = o.kind === 'credit' ? o.amount : -o.amount;
          const result = ledger.post(`k${next++}`, amount);
          if (result.ok) {
            expect(ledger.balance).toBe(before + amount);
            expect(result.entry.balanceAfter).toBe(ledger.balance);
          } else {
            // a refusal writes nothing
            expect(o.kind).toBe('charge');
            expect(before - o.amount).toBeLessThan(-ledger.overdraftLimit);
            expect(ledger.balance).toBe(before);
            expect(ledger.entries).toHaveLength(entriesBefore);
          }
          // a charge never takes the balance below minus the limit in force
          if (o.kind === 'charge' && result.ok)
            expect(ledger.balance).toBeGreaterThanOrEqual(-ledger.overdraftLimit);
          expect(ledger.balance).toBe(ledger.entries.reduce((sum, e) => sum + e.amount, 0));
        }
        // each entry's balanceAfter is the running sum: the ledger can be audited line by line
        let running = 0;
        for (const e of ledger.entries) {
          running += e.amount;
          expect(e.balanceAfter).toBe(running);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('replaying every accepted key again, in any order, gives the same ledger', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.integer({ min: -30_000, max: 30_000 }).filter((a) => a !== 0),
          { maxLength: 60 },
        ),
        fc.integer({ min: 0, max: 50_000 }),
        (amounts, limit) => {
          const ledger = new ModelLedger();
          ledger.overdraftLimit = limit;
          const accepted = amounts.filter((a, i) => ledger.post(`k${i}`, a).ok).length;
          expect(ledger.entries).toHaveLength(accepted);
          const snapshot = { balance: ledger.balance, entries: [...ledger.entries] };
          // replay the accepted keys in reverse order (a refused key was never recorded: it is a new request)
          [...ledger.entries].reverse().forEach((e) => ledger.post(e.key, e.amount));
          expect({ balance: ledger.balance, entries: ledger.entries }).toEqual(snapshot);
          expect(ledger.balance).toBeGreaterThanOrEqual(-limit);
        },
      ),
    );
  });
});
