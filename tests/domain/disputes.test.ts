import fc from 'fast-check';
import {
  creditToDebit,
  disputeOutcomeOf,
  eventApplies,
  isFinal,
  licenceAfterLostDispute,
  type DisputeOutcome,
} from '../../domain/disputes';

describe("Stripe's dispute statuses", () => {
  it.each([
    ['warning_needs_response', 'OPEN'],
    ['warning_under_review', 'OPEN'],
    ['needs_response', 'OPEN'],
    ['under_review', 'OPEN'],
    ['won', 'WON'],
    ['lost', 'LOST'],
    ['warning_closed', 'CLOSED'],
    ['charge_refunded', 'CLOSED'],
    ['prevented', 'CLOSED'],
    ['something_new', 'OPEN'],
  ])('%s → %s', (status, outcome) => {
    expect(disputeOutcomeOf(status)).toBe(outcome);
  });
});

describe('which event wins', () => {
  const outcomes: DisputeOutcome[] = ['OPEN', 'WON', 'LOST', 'CLOSED'];

  it('a final outcome never goes back, whatever comes after it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<DisputeOutcome>('WON', 'LOST', 'CLOSED'),
        fc.constantFrom(...outcomes),
        fc.integer(),
        fc.integer(),
        (recorded, incoming, recordedAt, eventAt) => {
          expect(
            eventApplies({ outcome: recorded, lastEventAt: recordedAt }, { outcome: incoming, eventAt }),
          ).toBe(false);
        },
      ),
    );
  });

  it('an open dispute takes any final outcome, and a newer (or same-second) open state only', () => {
    expect(eventApplies({ outcome: 'OPEN', lastEventAt: 100 }, { outcome: 'LOST', eventAt: 50 })).toBe(true);
    expect(eventApplies({ outcome: 'OPEN', lastEventAt: 100 }, { outcome: 'OPEN', eventAt: 100 })).toBe(true);
    expect(eventApplies({ outcome: 'OPEN', lastEventAt: 100 }, { outcome: 'OPEN', eventAt: 99 })).toBe(false);
  });

  it('any delivery order of one dispute’s events ends on its final outcome', () => {
    // a dispute's life: open states in time order, then one final state; delivered shuffled
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.constantFrom<DisputeOutcome>('WON', 'LOST', 'CLOSED'),
        fc.integer({ min: 0, max: 1000 }),
        (opens, final, seed) => {
          const events: { outcome: DisputeOutcome; eventAt: number }[] = [
            ...Array.from({ length: opens }, (_, i) => ({ outcome: 'OPEN' as const, eventAt: i })),
            { outcome: final, eventAt: opens },
          ];
          const order = events
            .map((e, i) => ({ e, k: (i * 7919 + seed) % 101 }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.e);
          let state: { outcome: DisputeOutcome; lastEventAt: number } | undefined;
          for (const e of order) {
            if (!state || eventApplies(state, e)) state = { outcome: e.outcome, lastEventAt: e.eventAt };
          }
          expect(state!.outcome).toBe(final);
          expect(isFinal(state!.outcome)).toBe(true);
        },
      ),
    );
  });
});

describe('what a lost dispute does', () => {
  it('a LOCAL licence ends, a CLOUD one is suspended (as after the last dunning failure)', () => {
    expect(licenceAfterLostDispute('LOCAL')).toBe('ENDED');
    expect(licenceAfterLostDispute('CLOUD')).toBe('SUSPENDED');
  });

  it('credit taken back: what the disputed amount bought, never more than is left unused', () => {
    expect(creditToDebit({ amountCents: 5000, creditAmount: 5000 }, 5000, 3000)).toBe(3000);
    expect(creditToDebit({ amountCents: 5000, creditAmount: 5000 }, 5000, 8000)).toBe(5000);
    expect(creditToDebit({ amountCents: 12000, creditAmount: 7200 }, 6000, 7200)).toBe(3600);
    expect(creditToDebit({ amountCents: 5000, creditAmount: 5000 }, 5000, 0)).toBe(0);
    expect(creditToDebit({ amountCents: 5000, creditAmount: 5000 }, 5000, -200)).toBe(0);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.integer({ min: -1_000_000, max: 2_000_000 }),
        (amountCents, creditAmount, disputed, balance) => {
          const debit = creditToDebit({ amountCents, creditAmount }, disputed, balance);
          expect(Number.isSafeInteger(debit)).toBe(true);
          expect(debit).toBeGreaterThanOrEqual(0);
          expect(debit).toBeLessThanOrEqual(Math.max(0, balance));
          expect(debit).toBeLessThanOrEqual(creditAmount);
        },
      ),
    );
  });
});
