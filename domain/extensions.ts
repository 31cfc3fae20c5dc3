/**
 * Extensions ("Extensions Gestan"): add-on modules a base adds to its paid licence. Each is priced per
 * month by billing period, once per base or once per connection (catalogue data, `catalog.ts`). A licence
 * carries their codes, sorted; the signed licence file tells an offline ERP which ones it may run.
 */
import { PERIOD_MONTHS, findExtension, type BillingPeriod, type Catalog } from './catalog';
import { buildLine, buildTotals, type Quote, type QuoteLine } from './quote';
import type { LicenceTerms } from './licence';
import type { VatRule } from './vat';

export interface ExtensionTerms {
  connections: number;
  period: BillingPeriod;
  extensions?: readonly string[];
}

/** Codes sorted with duplicates removed: the one spelling a licence, a key and a file use. */
export function normaliseExtensions(codes: readonly string[] | undefined): string[] {
  return [...new Set(codes ?? [])].sort();
}

/** The codes the catalogue does not sell. */
export function unknownExtensions(catalog: Catalog, codes: readonly string[] | undefined): string[] {
  return (codes ?? []).filter((code) => !findExtension(catalog, code));
}

/** "Extension Gestan Paie — 3 connexions × 12 mois", quantity 36, unit 400: one line per extension. */
export function extensionLines(catalog: Catalog, terms: ExtensionTerms, vat: VatRule): QuoteLine[] {
  const months = PERIOD_MONTHS[terms.period];
  return normaliseExtensions(terms.extensions).map((code) => {
    const ext = findExtension(catalog, code);
    if (!ext) throw new RangeError(`no extension ${code} in the catalogue`);
    const perConnection = ext.basis === 'PER_CONNECTION';
    const plural = terms.connections > 1 ? 's' : '';
    return buildLine(
      {
        description: perConnection
          ? `${ext.name} — ${terms.connections} connexion${plural} × ${months} mois`
          : `${ext.name} — ${months} mois`,
        quantity: (perConnection ? terms.connections : 1) * months,
        unitPriceCents: ext.monthlyPrices[terms.period],
      },
      vat,
    );
  });
}

const NO_VAT: VatRule = { kind: 'OUTSIDE_EU', rateBasisPoints: 0 };

/** What the extensions of `terms` cost for one full period, excl. VAT. */
export function extensionsPriceCents(catalog: Catalog, terms: ExtensionTerms): number {
  return extensionLines(catalog, terms, NO_VAT).reduce((sum, line) => sum + line.totalExclVatCents, 0);
}

/** A licence quote with a line for each extension bought with it (totals recomputed). */
export function withExtensionLines(catalog: Catalog, licenceQuote: Quote, terms: ExtensionTerms): Quote {
  const added = extensionLines(catalog, terms, licenceQuote.vat);
  if (added.length === 0) return licenceQuote;
  const lines = [...licenceQuote.lines, ...added];
  return { ...licenceQuote, lines, ...buildTotals(lines) };
}

/** What a licence becomes after a change at once: new edition, mode or connections, extensions added. */
export function termsAfterChange(
  current: LicenceTerms,
  change: Partial<Pick<LicenceTerms, 'edition' | 'mode' | 'connections'>> & { addExtensions?: string[] },
): LicenceTerms {
  const { addExtensions, ...terms } = change;
  const next: LicenceTerms = { ...current, ...terms };
  if (addExtensions?.length || current.extensions?.length)
    next.extensions = normaliseExtensions([...(current.extensions ?? []), ...(addExtensions ?? [])]);
  return next;
}
