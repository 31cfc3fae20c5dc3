import { DEFAULT_CATALOG } from '../../domain/catalog';
import { extensionLines, extensionsPriceCents } from '../../domain/extensions';
import type { LicenceTerms } from '../../domain/licence';
import { parseLocalDate } from '../../domain/periods';
import { changeQuote } from '../../domain/proration';
import { periodEndTerms } from '../../domain/scheduled-change';
import { vatRule } from '../../domain/vat';

const terms: LicenceTerms = {
  edition: 'ENTERPRISE',
  mode: 'CLOUD',
  connections: 3,
  period: 'ANNUAL',
  extensions: ['PAIE', 'STOCKS'],
};

describe('extensions', () => {
  it('prices PER_BASE once and PER_CONNECTION per connection, per month of the period', () => {
    const lines = extensionLines(DEFAULT_CATALOG, terms, vatRule({ country: 'FRA' }));
    expect(lines.map((l) => [l.quantity, l.unitPriceCents])).toEqual([
      [36, 400],
      [12, 1200],
    ]);
    expect(extensionsPriceCents(DEFAULT_CATALOG, terms)).toBe(36 * 400 + 12 * 1200);
  });

  it('a connection added prorates the per-connection extensions too; removing one is not prorated', () => {
    const range = {
      periodStart: parseLocalDate('2026-01-01'),
      periodEnd: parseLocalDate('2027-01-01'),
      changeDate: parseLocalDate('2026-07-02'),
    };
    const added = changeQuote(DEFAULT_CATALOG, {
      current: terms,
      next: { ...terms, connections: 4 },
      ...range,
    });
    expect(added).toMatchObject({
      ok: true,
      nextPriceCents: added.ok ? added.currentPriceCents + 12 * (1700 + 400) : 0,
    });
    const removed = changeQuote(DEFAULT_CATALOG, {
      current: terms,
      next: { ...terms, extensions: ['PAIE'] },
      ...range,
    });
    expect(removed).toEqual({ ok: false, reason: 'DOWNGRADE_NOT_PRORATED' });
  });
});

describe('changes at the period end', () => {
  it('gives the next terms, extensions removed', () => {
    expect(
      periodEndTerms(terms, { connections: 1, period: 'MONTHLY', removeExtensions: ['STOCKS'] }),
    ).toEqual({
      ok: true,
      terms: { ...terms, connections: 1, period: 'MONTHLY', extensions: ['PAIE'] },
    });
  });

  it('refuses no change, the free licence and an extension not held', () => {
    expect(periodEndTerms(terms, { connections: 3 })).toEqual({ ok: false, reason: 'NO_CHANGE' });
    expect(periodEndTerms(terms, { edition: 'STANDARD', mode: 'LOCAL' })).toEqual({
      ok: false,
      reason: 'NEXT_LICENCE_IS_FREE',
    });
    expect(periodEndTerms({ ...terms, extensions: [] }, { removeExtensions: ['PAIE'] })).toEqual({
      ok: false,
      reason: 'EXTENSION_NOT_HELD',
    });
  });
});
