/**
 * The monthly wallet consumption invoice of one account (SPEC §6; rule in domain/consumption-invoice.ts).
 *
 * Which charges: the account's WALLET entries with a negative amount dated before the end of the month
 * (`occurredAt`) and not invoiced yet (`ConsumptionInvoiceEntry`). Normally that is the month's charges; a
 * charge the ERP posts late, dated in a month already invoiced, joins the next invoice rather than being
 * forgotten. Each charge is invoiced once.
 *
 * One transaction: the account's wallet balance row is locked (the same lock as charges), then the
 * (account, month) record is looked up — found, the invoice is returned and nothing is issued; else the
 * invoice takes its number (issuePaidInvoice: gapless), the record and the covered charges are written, with
 * an audit entry. Paid by the voucher: the money was received at recharge time.
 */
import { REFUND_ENTRY_TYPE } from '../../domain/refund';
import { consumptionLines, lastDayOf, monthBounds, monthLabelFr } from '../../domain/consumption-invoice';
import { billingDetailsOf, buyerOf } from '../../domain/billing-party';
import type { InvoiceSeller } from '../../domain/invoice';
import { dayOf } from '../../domain/licence';
import { vatRule } from '../../domain/vat';
import type { Db, PrismaClient } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';
import { issuePaidInvoice } from '../invoices/issue-paid-invoice';

export interface ConsumptionInvoiceResult {
  accountId: number;
  month: string;
  invoiceNumber: string;
  totalInclVatCents: number;
  chargesCount: number;
  /** false when the (account, month) invoice already existed: nothing was issued */
  created: boolean;
}

interface Charge {
  id: bigint;
  type: string;
  amount: number;
}

async function uninvoicedCharges(db: Db, accountId: number, end: Date): Promise<Charge[]> {
  return db.$queryRaw<Charge[]>`
    SELECT e."id", e."type", e."amount" FROM "CreditEntry" e
    WHERE e."accountId" = ${accountId} AND e."ledger" = 'WALLET' AND e."amount" < 0 AND e."occurredAt" < ${end}
      AND e."type" <> ${REFUND_ENTRY_TYPE}
      AND NOT EXISTS (SELECT 1 FROM "ConsumptionInvoiceEntry" c WHERE c."creditEntryId" = e."id")
    ORDER BY e."occurredAt", e."id"`;
}

/**
 * Accounts with uninvoiced wallet charges dated before the end of `month`, in id order after `afterId`:
 * the accounts a run for that month has to invoice (those already invoiced for the month are skipped by
 * issueConsumptionInvoice, which finds their record).
 */
export async function accountsToInvoice(
  db: Db,
  input: { month: string; afterId?: number; limit: number },
): Promise<number[]> {
  const { end } = monthBounds(input.month);
  const rows = await db.$queryRaw<{ accountId: number }[]>`
    SELECT DISTINCT e."accountId" FROM "CreditEntry" e
    WHERE e."ledger" = 'WALLET' AND e."amount" < 0 AND e."occurredAt" < ${end}
      AND e."type" <> ${REFUND_ENTRY_TYPE}
      AND e."accountId" > ${input.afterId ?? 0}
      AND NOT EXISTS (SELECT 1 FROM "ConsumptionInvoiceEntry" c WHERE c."creditEntryId" = e."id")
    ORDER BY e."accountId" LIMIT ${input.limit}`;
  return rows.map((r) => r.accountId);
}

/**
 * Issues the account's consumption invoice for `month`, once. Returns undefined when there is nothing to
 * invoice (no charge): no invoice, no record, so a charge posted later is still invoiced by a later run.
 */
export async function issueConsumptionInvoice(
  prisma: PrismaClient,
  actor: Actor,
  input: { accountId: number; month: string; seller: InvoiceSeller; now: Date },
): Promise<ConsumptionInvoiceResult | undefined> {
  const { end } = monthBounds(input.month);
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM "CreditBalance"
      WHERE "accountId" = ${input.accountId} AND "ledger" = 'WALLET' FOR UPDATE`;
    const existing = await tx.consumptionInvoice.findUnique({
      where: { accountId_month: { accountId: input.accountId, month: input.month } },
    });
    if (existing)
      return {
        accountId: existing.accountId,
        month: existing.month,
        invoiceNumber: existing.invoiceNumber,
        totalInclVatCents: existing.totalInclVatCents,
        chargesCount: existing.chargesCount,
        created: false,
      };
    const charges = await uninvoicedCharges(tx, input.accountId, end);
    if (charges.length === 0) return undefined;
    const account = await tx.account.findUniqueOrThrow({ where: { id: input.accountId } });
    const vat = vatRule({ country: account.country, vatNumber: account.vatNumber ?? undefined });
    const { lines, totals } = consumptionLines(
      charges.map((c) => ({ type: c.type, cents: -c.amount })),
      vat,
      monthLabelFr(input.month),
    );
    // the Paris day, like every other document (a run at 23:30 UTC on the 31st issues on the 1st)
    const today = dayOf(input.now.getTime());
    const invoice = await issuePaidInvoice(tx, {
      accountId: input.accountId,
      issueDate: today,
      saleDate: lastDayOf(input.month),
      dueDate: today,
      seller: input.seller,
      buyer: buyerOf(billingDetailsOf(account)),
      lines,
      vat,
      totals,
      paidAt: input.now,
    });
    await tx.consumptionInvoice.create({
      data: {
        accountId: input.accountId,
        month: input.month,
        invoiceNumber: invoice.number,
        chargesCount: charges.length,
        totalInclVatCents: totals.totalInclVatCents,
      },
    });
    await tx.consumptionInvoiceEntry.createMany({
      data: charges.map((c) => ({ creditEntryId: c.id, accountId: input.accountId, month: input.month })),
    });
    await audit(tx, actor, {
      action: 'consumption_invoice.issued',
      entityType: 'ACCOUNT',
      entityId: input.accountId,
      data: {
        month: input.month,
        invoiceNumber: invoice.number,
        chargesCount: charges.length,
        totalInclVatCents: totals.totalInclVatCents,
      },
    });
    return {
      accountId: input.accountId,
      month: input.month,
      invoiceNumber: invoice.number,
      totalInclVatCents: totals.totalInclVatCents,
      chargesCount: charges.length,
      created: true,
    };
  });
}
