/**
 * The receipt of a wallet recharge, numbered in the transaction that credits the wallet: one upsert on
 * `ReceiptSequence` (its row lock orders concurrent recharges, a rollback gives the number back), so the
 * `RC-YYYY-NNNNNN` series of the issue year has no gap. Idempotent per credit purchase.
 */
import type { InvoiceBuyer, InvoiceSeller } from '../../domain/invoice';
import type { Db, Prisma } from '../../infra/prisma';

export interface IssueReceiptInput {
  creditPurchaseId: string;
  accountId: number;
  /** YYYY-MM-DD (Paris day): its year picks the series */
  issueDate: string;
  seller: InvoiceSeller;
  buyer: InvoiceBuyer;
  amountCents: number;
  creditAmount: number;
  paidAt: Date;
}

export const formatReceiptNumber = (year: number, seq: number) =>
  `RC-${year}-${String(seq).padStart(6, '0')}`;

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;

export async function issueReceipt(tx: Db, input: IssueReceiptInput) {
  if ('$transaction' in tx) throw new Error('issueReceipt must run inside the crediting transaction');
  const existing = await tx.receipt.findUnique({ where: { creditPurchaseId: input.creditPurchaseId } });
  if (existing) return existing;
  const year = Number(input.issueDate.slice(0, 4));
  const [allocated] = await tx.$queryRaw<{ lastSeq: number }[]>`
    INSERT INTO "ReceiptSequence" ("year", "lastSeq") VALUES (${year}, 1)
    ON CONFLICT ("year") DO UPDATE SET "lastSeq" = "ReceiptSequence"."lastSeq" + 1
    RETURNING "lastSeq"`;
  if (!allocated) throw new Error('receipt sequence upsert returned no row');
  return tx.receipt.create({
    data: {
      number: formatReceiptNumber(year, allocated.lastSeq),
      year,
      seq: allocated.lastSeq,
      creditPurchaseId: input.creditPurchaseId,
      accountId: input.accountId,
      issueDate: input.issueDate,
      seller: json(input.seller),
      buyer: json(input.buyer),
      amountCents: input.amountCents,
      creditAmount: input.creditAmount,
      paidAt: input.paidAt,
    },
  });
}
