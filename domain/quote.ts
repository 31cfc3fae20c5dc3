/**
 * Quotes and invoice lines: what the customer sees before paying (HT and TTC) and what the invoice repeats.
 *
 * A line carries what French law asks an invoice line to show (SPEC §7): quantity, unit price excl. VAT,
 * VAT rate and amount. For a licence the quantity is connections × months and the unit is the catalogue price
 * per connection per month, so quantity × unit = line total exactly and the reader can check it.
 * VAT is computed per line, half-up to the cent (see money.ts); totals are sums of the rounded lines.
 */
import { z } from 'zod';
import {
  EDITIONS,
  MODES,
  PERIOD_MONTHS,
  PERIODS,
  findSupportPack,
  unitPriceCents,
  type BillingPeriod,
  type Catalog,
  type LicenceChoice,
} from './catalog';
import { isCountryCode } from './countries';
import { applyRateBasisPoints } from './money';
import { vatNumberRefused, vatPrefix, vatRule, type VatRule } from './vat';

export interface QuoteLine {
  description: string;
  quantity: number;
  unitPriceCents: number;
  totalExclVatCents: number;
  vatRateBasisPoints: number;
  vatCents: number;
}

export interface Totals {
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
}

export interface Quote extends Totals {
  currency: Catalog['currency'];
  lines: QuoteLine[];
  vat: VatRule;
}

export const MAX_CONNECTIONS = 1000;

const PERIOD_LABELS: Record<BillingPeriod, string> = {
  MONTHLY: 'mensuel',
  QUARTERLY: 'trimestriel',
  ANNUAL: 'annuel',
};

export function buildLine(
  item: { description: string; quantity: number; unitPriceCents: number },
  vat: VatRule,
): QuoteLine {
  const totalExclVatCents = item.quantity * item.unitPriceCents;
  return {
    ...item,
    totalExclVatCents,
    vatRateBasisPoints: vat.rateBasisPoints,
    vatCents: applyRateBasisPoints(totalExclVatCents, vat.rateBasisPoints),
  };
}

export function buildTotals(lines: readonly QuoteLine[]): Totals {
  const totalExclVatCents = lines.reduce((sum, line) => sum + line.totalExclVatCents, 0);
  const vatCents = lines.reduce((sum, line) => sum + line.vatCents, 0);
  return { totalExclVatCents, vatCents, totalInclVatCents: totalExclVatCents + vatCents };
}

/** "Licence ENTERPRISE LOCAL — 3 connexions × 12 mois (annuel)", quantity 36, unit 850. */
export function licenceLine(catalog: Catalog, choice: LicenceChoice, vat: VatRule): QuoteLine {
  const { edition, mode, period, connections } = choice;
  const months = PERIOD_MONTHS[period];
  const plural = connections > 1 ? 's' : '';
  return buildLine(
    {
      description: `Licence ${edition} ${mode} — ${connections} connexion${plural} × ${months} mois (${PERIOD_LABELS[period]})`,
      quantity: connections * months,
      unitPriceCents: unitPriceCents(catalog, edition, mode, period),
    },
    vat,
  );
}

/** One support-time pack as an invoice line; throws if the catalogue has no pack of that duration. */
export function supportPackQuote(catalog: Catalog, minutes: number, vat: VatRule): QuoteLine {
  const pack = findSupportPack(catalog, minutes);
  if (!pack) throw new RangeError(`no support pack of ${minutes} minutes in the catalogue`);
  return buildLine(
    { description: `Pack support ${minutes} min`, quantity: 1, unitPriceCents: pack.priceCents },
    vat,
  );
}

export const quoteRequestSchema = z
  .object({
    edition: z.enum(EDITIONS),
    mode: z.enum(MODES),
    period: z.enum(PERIODS),
    connections: z.number().int().min(1).max(MAX_CONNECTIONS),
    country: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 3166-1 alpha-3 country code, e.g. FRA')
      .refine(isCountryCode, 'unknown country code'),
    vatNumber: z.string().min(1).max(20).optional(),
  })
  .superRefine((request, ctx) => {
    // Inside the EU VAT territory the number decides the VAT (reverse charge), so its format must be right.
    const { country, vatNumber } = request;
    if (vatNumberRefused({ country, vatNumber })) {
      ctx.addIssue({
        code: 'custom',
        path: ['vatNumber'],
        message: `not a plausible VAT number for ${country}: expected ${vatPrefix(country)} then the country's format and check digits`,
      });
    }
  });

export type QuoteRequest = z.infer<typeof quoteRequestSchema>;

/**
 * Prices a licence purchase. The request is validated again here (throws a ZodError): an implausible EU VAT
 * number must never turn into a reverse-charged invoice. Callers in workflow code should pass requests
 * already parsed by the API, so this never throws there.
 */
export function quote(catalog: Catalog, request: QuoteRequest): Quote {
  const { edition, mode, period, connections, country, vatNumber } = quoteRequestSchema.parse(request);
  const vat = vatRule({ country, vatNumber });
  const lines = [licenceLine(catalog, { edition, mode, period, connections }, vat)];
  return { currency: catalog.currency, lines, ...buildTotals(lines), vat };
}
