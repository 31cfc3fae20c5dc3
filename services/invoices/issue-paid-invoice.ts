import {
  formatInvoiceNumber,
  invoiceAmountProblems,
  isIsoDate,
  type InvoiceBuyer,
  type InvoiceDocument,
  type InvoiceSeller,
} from '../../domain/invoice';
import type { QuoteLine, Totals } from '../../domain/quote';
import type { VatRule } from '../../domain/vat';
import type { ViesConsultation } from '../../domain/vies';
import type { Db, Prisma } from '../../infra/prisma';
import { enqueueEInvoice } from '../e-invoicing/enqueue-e-invoice';
import { toInvoiceDocument } from './invoice-document';

export interface IssuePaidInvoiceInput {
  /** the base invoiced; omitted for an account's purchase made without a base (then accountId is given) */
  baseId?: string;
  accountId?: number;
  licenceId?: string;
  purchaseId?: string;
  /** the payment recorded in the same transaction; one invoice per payment */
  paymentId?: string;
  /** YYYY-MM-DD, the day the invoice is finalised: its year picks the number sequence */
  issueDate: string;
  /** YYYY-MM-DD, the day the sale is made (service start) */
  saleDate: string;
  /** YYYY-MM-DD; a paid invoice is due on its issue date unless said otherwise */
  dueDate?: string;
  seller: InvoiceSeller;
  buyer: InvoiceBuyer;
  lines: QuoteLine[];
  vat: VatRule;
  totals: Totals;
  paidAt: Date;
  /** the VIES consultation a reverse charge rests on, kept with the invoice */
  viesConsultation?: ViesConsultation;
}

/** Prisma JSON input from a typed value (interfaces lack the index signature Prisma's JSON type asks for). */
const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;

/** Mistakes of the caller, refused before a number is spent: an issued invoice can never be corrected. */
function inputProblems(input: IssuePaidInvoiceInput): string[] {
  const problems = invoiceAmountProblems(input.lines, input.totals);
  if (input.baseId === undefined && input.accountId === undefined)
    problems.push('an invoice names a base or a customer account');
  for (const name of ['issueDate', 'saleDate', 'dueDate'] as const) {
    const value = input[name];
    if (value !== undefined && !isIsoDate(value)) problems.push(`${name} must be a YYYY-MM-DD date`);
  }
  input.lines.forEach((line, i) => {
    if (line.vatRateBasisPoints !== input.vat.rateBasisPoints)
      problems.push(`line ${i}: VAT rate differs from the invoice's VAT rule`);
  });
  if (input.vat.kind === 'EU_REVERSE_CHARGE' && !input.buyer.vatNumber)
    problems.push("reverse charge needs the buyer's VAT number on the invoice");
  return problems;
}

/**
 * Finalises a paid invoice: allocates the next number of the issue date's year and records the invoice.
 *
 * MUST run inside the transaction that records the payment (`prisma.$transaction(async (tx) => ...)`, default
 * READ COMMITTED isolation). The number comes from one upsert on `InvoiceSequence`: its row lock makes
 * concurrent payments take numbers one after the other, and a transaction that rolls back releases its
 * increment with everything else, so committed numbers have no gap and no duplicate. The lock is held until
 * the caller commits: keep the rest of that transaction short.
 *
 * Idempotent per payment: a second call for the same `paymentId` returns the invoice already issued. Two
 * calls racing for the same payment cannot both commit (unique `paymentId`); the loser rolls back, number
 * included.
 *
 * Throws a plain Error on caller bugs (amounts that don't add up, bad dates, an issue date earlier than the
 * previous invoice's — numbers must follow issue dates): those are not retryable business refusals.
 */
export async function issuePaidInvoice(tx: Db, input: IssuePaidInvoiceInput): Promise<InvoiceDocument> {
  // An interactive-transaction client has no $transaction; the root client would commit the number on its
  // own and a later failure would leave a gap.
  if ('$transaction' in tx) throw new Error('issuePaidInvoice must run inside the payment transaction');

  if (input.paymentId !== undefined) {
    const existing = await tx.invoice.findUnique({ where: { paymentId: input.paymentId } });
    if (existing) {
      if (
        (existing.baseId ?? undefined) !== input.baseId ||
        existing.totalInclVatCents !== input.totals.totalInclVatCents
      )
        throw new Error(
          `payment ${input.paymentId} is already invoiced (${existing.number}) with other data`,
        );
      return toInvoiceDocument(existing);
    }
  }
  const problems = inputProblems(input);
  if (problems.length) throw new Error(`invalid invoice: ${problems.join('; ')}`);

  const year = Number(input.issueDate.slice(0, 4));
  const [allocated] = await tx.$queryRaw<{ lastSeq: number }[]>`
    INSERT INTO "InvoiceSequence" ("year", "lastSeq") VALUES (${year}, 1)
    ON CONFLICT ("year") DO UPDATE SET "lastSeq" = "InvoiceSequence"."lastSeq" + 1
    RETURNING "lastSeq"`;
  if (!allocated) throw new Error('invoice sequence upsert returned no row');
  const seq = allocated.lastSeq;

  // Holding the sequence lock, the previous invoice of the year is committed and visible.
  const previous = await tx.invoice.findUnique({
    where: { year_seq: { year, seq: seq - 1 } },
    select: { number: true, issueDate: true },
  });
  if (previous && previous.issueDate > input.issueDate) {
    throw new Error(
      `issue date ${input.issueDate} is earlier than ${previous.issueDate} of invoice ${previous.number}`,
    );
  }

  const row = await tx.invoice.create({
    data: {
      number: formatInvoiceNumber(year, seq),
      year,
      seq,
      status: 'PAID',
      baseId: input.baseId,
      accountId: input.accountId,
      licenceId: input.licenceId,
      purchaseId: input.purchaseId,
      paymentId: input.paymentId,
      issueDate: input.issueDate,
      saleDate: input.saleDate,
      dueDate: input.dueDate ?? input.issueDate,
      currency: 'EUR',
      seller: json(input.seller),
      buyer: json(input.buyer),
      lines: json(input.lines),
      vat: json(input.vat),
      totalExclVatCents: input.totals.totalExclVatCents,
      vatCents: input.totals.vatCents,
      totalInclVatCents: input.totals.totalInclVatCents,
      paidAt: input.paidAt,
      viesConsultation: input.viesConsultation ? json(input.viesConsultation) : undefined,
    },
  });
  await enqueueEInvoice(tx, { kind: 'INVOICE', number: row.number, buyer: input.buyer, vat: input.vat });
  return toInvoiceDocument(row);
}
