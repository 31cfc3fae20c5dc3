import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decideRefund, refundableCents } from '../../domain/refund';

// a 60-minute support pack at 102 € incl. VAT
const pack = { amountCents: 10200, creditAmount: 3600 };
const none = { refundedCents: 0, debitedCredit: 0 };

describe('refund of a credit purchase', () => {
  it('unused pack: all of it, the whole pack taken back', () => {
    expect(decideRefund(pack, none, 3600, 10200)).toEqual({
      ok: true,
      amountCents: 10200,
      debitCredit: 3600,
    });
  });

  it('partly used pack (15 of 60 min used): three quarters back at most, refused above', () => {
    expect(refundableCents(pack, none, 2700)).toBe(7650);
    expect(decideRefund(pack, none, 2700, 7650)).toEqual({ ok: true, amountCents: 7650, debitCredit: 2700 });
    expect(decideRefund(pack, none, 2700, 7651)).toEqual({
      ok: false,
      reason: 'EXCEEDS_UNUSED',
      refundableCents: 7650,
    });
  });

  it('nothing left, a zero or fractional amount: refused', () => {
    expect(decideRefund(pack, none, 0, 1)).toMatchObject({ ok: false, reason: 'EXCEEDS_UNUSED' });
    expect(decideRefund(pack, none, 3600, 0)).toMatchObject({ ok: false, reason: 'AMOUNT_INVALID' });
    expect(decideRefund(pack, none, 3600, 1.5)).toMatchObject({ ok: false, reason: 'AMOUNT_INVALID' });
  });

  it('wallet recharge: cents for cents', () => {
    const recharge = { amountCents: 5000, creditAmount: 5000 };
    expect(decideRefund(recharge, none, 1234, 1234)).toEqual({
      ok: true,
      amountCents: 1234,
      debitCredit: 1234,
    });
  });

  it('any sequence of partial refunds: never more money than paid, never more credit than unused or bought', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 100_000 })), {
          maxLength: 8,
        }),
        (amountCents, creditAmount, steps) => {
          const purchase = { amountCents, creditAmount };
          const soFar = { refundedCents: 0, debitedCredit: 0 };
          let balance = creditAmount;
          for (const [used, asked] of steps) {
            balance = Math.max(0, balance - used);
            const decision = decideRefund(purchase, soFar, balance, asked);
            if (!decision.ok) continue;
            expect(decision.debitCredit).toBeLessThanOrEqual(balance);
            balance -= decision.debitCredit;
            soFar.refundedCents += decision.amountCents;
            soFar.debitedCredit += decision.debitCredit;
            expect(soFar.refundedCents).toBeLessThanOrEqual(amountCents);
            expect(soFar.debitedCredit).toBeLessThanOrEqual(creditAmount);
          }
        },
      ),
    );
  });
});
