import {
  DEFAULT_CATALOG,
  EDITIONS,
  MODES,
  PERIODS,
  catalogSchema,
  findSupportPack,
  isFreeLicence,
  licencePriceCents,
  type BillingPeriod,
  type Edition,
  type Mode,
} from '../../domain/catalog';

// The SPEC §3 table, cents per connection per month.
const table: [Edition, Mode, BillingPeriod, number, number][] = [
  // edition, mode, period, unit, months
  ['STANDARD', 'LOCAL', 'MONTHLY', 0, 1],
  ['STANDARD', 'LOCAL', 'QUARTERLY', 0, 3],
  ['STANDARD', 'LOCAL', 'ANNUAL', 0, 12],
  ['STANDARD', 'CLOUD', 'MONTHLY', 1200, 1],
  ['STANDARD', 'CLOUD', 'QUARTERLY', 1100, 3],
  ['STANDARD', 'CLOUD', 'ANNUAL', 1000, 12],
  ['ENTERPRISE', 'LOCAL', 'MONTHLY', 1000, 1],
  ['ENTERPRISE', 'LOCAL', 'QUARTERLY', 950, 3],
  ['ENTERPRISE', 'LOCAL', 'ANNUAL', 850, 12],
  ['ENTERPRISE', 'CLOUD', 'MONTHLY', 2000, 1],
  ['ENTERPRISE', 'CLOUD', 'QUARTERLY', 1850, 3],
  ['ENTERPRISE', 'CLOUD', 'ANNUAL', 1700, 12],
];

describe('catalogue', () => {
  it.each(table)('%s %s %s: %i ct per connection per month', (edition, mode, period, unit, months) => {
    expect(DEFAULT_CATALOG.licencePrices[edition][mode][period]).toBe(unit);
    expect(licencePriceCents(DEFAULT_CATALOG, { edition, mode, period, connections: 1 })).toBe(unit * months);
    expect(licencePriceCents(DEFAULT_CATALOG, { edition, mode, period, connections: 3 })).toBe(
      unit * 3 * months,
    );
  });

  it('covers every combination once', () => {
    expect(table).toHaveLength(EDITIONS.length * MODES.length * PERIODS.length);
  });

  it('annual is the cheapest period for every paid licence', () => {
    for (const edition of EDITIONS) {
      for (const mode of MODES) {
        const p = DEFAULT_CATALOG.licencePrices[edition][mode];
        expect(p.ANNUAL).toBeLessThanOrEqual(p.QUARTERLY);
        expect(p.QUARTERLY).toBeLessThanOrEqual(p.MONTHLY);
      }
    }
  });

  it('has the support packs and the wallet minimum', () => {
    expect(findSupportPack(DEFAULT_CATALOG, 15)?.priceCents).toBe(3000);
    expect(findSupportPack(DEFAULT_CATALOG, 30)?.priceCents).toBe(5500);
    expect(findSupportPack(DEFAULT_CATALOG, 60)?.priceCents).toBe(10000);
    expect(findSupportPack(DEFAULT_CATALOG, 45)).toBeUndefined();
    expect(DEFAULT_CATALOG.walletMinimumRechargeCents).toBe(1000);
  });

  it('only STANDARD + LOCAL is free', () => {
    expect(isFreeLicence('STANDARD', 'LOCAL')).toBe(true);
    expect(isFreeLicence('STANDARD', 'CLOUD')).toBe(false);
    expect(isFreeLicence('ENTERPRISE', 'LOCAL')).toBe(false);
  });

  it('rejects a fractional connection count', () => {
    expect(() =>
      licencePriceCents(DEFAULT_CATALOG, {
        edition: 'ENTERPRISE',
        mode: 'LOCAL',
        period: 'ANNUAL',
        connections: 1.5,
      }),
    ).toThrow(RangeError);
  });

  describe('schema', () => {
    // A loosely typed deep copy, so a test can break it in ways the Catalog type forbids.
    interface LooseCatalog {
      currency: string;
      licencePrices: Record<string, Record<string, Record<string, number>>>;
      supportPacks: { minutes: number; priceCents: number }[];
    }
    const clone = () => JSON.parse(JSON.stringify(DEFAULT_CATALOG)) as LooseCatalog;

    it('accepts the default catalogue', () => {
      expect(catalogSchema.parse(DEFAULT_CATALOG)).toEqual(DEFAULT_CATALOG);
    });

    it('rejects a missing combination', () => {
      const c = clone();
      delete c.licencePrices.ENTERPRISE!.CLOUD!.QUARTERLY;
      expect(catalogSchema.safeParse(c).success).toBe(false);
      const d = clone();
      delete d.licencePrices.STANDARD!.CLOUD;
      expect(catalogSchema.safeParse(d).success).toBe(false);
    });

    it('rejects negative or fractional prices, another currency, duplicate packs', () => {
      const negative = clone();
      negative.licencePrices.STANDARD!.CLOUD!.MONTHLY = -1;
      const fractional = clone();
      fractional.licencePrices.STANDARD!.CLOUD!.MONTHLY = 12.5;
      const usd = { ...clone(), currency: 'USD' };
      const duplicate = clone();
      duplicate.supportPacks.push({ minutes: 15, priceCents: 1 });
      for (const bad of [negative, fractional, usd, duplicate])
        expect(catalogSchema.safeParse(bad).success).toBe(false);
    });
  });
});
