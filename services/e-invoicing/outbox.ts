/**
 * The approved-platform outbox at work: send a queued document through the platform adapter, poll the
 * lifecycle statuses of those sent, list rows for ops. Run by eInvoiceOutboxWorkflow's activities.
 */
import { isFinalEInvoiceStatus, STATUS_POLL_DAYS, type EInvoiceStatus } from '../../domain/e-invoicing';
import type { Db, Prisma, PrismaClient } from '../../infra/prisma';
import { correctedInvoiceSelect, toCreditNoteDocument } from '../credit-notes/credit-note-document';
import { renderCreditNotePdf } from '../credit-notes/render-credit-note-pdf';
import { toInvoiceDocument } from '../invoices/invoice-document';
import { renderInvoicePdf } from '../invoices/render-invoice-pdf';
import type { PlatformAdapter, PlatformAnswer } from './platform-adapter';

export interface OutboxDeps {
  prisma: PrismaClient;
  platform: PlatformAdapter;
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The queued documents, oldest first. */
export async function listQueuedEInvoices(db: Db, limit: number): Promise<string[]> {
  const rows = await db.eInvoiceOutbox.findMany({
    where: { status: 'QUEUED' },
    orderBy: { createdAt: 'asc' },
    take: limit,
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

async function renderDocument(db: Db, kind: 'INVOICE' | 'CREDIT_NOTE', number: string): Promise<Buffer> {
  if (kind === 'INVOICE') {
    return renderInvoicePdf(toInvoiceDocument(await db.invoice.findUniqueOrThrow({ where: { number } })));
  }
  const note = await db.creditNote.findUniqueOrThrow({
    where: { number },
    include: { invoice: { select: correctedInvoiceSelect } },
  });
  return renderCreditNotePdf(toCreditNoteDocument(note));
}

export interface SendResult {
  id: string;
  documentNumber: string;
  status: EInvoiceStatus;
  /** false when the row had already been sent (a replayed activity) */
  sent: boolean;
}

/**
 * Sends one queued document. Each attempt is counted on the row before the platform is called; a failure is
 * noted (`lastError`) and thrown, for Temporal to retry. The row's id is the platform's idempotency key, so
 * an attempt whose answer was lost is answered with the first reception, not received twice.
 */
export async function sendEInvoice(deps: OutboxDeps, id: string, now: Date): Promise<SendResult> {
  const row = await deps.prisma.eInvoiceOutbox.findUniqueOrThrow({ where: { id } });
  if (row.status !== 'QUEUED')
    return { id, documentNumber: row.documentNumber, status: row.status, sent: false };
  await deps.prisma.eInvoiceOutbox.update({ where: { id }, data: { attempts: { increment: 1 } } });
  let answer: PlatformAnswer;
  try {
    const pdf = await renderDocument(deps.prisma, row.documentKind, row.documentNumber);
    answer = await deps.platform.send({
      idempotencyKey: row.id,
      kind: row.documentKind,
      number: row.documentNumber,
      flow: row.flow,
      pdf,
    });
  } catch (error) {
    await deps.prisma.eInvoiceOutbox.update({ where: { id }, data: { lastError: messageOf(error) } });
    throw error;
  }
  // only a row still queued moves: a concurrent attempt that got there first keeps its answer
  await deps.prisma.eInvoiceOutbox.updateMany({
    where: { id, status: 'QUEUED' },
    data: {
      status: answer.status,
      platformId: answer.platformId,
      lastAnswer: json(answer.raw),
      lastError: null,
      sentAt: now,
      statusAt: now,
    },
  });
  const after = await deps.prisma.eInvoiceOutbox.findUniqueOrThrow({ where: { id } });
  return { id, documentNumber: row.documentNumber, status: after.status, sent: true };
}

export interface PollResult {
  polled: number;
  changed: number;
  failed: number;
}

/**
 * Asks the platform for the status of the documents sent and not final (SENT, DEPOSITED) within the polling
 * window, least recently answered first, and records what changed. A platform failure on one document is
 * noted on its row and the next run asks again.
 */
export async function pollEInvoiceStatuses(deps: OutboxDeps, limit: number, now: Date): Promise<PollResult> {
  const since = new Date(now.getTime() - STATUS_POLL_DAYS * 86_400_000);
  const rows = await deps.prisma.eInvoiceOutbox.findMany({
    where: { status: { in: ['SENT', 'DEPOSITED'] }, sentAt: { gte: since }, platformId: { not: null } },
    orderBy: { statusAt: 'asc' },
    take: limit,
  });
  const result: PollResult = { polled: 0, changed: 0, failed: 0 };
  for (const row of rows) {
    result.polled += 1;
    try {
      const answer = await deps.platform.fetchStatus(row.platformId!);
      if (answer.status === row.status) continue;
      await deps.prisma.eInvoiceOutbox.updateMany({
        where: { id: row.id, status: row.status },
        data: { status: answer.status, lastAnswer: json(answer.raw), lastError: null, statusAt: now },
      });
      result.changed += 1;
    } catch (error) {
      result.failed += 1;
      await deps.prisma.eInvoiceOutbox.update({
        where: { id: row.id },
        data: { lastError: messageOf(error) },
      });
    }
  }
  return result;
}

export interface EInvoiceView {
  documentKind: 'INVOICE' | 'CREDIT_NOTE';
  documentNumber: string;
  flow: 'E_INVOICE' | 'E_REPORTING';
  pdfPath: string;
  status: EInvoiceStatus;
  final: boolean;
  attempts: number;
  platformId: string | null;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
  statusAt: string | null;
}

/** The outbox for ops, newest first, optionally of one status. */
export async function listEInvoices(
  db: Db,
  filter: { status?: EInvoiceStatus; limit: number },
): Promise<EInvoiceView[]> {
  const rows = await db.eInvoiceOutbox.findMany({
    where: filter.status ? { status: filter.status } : {},
    orderBy: { createdAt: 'desc' },
    take: filter.limit,
  });
  return rows.map((r) => ({
    documentKind: r.documentKind,
    documentNumber: r.documentNumber,
    flow: r.flow,
    pdfPath: r.pdfPath,
    status: r.status,
    final: isFinalEInvoiceStatus(r.status),
    attempts: r.attempts,
    platformId: r.platformId,
    lastError: r.lastError,
    createdAt: r.createdAt.toISOString(),
    sentAt: r.sentAt?.toISOString() ?? null,
    statusAt: r.statusAt?.toISOString() ?? null,
  }));
}
