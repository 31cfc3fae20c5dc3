/**
 * A wallet recharge's receipt as PDF, in the embedded fonts of the legal documents. Not an invoice: the
 * credits are a multi-purpose voucher, whose VAT is invoiced when they are consumed (monthly consumption
 * invoice), so the receipt states the amount received and no VAT.
 */
import PDFDocument from 'pdfkit';
import {
  formatDateFr,
  formatEurosFr,
  formatParisDateFr,
  type InvoiceBuyer,
  type InvoiceSeller,
} from '../../domain/invoice';
import { formatEuros } from '../../domain/money';
import { registerFonts } from '../documents/fonts';
import { sellerIdentity, write } from '../documents/render-document-pdf';

export interface ReceiptDocument {
  number: string;
  accountId: number;
  issueDate: string;
  seller: InvoiceSeller;
  buyer: InvoiceBuyer;
  amountCents: number;
  creditAmount: number;
  paidAt: Date;
}

export const MULTI_PURPOSE_VOUCHER_MENTION =
  'Bon à usages multiples (art. 256 ter du CGI) : pas de TVA à la recharge ; la TVA est facturée lors de la consommation des crédits (facture mensuelle de consommation).';

export function renderReceiptPdf(receipt: ReceiptDocument): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    pdfVersion: '1.7',
    info: { Title: `Reçu ${receipt.number}`, Author: receipt.seller.name, CreationDate: receipt.paidAt },
    lang: 'fr-FR',
  });
  registerFonts(doc);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const { seller, buyer } = receipt;
  doc.fontSize(14).fillColor('black');
  write(doc, seller.name, 'bold', { width: 260 }, { x: 50, y: 50 });
  doc.fontSize(9).fillColor('#555555');
  write(doc, seller.address, 'regular', { width: 260 });
  write(doc, sellerIdentity(seller), 'regular');
  write(doc, `N° TVA intracommunautaire : ${seller.vatNumber}`, 'regular');
  doc.fontSize(22).fillColor('black');
  write(doc, 'REÇU', 'bold', { width: 220, align: 'right' }, { x: 325, y: 50 });
  doc.fontSize(11);
  write(doc, `N° ${receipt.number}`, 'bold', { width: 220, align: 'right' }, { x: 325, y: doc.y });
  doc.fontSize(9);
  write(
    doc,
    `Date : ${formatDateFr(receipt.issueDate)}`,
    'regular',
    { width: 220, align: 'right' },
    { x: 325, y: doc.y },
  );

  doc.fontSize(11).fillColor('black');
  write(doc, buyer.companyName, 'bold', { width: 250 }, { x: 297, y: 170 });
  doc.fontSize(9);
  if (buyer.name) write(doc, buyer.name, 'regular', { width: 250 });
  write(doc, buyer.address, 'regular', { width: 250 });
  write(doc, `${buyer.postalCode} ${buyer.city}`, 'regular', { width: 250 });
  write(doc, buyer.country, 'regular', { width: 250 });
  write(doc, `Compte client n° ${receipt.accountId}`, 'regular', { width: 200 }, { x: 50, y: 170 });

  doc.fontSize(11);
  write(
    doc,
    `Reçu le ${formatParisDateFr(receipt.paidAt)} la somme de ${formatEurosFr(receipt.amountCents)} pour la recharge de ${formatEuros(receipt.creditAmount)} crédits (1 crédit = 1 €).`,
    'regular',
    { width: 495 },
    { x: 50, y: 290 },
  );
  doc.moveDown(1).fontSize(8.5).fillColor('#555555');
  write(doc, MULTI_PURPOSE_VOUCHER_MENTION, 'regular', { width: 495 });
  doc.end();
  return done;
}
