/**
 * The price catalogue. It is DATA (SPEC §3: "the table is data and ops can change it"): `DEFAULT_CATALOG`
 * is the seed value, a stored catalogue is checked with `catalogSchema` when loaded, and every pricing
 * function takes the catalogue as a parameter instead of reading a global.
 */
import { z } from 'zod';

export const EDITIONS = ['STANDARD', 'ENTERPRISE'] as const;
export const MODES = ['LOCAL', 'CLOUD'] as const;
export const PERIODS = ['MONTHLY', 'QUARTERLY', 'ANNUAL'] as const;

export type Edition = (typeof EDITIONS)[number];
export type Mode = (typeof MODES)[number];
export type BillingPeriod = (typeof PERIODS)[number];

export const PERIOD_MONTHS: Readonly<Record<BillingPeriod, number>> = {
  MONTHLY: 1,
  QUARTERLY: 3,
  ANNUAL: 12,
};

export interface SupportPack {
  readonly minutes: number;
  readonly priceCents: number;
}

/** How an extension is counted: once per base, or once per concurrent connection. */
export const EXTENSION_BASES = ['PER_BASE', 'PER_CONNECTION'] as const;
export type ExtensionBasis = (typeof EXTENSION_BASES)[number];

/** An add-on module sold per base ("Extensions Gestan"), priced per month by billing period. */
export interface CatalogExtension {
  /** what the licence file carries and the ERP checks: `[A-Z0-9_]{2,32}` */
  readonly code: string;
  readonly name: string;
  readonly basis: ExtensionBasis;
  /** cents excl. VAT per month (per connection for PER_CONNECTION), by billing period */
  readonly monthlyPrices: Readonly<Record<BillingPeriod, number>>;
}

export interface Catalog {
  readonly currency: 'EUR';
  /** Cents excl. VAT per concurrent connection per month, by edition, mode and billing period. */
  readonly licencePrices: Readonly<
    Record<Edition, Readonly<Record<Mode, Readonly<Record<BillingPeriod, number>>>>>
  >;
  /** Support-time packs, cents excl. VAT. */
  readonly supportPacks: readonly SupportPack[];
  readonly walletMinimumRechargeCents: number;
  /** extensions a base may add to its paid licence */
  readonly extensions: readonly CatalogExtension[];
}

export const DEFAULT_CATALOG: Catalog = {
  currency: 'EUR',
  licencePrices: {
    STANDARD: {
      LOCAL: { MONTHLY: 0, QUARTERLY: 0, ANNUAL: 0 },
      CLOUD: { MONTHLY: 1200, QUARTERLY: 1100, ANNUAL: 1000 },
    },
    ENTERPRISE: {
      LOCAL: { MONTHLY: 1000, QUARTERLY: 950, ANNUAL: 850 },
      CLOUD: { MONTHLY: 2000, QUARTERLY: 1850, ANNUAL: 1700 },
    },
  },
  supportPacks: [
    { minutes: 15, priceCents: 3000 },
    { minutes: 30, priceCents: 5500 },
    { minutes: 60, priceCents: 10000 },
  ],
  walletMinimumRechargeCents: 1000,
  extensions: [
    {
      code: 'STOCKS',
      name: 'Extension Gestan Stocks',
      basis: 'PER_BASE',
      monthlyPrices: { MONTHLY: 1500, QUARTERLY: 1400, ANNUAL: 1200 },
    },
    {
      code: 'PAIE',
      name: 'Extension Gestan Paie',
      basis: 'PER_CONNECTION',
      monthlyPrices: { MONTHLY: 500, QUARTERLY: 450, ANNUAL: 400 },
    },
  ],
};

const cents = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
// zod 4 records keyed by an enum are exhaustive: a missing edition, mode or period is rejected.
const periodPrices = z.record(z.enum(PERIODS), cents);
const modePrices = z.record(z.enum(MODES), periodPrices);

export const catalogSchema = z.object({
  currency: z.literal('EUR'),
  licencePrices: z.record(z.enum(EDITIONS), modePrices),
  supportPacks: z
    .array(z.object({ minutes: z.number().int().positive(), priceCents: cents }))
    .refine(
      (packs) => new Set(packs.map((p) => p.minutes)).size === packs.length,
      'support pack durations must be unique',
    ),
  walletMinimumRechargeCents: cents,
  // catalogue versions saved before extensions existed have none
  extensions: z
    .array(
      z.object({
        code: z.string().regex(/^[A-Z0-9_]{2,32}$/),
        name: z.string().min(1).max(120),
        basis: z.enum(EXTENSION_BASES),
        monthlyPrices: periodPrices,
      }),
    )
    .refine((list) => new Set(list.map((e) => e.code)).size === list.length, 'extension codes must be unique')
    .default([]),
}) satisfies z.ZodType<Catalog>;

/** STANDARD + LOCAL is free for life: no payment, no period, and the fallback when a paid licence ends. */
export function isFreeLicence(edition: Edition, mode: Mode): boolean {
  return edition === 'STANDARD' && mode === 'LOCAL';
}

export interface LicenceChoice {
  edition: Edition;
  mode: Mode;
  period: BillingPeriod;
  connections: number;
}

/** Unit price: cents excl. VAT per connection per month. */
export function unitPriceCents(
  catalog: Catalog,
  edition: Edition,
  mode: Mode,
  period: BillingPeriod,
): number {
  return catalog.licencePrices[edition][mode][period];
}

/** Price of one full period excl. VAT = unit × connections × months (SPEC §3). */
export function licencePriceCents(catalog: Catalog, choice: LicenceChoice): number {
  const { edition, mode, period, connections } = choice;
  if (!Number.isSafeInteger(connections) || connections < 0) {
    throw new RangeError(`connections must be a non-negative integer, got ${connections}`);
  }
  return unitPriceCents(catalog, edition, mode, period) * connections * PERIOD_MONTHS[period];
}

export function findExtension(catalog: Catalog, code: string): CatalogExtension | undefined {
  return catalog.extensions.find((e) => e.code === code);
}

export function findSupportPack(catalog: Catalog, minutes: number): SupportPack | undefined {
  return catalog.supportPacks.find((pack) => pack.minutes === minutes);
}
