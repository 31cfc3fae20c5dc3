import { eInvoiceFlowOf, eInvoicePdfPath, type EInvoiceDocumentKind } from '../../domain/e-invoicing';
import type { VatRule } from '../../domain/vat';
import type { Db } from '../../infra/prisma';

/**
 * Puts an issued invoice or credit note in the approved-platform outbox, in the transaction that issues it:
 * the document and its row commit together or not at all. Once per document: the row is unique on
 * (kind, number), and a second enqueue of the same document does nothing.
 */
export async function enqueueEInvoice(
  tx: Db,
  document: {
    kind: EInvoiceDocumentKind;
    number: string;
    buyer: { country: string; vatNumber?: string };
    vat: VatRule;
  },
): Promise<void> {
  if ('$transaction' in tx) throw new Error('enqueueEInvoice must run inside the issuing transaction');
  await tx.eInvoiceOutbox.createMany({
    data: [
      {
        documentKind: document.kind,
        documentNumber: document.number,
        flow: eInvoiceFlowOf(document.buyer, document.vat),
        pdfPath: eInvoicePdfPath(document.kind, document.number),
      },
    ],
    skipDuplicates: true,
  });
}
