/**
 * A legal document (invoice, credit note) as an A4 PDF in French with every mention SPEC §7 lists, set in
 * embedded Unicode fonts (fonts.ts) so that every script a buyer's name may use prints as written. The PDF
 * is then made a Factur-X PDF/A-3 with its CII XML (factur-x.ts).
 */
import PDFDocument from 'pdfkit';
import {
  formatDateFr,
  formatEurosFr,
  formatParisDateFr,
  formatRate,
  isBusinessBuyer,
  LATE_PAYMENT_PENALTY_MENTION,
  NO_EARLY_PAYMENT_DISCOUNT_MENTION,
  RECOVERY_FEE_MENTION,
} from '../../domain/invoice';
import { mainFont, registerFonts, textRuns, type Weight } from './fonts';
import { toFacturX } from './factur-x';
import type { PrintedDocument } from './printed-document';

const MARGIN = 50;
const PAGE_WIDTH = 595.28; // A4 in points
const CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN;
const BOTTOM = 841.89 - MARGIN;
const GREY = '#555555';
const STAMP_RED = '#c0392b';

/** Table columns: width and alignment. */
const COLUMNS = [
  { title: 'Désignation', width: 215, align: 'left' },
  { title: 'Qté', width: 40, align: 'right' },
  { title: 'P.U. HT', width: 80, align: 'right' },
  { title: 'TVA', width: 50, align: 'right' },
  { title: 'Total HT', width: 110, align: 'right' },
] as const;

type Doc = PDFKit.PDFDocument;

type TextOptions = PDFKit.Mixins.TextOptions;

/**
 * Writes text in the fonts its characters need: one `text` call per run, chained with `continued`.
 * With x and y it starts there, otherwise where the previous text ended.
 */
export function write(
  doc: Doc,
  text: string,
  weight: Weight,
  options: TextOptions = {},
  at?: { x: number; y: number },
): Doc {
  const runs = textRuns(text, weight);
  runs.forEach((run, i) => {
    const runOptions = { ...options, continued: i < runs.length - 1 };
    doc.font(run.font);
    if (i === 0 && at) doc.text(run.text, at.x, at.y, runOptions);
    else doc.text(run.text, runOptions);
  });
  if (runs.length === 0) doc.font(mainFont(weight));
  return doc;
}

/** "SAS au capital de 10 000 € — RCS Paris 123 456 789", or the SIREN alone when they are not configured. */
export function sellerIdentity(seller: PrintedDocument['seller']): string {
  const siren = seller.siren.replace(/^(\d{3})(\d{3})(\d{3})$/, '$1 $2 $3');
  const parts = [
    seller.legalForm && seller.shareCapital
      ? `${seller.legalForm} au capital de ${seller.shareCapital}`
      : seller.legalForm,
    seller.rcsCity ? `RCS ${seller.rcsCity} ${siren}` : `SIREN : ${seller.siren}`,
  ];
  return parts.filter(Boolean).join(' — ');
}

/**
 * The label of a buyer's tax number: an EU VAT number is "N° TVA intracommunautaire"; a number of a
 * country outside the EU VAT territory (a Swiss UID "CHE-…", a UK VAT number) is only an identifier.
 */
export function buyerTaxNumberLabel(intraCommunity: boolean): string {
  return intraCommunity ? 'N° TVA intracommunautaire' : 'N° d’identification fiscale';
}

function header(doc: Doc, document: PrintedDocument): number {
  const { seller } = document;
  doc.fontSize(14).fillColor('black');
  write(doc, seller.name, 'bold', { width: 260 }, { x: MARGIN, y: MARGIN });
  doc.fontSize(9).fillColor(GREY);
  write(doc, seller.address, 'regular', { width: 260 });
  write(doc, sellerIdentity(seller), 'regular');
  write(doc, `N° TVA intracommunautaire : ${seller.vatNumber}`, 'regular');
  const sellerBottom = doc.y;

  const right = { width: 220, align: 'right' as const };
  const x = PAGE_WIDTH - MARGIN - right.width;
  doc.fontSize(22).fillColor('black');
  write(doc, document.title, 'bold', right, { x, y: MARGIN });
  doc.fontSize(11);
  write(doc, `N° ${document.number}`, 'bold', right, { x, y: doc.y });
  doc.fontSize(9).moveDown(0.5);
  write(doc, `Date d'émission : ${formatDateFr(document.issueDate)}`, 'regular', right, { x, y: doc.y });
  if (document.saleDate)
    write(doc, `Date de la vente : ${formatDateFr(document.saleDate)}`, 'regular', right, { x, y: doc.y });
  if (document.dueDate)
    write(doc, `Date d'échéance : ${formatDateFr(document.dueDate)}`, 'regular', right, { x, y: doc.y });
  return Math.max(sellerBottom, doc.y) + 20;
}

function buyerBlock(doc: Doc, document: PrintedDocument, top: number): number {
  const { buyer } = document;
  const x = PAGE_WIDTH / 2;
  const width = PAGE_WIDTH - MARGIN - x;
  doc.fontSize(9).fillColor(GREY);
  write(
    doc,
    document.typeCode === '381' ? 'AVOIR AU BÉNÉFICE DE' : 'FACTURÉ À',
    'bold',
    { width },
    { x, y: top },
  );
  doc.fontSize(11).fillColor('black');
  write(doc, buyer.companyName, 'bold', { width });
  doc.fontSize(9);
  if (buyer.name) write(doc, buyer.name, 'regular', { width });
  write(doc, buyer.address, 'regular', { width });
  write(doc, `${buyer.postalCode} ${buyer.city}`, 'regular', { width });
  write(doc, buyer.country, 'regular', { width });
  if (buyer.siren) write(doc, `SIREN : ${buyer.siren}`, 'regular', { width });
  if (buyer.vatNumber) {
    const label = buyerTaxNumberLabel(document.vat.kind !== 'OUTSIDE_EU');
    write(doc, `${label} : ${buyer.vatNumber}`, 'regular', { width });
  }
  if (buyer.email) write(doc, buyer.email, 'regular', { width });
  const bottom = doc.y;
  const reference = document.baseId
    ? `Base ${document.baseId}`
    : `Compte client n° ${document.accountId ?? ''}`;
  doc.fontSize(9).fillColor(GREY);
  write(doc, reference, 'regular', { width: x - MARGIN - 10 }, { x: MARGIN, y: top });
  for (const note of document.notes) write(doc, note, 'regular', { width: x - MARGIN - 10 });
  return Math.max(bottom, doc.y) + 25;
}

function tableRow(doc: Doc, cells: readonly string[], top: number, bold = false): number {
  doc.fontSize(9).fillColor('black');
  let x = MARGIN;
  let height = 0;
  COLUMNS.forEach((column, i) => {
    const cell = cells[i] ?? '';
    const options = { width: column.width - 8, align: column.align };
    write(doc, cell, bold ? 'bold' : 'regular', options, { x: x + 4, y: top + 5 });
    doc.font(mainFont(bold ? 'bold' : 'regular'));
    height = Math.max(height, doc.heightOfString(cell, options));
    x += column.width;
  });
  return top + height + 10;
}

function linesTable(doc: Doc, document: PrintedDocument, start: number): number {
  const headerRow = (top: number) => {
    doc.rect(MARGIN, top, CONTENT_WIDTH, 20).fill('#eeeeee');
    return tableRow(
      doc,
      COLUMNS.map((c) => c.title),
      top,
      true,
    );
  };
  let y = headerRow(start);
  for (const line of document.lines) {
    const cells = [
      line.description,
      String(line.quantity),
      formatEurosFr(line.unitPriceCents),
      formatRate(line.vatRateBasisPoints),
      formatEurosFr(line.totalExclVatCents),
    ];
    doc.font(mainFont('regular'));
    // A long document continues on a new page, table header repeated.
    if (y + doc.heightOfString(line.description, { width: COLUMNS[0].width - 8 }) + 10 > BOTTOM - 150) {
      doc.addPage();
      y = headerRow(MARGIN);
    }
    y = tableRow(doc, cells, y);
    doc
      .moveTo(MARGIN, y)
      .lineTo(PAGE_WIDTH - MARGIN, y)
      .strokeColor('#dddddd')
      .stroke();
  }
  return y + 15;
}

function totalsBlock(doc: Doc, document: PrintedDocument, top: number): number {
  const { totals, vat } = document;
  const labelX = PAGE_WIDTH - MARGIN - 230;
  const rows: [string, string, boolean][] = [
    ['Total HT', formatEurosFr(totals.totalExclVatCents), false],
    [`TVA ${formatRate(vat.rateBasisPoints)}`, formatEurosFr(totals.vatCents), false],
    [
      document.typeCode === '381' ? 'Total TTC de l’avoir' : 'Total TTC',
      formatEurosFr(totals.totalInclVatCents),
      true,
    ],
  ];
  let y = top;
  for (const [label, amount, bold] of rows) {
    doc.fontSize(bold ? 11 : 10).fillColor('black');
    write(doc, label, bold ? 'bold' : 'regular', { width: 120 }, { x: labelX, y });
    write(doc, amount, bold ? 'bold' : 'regular', { width: 110, align: 'right' }, { x: labelX + 120, y });
    y += bold ? 18 : 15;
  }
  return y;
}

/** A red frame, slightly tilted, left of the totals: "PAYÉE le 15/03/2026". */
function stamp(doc: Doc, document: PrintedDocument, top: number): void {
  if (!document.stamp) return;
  const x = MARGIN + 20;
  doc.save().rotate(-8, { origin: [x + 80, top + 25] });
  doc.lineWidth(2).strokeColor(STAMP_RED).rect(x, top, 160, 50).stroke();
  doc.fontSize(document.stamp.label.length > 8 ? 16 : 20).fillColor(STAMP_RED);
  write(doc, document.stamp.label, 'bold', { width: 160, align: 'center' }, { x, y: top + 7 });
  doc.fontSize(9);
  write(
    doc,
    `le ${formatParisDateFr(document.stamp.at)}`,
    'regular',
    { width: 160, align: 'center' },
    { x, y: top + 32 },
  );
  doc.restore();
}

function mentions(doc: Doc, document: PrintedDocument, top: number): void {
  const { vat, seller, buyer } = document;
  const lines: string[] = [];
  if (vat.legalMention) lines.push(vat.legalMention);
  if (vat.kind === 'EU_REVERSE_CHARGE') {
    lines.push(`N° TVA du vendeur : ${seller.vatNumber} — N° TVA du client : ${buyer.vatNumber ?? ''}`);
  }
  lines.push("Nature de l'opération : prestation de services");
  lines.push(document.settlement);
  if (document.typeCode === '380') {
    lines.push(NO_EARLY_PAYMENT_DISCOUNT_MENTION);
    if (isBusinessBuyer(buyer)) lines.push(LATE_PAYMENT_PENALTY_MENTION, RECOVERY_FEE_MENTION);
  }
  doc.fontSize(8.5).fillColor(GREY);
  write(doc, lines[0] ?? '', 'regular', { width: CONTENT_WIDTH, lineGap: 2 }, { x: MARGIN, y: top });
  for (const line of lines.slice(1)) write(doc, line, 'regular', { width: CONTENT_WIDTH, lineGap: 2 });
}

/** The visual PDF alone (fonts embedded, no XML yet). */
export function renderVisualPdf(document: PrintedDocument): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    pdfVersion: '1.7',
    subset: 'PDF/A-3b',
    tagged: true,
    info: {
      Title: `${document.title === 'AVOIR' ? 'Avoir' : 'Facture'} ${document.number}`,
      Author: document.seller.name,
      CreationDate: document.stamp?.at ?? new Date(`${document.issueDate}T12:00:00Z`),
    },
    lang: 'fr-FR',
  });
  registerFonts(doc);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const afterHeader = header(doc, document);
  const afterBuyer = buyerBlock(doc, document, afterHeader);
  const afterTable = linesTable(doc, document, afterBuyer);
  const afterTotals = totalsBlock(doc, document, afterTable);
  stamp(doc, document, afterTable);
  mentions(doc, document, Math.max(afterTotals, afterTable + 60) + 25);
  doc.end();
  return done;
}

/** The document as a Factur-X (EN 16931) PDF/A-3: the visual PDF with its CII XML embedded. */
export async function renderDocumentPdf(document: PrintedDocument): Promise<Buffer> {
  return toFacturX(await renderVisualPdf(document), document);
}
