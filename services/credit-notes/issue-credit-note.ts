/**
 * Issues a credit note (avoir) against an invoice: the next number of the issue year's credit-note series,
 * the invoice's parties and VAT rule, lines crediting the amount asked, and the audit entry — in the
 * caller's transaction (a refund's debit entry and credit note commit together).
 *
 * Numbering works as for invoices (issue-paid-invoice.ts): one upsert on `CreditNoteSequence` whose row
 * lock orders concurrent issues; a rolled-back transaction gives its number back, so committed numbers
 * have no gap. The invoice row is locked first (`FOR UPDATE`), so two credits racing on one invoice see
 * each other and together never exceed it.
 *
 * Idempotent by `idempotencyKey`: the same key answers the credit note already issued (same invoice and
 * amount), another request with it is refused (IDEMPOTENCY_KEY_REUSED).
 */
import {
  creditableCents,
  creditLines,
  formatCreditNoteNumber,
  type CreditNoteDocument,
  type CreditNoteKind,
} from '../../domain/credit-note';
import { AppError } from '../../domain/errors';
import { dayOf } from '../../domain/licence';
import type { Db, Prisma } from '../../infra/prisma';
import type { Actor } from '../actor';
import { enqueueEInvoice } from '../e-invoicing/enqueue-e-invoice';
import { toInvoiceDocument } from '../invoices/invoice-document';
import { recordOpsAction } from '../ops/ops-action';
import { correctedInvoiceSelect, toCreditNoteDocument } from './credit-note-document';

export interface IssueCreditNoteInput {
  invoiceNumber: string;
  kind: CreditNoteKind;
  reason: string;
  /** the amount credited, VAT included, in cents */
  amountInclVatCents: number;
  idempotencyKey: string;
  /** when the amount was paid back (a refund); absent for a credit kept on account */
  refundedAt?: Date;
  now: Date;
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;

export async function issueCreditNote(
  tx: Db,
  actor: Actor,
  input: IssueCreditNoteInput,
): Promise<CreditNoteDocument> {
  if ('$transaction' in tx) throw new Error('issueCreditNote must run inside a transaction');

  const existing = await tx.creditNote.findUnique({
    where: { idempotencyKey: input.idempotencyKey },
    include: { invoice: { select: correctedInvoiceSelect } },
  });
  if (existing) {
    if (
      existing.invoice.number !== input.invoiceNumber ||
      existing.totalInclVatCents !== input.amountInclVatCents
    )
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        `Key ${input.idempotencyKey} already issued ${existing.number}`,
      );
    return toCreditNoteDocument(existing);
  }

  // lock the invoice: concurrent credits on it are serialised and see each other's totals
  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT "id" FROM "Invoice" WHERE "number" = ${input.invoiceNumber} FOR UPDATE`;
  const row = locked[0] && (await tx.invoice.findUnique({ where: { id: locked[0].id } }));
  if (!row) throw new AppError('INVOICE_NOT_FOUND', `No invoice ${input.invoiceNumber}`);
  const invoice = toInvoiceDocument(row);

  const credited = await tx.creditNote.aggregate({
    where: { invoiceId: row.id },
    _sum: { totalInclVatCents: true },
  });
  const left = creditableCents(invoice.totals.totalInclVatCents, credited._sum.totalInclVatCents ?? 0);
  if (input.amountInclVatCents > left)
    throw new AppError(
      'CREDIT_EXCEEDS_INVOICE',
      `Invoice ${invoice.number} has ${left} cents left to credit, ${input.amountInclVatCents} asked`,
      { creditableCents: left },
    );

  const { lines, totals } = creditLines(input.amountInclVatCents, invoice.vat, invoice.number, input.kind);
  const issueDate = dayOf(input.now.getTime());
  const year = Number(issueDate.slice(0, 4));
  const [allocated] = await tx.$queryRaw<{ lastSeq: number }[]>`
    INSERT INTO "CreditNoteSequence" ("year", "lastSeq") VALUES (${year}, 1)
    ON CONFLICT ("year") DO UPDATE SET "lastSeq" = "CreditNoteSequence"."lastSeq" + 1
    RETURNING "lastSeq"`;
  if (!allocated) throw new Error('credit note sequence upsert returned no row');
  const seq = allocated.lastSeq;
  const previous = await tx.creditNote.findUnique({
    where: { year_seq: { year, seq: seq - 1 } },
    select: { number: true, issueDate: true },
  });
  if (previous && previous.issueDate > issueDate)
    throw new Error(
      `issue date ${issueDate} is earlier than ${previous.issueDate} of credit note ${previous.number}`,
    );

  const created = await tx.creditNote.create({
    data: {
      number: formatCreditNoteNumber(year, seq),
      year,
      seq,
      idempotencyKey: input.idempotencyKey,
      kind: input.kind,
      reason: input.reason,
      invoiceId: row.id,
      baseId: row.baseId,
      accountId: row.accountId,
      issueDate,
      currency: row.currency,
      seller: json(invoice.seller),
      buyer: json(invoice.buyer),
      lines: json(lines),
      vat: json(invoice.vat),
      totalExclVatCents: totals.totalExclVatCents,
      vatCents: totals.vatCents,
      totalInclVatCents: totals.totalInclVatCents,
      refundedAt: input.refundedAt,
      issuedBy: `${actor.type}:${actor.id}`,
    },
    include: { invoice: { select: correctedInvoiceSelect } },
  });
  await enqueueEInvoice(tx, {
    kind: 'CREDIT_NOTE',
    number: created.number,
    buyer: invoice.buyer,
    vat: invoice.vat,
  });
  await recordOpsAction(tx, actor, {
    action: 'credit-note.issue',
    entityType: 'CREDIT_NOTE',
    entityId: created.number,
    reason: input.reason,
    data: { invoice: invoice.number, kind: input.kind, amountInclVatCents: totals.totalInclVatCents },
  });
  return toCreditNoteDocument(created);
}
