/**
 * One invoice of every kind the service issues, built with the domain rules the issuing paths use (quote,
 * renewal line, proration, support pack, wallet consumption, a promo code's discount line), with buyers whose names need every script
 * the API accepts.
 */
import { DEFAULT_CATALOG } from '../../domain/catalog';
import { consumptionLines } from '../../domain/consumption-invoice';
import { creditLines, type CreditNoteDocument } from '../../domain/credit-note';
import type { InvoiceBuyer, InvoiceDocument } from '../../domain/invoice';
import { parseLocalDate } from '../../domain/periods';
import { withDiscount } from '../../domain/promo-code';
import { changeQuote } from '../../domain/proration';
import { buildLine, buildTotals, licenceLine, quote, supportPackQuote } from '../../domain/quote';
import { vatRule } from '../../domain/vat';
import { testBilling } from './harness';

const buyer = (overrides: Partial<InvoiceBuyer>): InvoiceBuyer => ({
  companyName: 'Garage Martin',
  name: 'Paul Martin',
  address: '3 avenue Foch',
  postalCode: '69006',
  city: 'Lyon',
  country: 'FRA',
  email: 'compta@garage-martin.example',
  siren: '552100554',
  ...overrides,
});

function invoice(
  number: string,
  b: InvoiceBuyer,
  lines: InvoiceDocument['lines'],
  extra: Partial<InvoiceDocument> = {},
): InvoiceDocument {
  return {
    id: `test-${number}`,
    number,
    status: 'PAID',
    baseId: 'B-TEST-0001',
    accountId: null,
    issueDate: '2026-03-15',
    saleDate: '2026-03-15',
    dueDate: '2026-03-15',
    currency: 'EUR',
    seller: testBilling.seller,
    buyer: b,
    lines,
    vat: vatRule(b),
    totals: buildTotals(lines),
    paidAt: new Date('2026-03-15T09:30:00Z'),
    ...extra,
  };
}

export function invoiceOfEveryKind(): Record<string, InvoiceDocument> {
  const catalog = DEFAULT_CATALOG;
  const fr = buyer({});
  const frVat = vatRule(fr);

  const purchase = quote(catalog, {
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    period: 'ANNUAL',
    connections: 3,
    country: 'FRA',
  });

  const arabic = buyer({
    companyName: 'شركة الخليج للبرمجيات',
    name: 'Omar Al-Farsi',
    address: 'شارع الشيخ زايد',
    city: 'دبي',
    postalCode: '00000',
    country: 'ARE',
    siren: undefined,
  });
  const renewal = licenceLine(
    catalog,
    { edition: 'STANDARD', mode: 'CLOUD', period: 'MONTHLY', connections: 2 },
    vatRule(arabic),
  );

  const change = changeQuote(catalog, {
    current: { edition: 'ENTERPRISE', mode: 'LOCAL', period: 'ANNUAL', connections: 2 },
    next: { edition: 'ENTERPRISE', mode: 'LOCAL', period: 'ANNUAL', connections: 3 },
    periodStart: parseLocalDate('2026-01-10'),
    periodEnd: parseLocalDate('2027-01-10'),
    changeDate: parseLocalDate('2026-03-15'),
  });
  if (!change.ok) throw new Error(`change refused: ${change.reason}`);
  const greek = buyer({
    companyName: 'Ελληνική Λογιστική Α.Ε.',
    name: 'Νίκος Παπαδόπουλος',
    address: 'Οδός Ερμού 12',
    city: 'Αθήνα',
    postalCode: '10563',
    country: 'FRA',
  });
  const prorated = buildLine(
    {
      description: `Changement de licence vers ENTERPRISE LOCAL — prorata ${change.remainingDays}/${change.daysInPeriod} jours jusqu'au 2027-01-09`,
      quantity: 1,
      unitPriceCents: change.proratedCents,
    },
    vatRule(greek),
  );

  const pack = supportPackQuote(catalog, 30, frVat);

  const consumption = consumptionLines(
    [
      { type: 'sms', cents: 7 },
      { type: 'sms', cents: 7 },
      { type: 'apf', cents: 1999 },
      { type: 'App de Réception frais mensuels', cents: 990 },
    ],
    frVat,
    'mars 2026',
  );

  const polish = buyer({
    companyName: 'Szkoła Językowa Dvořák',
    name: 'Antonín Dvořák',
    address: 'ul. Piotrkowska 1',
    city: 'Łódź',
    postalCode: '90-001',
    country: 'POL',
    vatNumber: 'PL5260001246',
    siren: undefined,
  });
  const reverse = quote(catalog, {
    edition: 'ENTERPRISE',
    mode: 'CLOUD',
    period: 'ANNUAL',
    connections: 1,
    country: 'POL',
    vatNumber: 'PL5260001246',
  });

  const japanese = buyer({
    companyName: '株式会社テスト商事',
    name: '山田 太郎',
    address: '千代田区丸の内1-1',
    city: '東京',
    postalCode: '100-0005',
    country: 'JPN',
    siren: undefined,
  });
  const exportQuote = quote(catalog, {
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    period: 'ANNUAL',
    connections: 1,
    country: 'JPN',
  });

  const discounted = withDiscount(purchase, {
    code: 'BIENVENUE',
    kind: 'PERCENT',
    percentBasisPoints: 1250,
    duration: 'FIRST_PERIOD',
  });

  return {
    'licence-purchase': invoice('2026-000101', fr, purchase.lines),
    'promo-discount': invoice('2026-000108', fr, discounted.lines),
    renewal: invoice('2026-000102', arabic, [renewal], { saleDate: '2026-04-01' }),
    'prorated-change': invoice('2026-000103', greek, [prorated]),
    'support-pack': invoice('2026-000104', fr, [pack], { baseId: null, accountId: 42 }),
    'consumption-invoice': invoice('2026-000105', fr, consumption.lines, {
      baseId: null,
      accountId: 42,
      saleDate: '2026-03-31',
    }),
    'reverse-charge': invoice('2026-000106', polish, reverse.lines),
    export: invoice('2026-000107', japanese, exportQuote.lines),
  };
}

/** A refund credit note on the licence-purchase invoice above, refunded. */
export function creditNoteExample(): CreditNoteDocument {
  const invoice = invoiceOfEveryKind()['licence-purchase']!;
  const { lines, totals } = creditLines(12000, invoice.vat, invoice.number, 'REFUND');
  return {
    id: 'test-credit-note',
    number: 'AV-2026-000001',
    kind: 'REFUND',
    reason: 'Trop-perçu sur la licence',
    invoice: { number: invoice.number, issueDate: invoice.issueDate, saleDate: invoice.saleDate },
    baseId: invoice.baseId,
    accountId: null,
    issueDate: '2026-03-20',
    currency: 'EUR',
    seller: invoice.seller,
    buyer: invoice.buyer,
    lines,
    vat: invoice.vat,
    totals,
    refundedAt: new Date('2026-03-20T10:00:00Z'),
  };
}
