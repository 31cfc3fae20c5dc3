/**
 * The price of every charge on a running licence, in one place: the workflow's activities price with it
 * when they charge, and the quote routes (`.../renewals/quote`, `.../changes/quote`) with it before, so the
 * price shown and the price charged are the same computation (their fingerprint, price-fingerprint.ts,
 * tells whether it moved in between).
 */
import { findExtension } from '../../domain/catalog';
import { extensionLines, unknownExtensions } from '../../domain/extensions';
import type { LicenceTerms } from '../../domain/licence';
import { addDays, type LocalDate } from '../../domain/periods';
import { withDiscount } from '../../domain/promo-code';
import { changeQuote, type ChangeRefusalReason } from '../../domain/proration';
import { buildLine, buildTotals, licenceLine, quote as quoteOf, type Quote } from '../../domain/quote';
import { vatRule } from '../../domain/vat';
import type { Db } from '../../infra/prisma';
import { getCatalog } from '../catalog/get-catalog';
import { billingDetailsSchema } from '../../domain/billing-party';
import { periodDiscount } from '../promo-codes/apply-promo-code';

async function buyerOfLicence(db: Db, licenceId: string) {
  const licence = await db.licence.findUniqueOrThrow({ where: { id: licenceId } });
  return billingDetailsSchema.parse(licence.billing);
}

/**
 * The next period at today's catalogue, with the buyer's VAT rule and, while its duration lasts, the
 * discount of the promo code redeemed at purchase (read here, when the period is priced).
 */
export async function priceRenewal(
  db: Db,
  input: { licenceId: string; terms: LicenceTerms; periodStart: LocalDate; periodEnd: LocalDate },
): Promise<Quote> {
  const buyer = await buyerOfLicence(db, input.licenceId);
  const catalog = await getCatalog(db);
  const { extensions, ...licence } = input.terms;
  const q = quoteOf(catalog, { ...licence, country: buyer.country, vatNumber: buyer.vatNumber });
  // an extension the catalogue no longer sells is not charged (docs/extensions-todo.md)
  const sold = { ...input.terms, extensions: (extensions ?? []).filter((c) => findExtension(catalog, c)) };
  const lines = [...q.lines, ...extensionLines(catalog, sold, q.vat)].map((l) => ({
    ...l,
    description: `${l.description} — du ${input.periodStart} au ${addDays(input.periodEnd, -1)}`,
  }));
  const dated: Quote = { ...q, lines, ...buildTotals(lines) };
  const discount = await periodDiscount(db, input.licenceId, input.periodStart);
  return discount ? withDiscount(dated, discount) : dated;
}

export interface ChangePriceInput {
  licenceId: string;
  current: LicenceTerms;
  next: LicenceTerms;
  periodStart: LocalDate;
  periodEnd: LocalDate;
  changeDate: LocalDate;
  renewedAhead: boolean;
}

export type ChangePrice =
  | { ok: true; quote: Quote; remainingDays: number; daysInPeriod: number }
  | { ok: false; reason: ChangeRefusalReason | 'RENEWED_AHEAD' | 'UNKNOWN_EXTENSION' };

/** The prorated price of adding connections or upgrading, as an invoice quote; or why it can't be done. */
export async function priceChange(db: Db, input: ChangePriceInput): Promise<ChangePrice> {
  // a period paid ahead was priced at the old terms: changing now would need a second proration
  if (input.renewedAhead) return { ok: false, reason: 'RENEWED_AHEAD' };
  const buyer = await buyerOfLicence(db, input.licenceId);
  const catalog = await getCatalog(db);
  const added = (input.next.extensions ?? []).filter((c) => !input.current.extensions?.includes(c));
  if (unknownExtensions(catalog, added).length > 0) return { ok: false, reason: 'UNKNOWN_EXTENSION' };
  const change = changeQuote(catalog, input);
  if (!change.ok) return change;
  const vat = vatRule({ country: buyer.country, vatNumber: buyer.vatNumber });
  const what = [
    licenceLine(catalog, input.next, vat).description.replace(/^Licence /, ''),
    ...(input.next.extensions ?? []).map((code) => findExtension(catalog, code)?.name ?? code),
  ].join(', ');
  const line = buildLine(
    {
      description: `Changement de licence vers ${what} — prorata ${change.remainingDays}/${change.daysInPeriod} jours jusqu'au ${addDays(input.periodEnd, -1)}`,
      quantity: 1,
      unitPriceCents: change.proratedCents,
    },
    vat,
  );
  return {
    ok: true,
    quote: { currency: catalog.currency, lines: [line], vat, ...buildTotals([line]) },
    remainingDays: change.remainingDays,
    daysInPeriod: change.daysInPeriod,
  };
}
