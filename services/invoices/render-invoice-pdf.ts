/**
 * The invoice as an A4 PDF in French, with every mention SPEC §7 lists. pdfkit's built-in Helvetica is
 * WinAnsi-encoded, which covers French accents and "€": no font file, nothing fetched.
 *
 * Factur-X later: pdfkit can write PDF/A-3 (`subset: 'PDF/A-3b'`) and attach files (`doc.file(...)`), so the
 * CII XML built from `InvoiceDocument` (see domain/invoice.ts) can be embedded here. PDF/A forbids
 * non-embedded fonts, so that step also needs a bundled TTF in place of the built-in Helvetica.
 */
import PDFDocument from 'pdfkit';
import {
  formatDateFr,
  formatEurosFr,
  formatRate,
  isBusinessBuyer,
  LATE_PAYMENT_PENALTY_MENTION,
  NO_EARLY_PAYMENT_DISCOUNT_MENTION,
  RECOVERY_FEE_MENTION,
  type InvoiceDocument,
} from '../../domain/invoice';

const MARGIN = 50;
const PAGE_WIDTH = 595.28; // A4 in points
const CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN;
const BOTTOM = 841.89 - MARGIN;
const GREY = '#555555';
const STAMP_RED = '#c0392b';

/** Table columns: x offset from the margin, width, alignment. The description takes what is left. */
const COLUMNS = [
  { title: 'Désignation', width: 215, align: 'left' },
  { title: 'Qté', width: 40, align: 'right' },
  { title: 'P.U. HT', width: 80, align: 'right' },
  { title: 'TVA', width: 50, align: 'right' },
  { title: 'Total HT', width: 110, align: 'right' },
] as const;

/** The paid date is a moment; the invoice speaks French time. */
function parisDate(moment: Date): string {
  return new Intl.DateTimeFormat('fr-FR', {
    timeZone: 'Europe/Paris',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(moment);
}

/** Characters of WinAnsi (cp1252) beyond Latin-1, the encoding of pdfkit's built-in fonts. */
const WIN_ANSI_EXTRAS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
/** Letters with a stroke don't decompose to letter + accent. */
const STROKED: Readonly<Record<string, string>> = { ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', ı: 'i', ħ: 'h', Ħ: 'H' };

/**
 * Names and addresses may hold letters the built-in fonts can't draw (Polish "ł", Czech "č"): those lose
 * their accent ("c"), or become "?" when nothing is left, rather than printing as garbage.
 */
function printable(text: string): string {
  return Array.from(text, (char) => {
    const code = char.codePointAt(0) ?? 0;
    if (
      char === '\n' ||
      (code >= 0x20 && code < 0x7f) ||
      (code >= 0xa0 && code <= 0xff) ||
      WIN_ANSI_EXTRAS.has(char)
    )
      return char;
    const base = (STROKED[char] ?? char).normalize('NFD').replace(/\p{M}/gu, '');
    return base.length === 1 && base.charCodeAt(0) < 0x7f && base.charCodeAt(0) >= 0x20 ? base : '?';
  }).join('');
}

/** The invoice with its free text (parties, line descriptions) made printable. */
function printableInvoice(invoice: InvoiceDocument): InvoiceDocument {
  const { seller, buyer } = invoice;
  const optional = (text: string | undefined) => (text === undefined ? undefined : printable(text));
  return {
    ...invoice,
    seller: { ...seller, name: printable(seller.name), address: printable(seller.address) },
    buyer: {
      ...buyer,
      companyName: printable(buyer.companyName),
      name: optional(buyer.name),
      address: printable(buyer.address),
      postalCode: printable(buyer.postalCode),
      city: printable(buyer.city),
      email: optional(buyer.email),
    },
    lines: invoice.lines.map((line) => ({ ...line, description: printable(line.description) })),
  };
}

type Doc = PDFKit.PDFDocument;

/** "SAS au capital de 10 000 € — RCS Paris 123 456 789", or the SIREN alone for invoices issued without them. */
function sellerIdentity(seller: InvoiceDocument['seller']): string {
  const siren = seller.siren.replace(/^(\d{3})(\d{3})(\d{3})$/, '$1 $2 $3');
  const parts = [
    seller.legalForm && seller.shareCapital
      ? `${seller.legalForm} au capital de ${seller.shareCapital}`
      : seller.legalForm,
    seller.rcsCity ? `RCS ${seller.rcsCity} ${siren}` : `SIREN : ${seller.siren}`,
  ];
  return parts.filter(Boolean).join(' — ');
}

function header(doc: Doc, invoice: InvoiceDocument): number {
  const { seller } = invoice;
  doc
    .font('Helvetica-Bold')
    .fontSize(14)
    .fillColor('black')
    .text(seller.name, MARGIN, MARGIN, { width: 260 });
  doc
    .font('Helvetica')
    .fontSize(9)
    .fillColor(GREY)
    .text(seller.address, { width: 260 })
    .text(sellerIdentity(seller))
    .text(`N° TVA intracommunautaire : ${seller.vatNumber}`);
  const sellerBottom = doc.y;

  const right = { width: 220, align: 'right' as const };
  const x = PAGE_WIDTH - MARGIN - right.width;
  doc.font('Helvetica-Bold').fontSize(22).fillColor('black').text('FACTURE', x, MARGIN, right);
  doc.font('Helvetica-Bold').fontSize(11).text(`N° ${invoice.number}`, x, doc.y, right);
  doc
    .font('Helvetica')
    .fontSize(9)
    .moveDown(0.5)
    .text(`Date d'émission : ${formatDateFr(invoice.issueDate)}`, x, doc.y, right)
    .text(`Date de la vente : ${formatDateFr(invoice.saleDate)}`, x, doc.y, right)
    .text(`Date d'échéance : ${formatDateFr(invoice.dueDate)}`, x, doc.y, right);
  return Math.max(sellerBottom, doc.y) + 20;
}

function buyerBlock(doc: Doc, invoice: InvoiceDocument, top: number): number {
  const { buyer } = invoice;
  const x = PAGE_WIDTH / 2;
  const width = PAGE_WIDTH - MARGIN - x;
  doc.font('Helvetica-Bold').fontSize(9).fillColor(GREY).text('FACTURÉ À', x, top, { width });
  doc.font('Helvetica-Bold').fontSize(11).fillColor('black').text(buyer.companyName, { width });
  doc.font('Helvetica').fontSize(9);
  if (buyer.name) doc.text(buyer.name, { width });
  doc.text(buyer.address, { width }).text(`${buyer.postalCode} ${buyer.city}`, { width }).text(buyer.country);
  if (buyer.siren) doc.text(`SIREN : ${buyer.siren}`);
  if (buyer.vatNumber) doc.text(`N° TVA intracommunautaire : ${buyer.vatNumber}`);
  if (buyer.email) doc.text(buyer.email);
  const bottom = doc.y;
  const reference = invoice.baseId ? `Base ${invoice.baseId}` : `Compte client n° ${invoice.accountId ?? ''}`;
  doc.font('Helvetica').fontSize(9).fillColor(GREY).text(reference, MARGIN, top);
  return bottom + 25;
}

function tableRow(doc: Doc, cells: readonly string[], top: number, bold = false): number {
  doc
    .font(bold ? 'Helvetica-Bold' : 'Helvetica')
    .fontSize(9)
    .fillColor('black');
  let x = MARGIN;
  let height = 0;
  COLUMNS.forEach((column, i) => {
    const cell = cells[i] ?? '';
    const options = { width: column.width - 8, align: column.align };
    doc.text(cell, x + 4, top + 5, options);
    height = Math.max(height, doc.heightOfString(cell, options));
    x += column.width;
  });
  return top + height + 10;
}

function linesTable(doc: Doc, invoice: InvoiceDocument, start: number): number {
  const headerRow = (top: number) => {
    doc.rect(MARGIN, top, CONTENT_WIDTH, 20).fill('#eeeeee');
    const bottom = tableRow(
      doc,
      COLUMNS.map((c) => c.title),
      top,
      true,
    );
    return bottom;
  };
  let y = headerRow(start);
  for (const line of invoice.lines) {
    const cells = [
      line.description,
      String(line.quantity),
      formatEurosFr(line.unitPriceCents),
      formatRate(line.vatRateBasisPoints),
      formatEurosFr(line.totalExclVatCents),
    ];
    // A long invoice continues on a new page, table header repeated.
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

function totalsBlock(doc: Doc, invoice: InvoiceDocument, top: number): number {
  const { totals, vat } = invoice;
  const labelX = PAGE_WIDTH - MARGIN - 230;
  const rows: [string, string, boolean][] = [
    ['Total HT', formatEurosFr(totals.totalExclVatCents), false],
    [`TVA ${formatRate(vat.rateBasisPoints)}`, formatEurosFr(totals.vatCents), false],
    ['Total TTC', formatEurosFr(totals.totalInclVatCents), true],
  ];
  let y = top;
  for (const [label, amount, bold] of rows) {
    doc
      .font(bold ? 'Helvetica-Bold' : 'Helvetica')
      .fontSize(bold ? 11 : 10)
      .fillColor('black');
    doc.text(label, labelX, y, { width: 120 });
    doc.text(amount, labelX + 120, y, { width: 110, align: 'right' });
    y += bold ? 18 : 15;
  }
  return y;
}

/** A red frame, slightly tilted, left of the totals: "PAYÉE le 15/03/2026". */
function paidStamp(doc: Doc, invoice: InvoiceDocument, top: number): void {
  const label = invoice.status === 'PAID' ? 'PAYÉE' : 'ANNULÉE';
  const x = MARGIN + 20;
  doc.save().rotate(-8, { origin: [x + 80, top + 25] });
  doc.lineWidth(2).strokeColor(STAMP_RED).rect(x, top, 160, 50).stroke();
  doc
    .font('Helvetica-Bold')
    .fontSize(20)
    .fillColor(STAMP_RED)
    .text(label, x, top + 7, {
      width: 160,
      align: 'center',
    });
  doc
    .font('Helvetica')
    .fontSize(9)
    .text(`le ${parisDate(invoice.paidAt)}`, x, top + 32, {
      width: 160,
      align: 'center',
    });
  doc.restore();
}

function mentions(doc: Doc, invoice: InvoiceDocument, top: number): void {
  const { vat, seller, buyer } = invoice;
  const lines: string[] = [];
  if (vat.legalMention) lines.push(vat.legalMention);
  if (vat.kind === 'EU_REVERSE_CHARGE') {
    lines.push(`N° TVA du vendeur : ${seller.vatNumber} — N° TVA du client : ${buyer.vatNumber ?? ''}`);
  }
  lines.push("Nature de l'opération : prestation de services");
  lines.push(
    `Facture acquittée le ${parisDate(invoice.paidAt)} (${formatEurosFr(invoice.totals.totalInclVatCents)}).`,
  );
  lines.push(NO_EARLY_PAYMENT_DISCOUNT_MENTION);
  if (isBusinessBuyer(buyer)) lines.push(LATE_PAYMENT_PENALTY_MENTION, RECOVERY_FEE_MENTION);
  doc.font('Helvetica').fontSize(8.5).fillColor(GREY);
  doc.text(lines.join('\n'), MARGIN, top, { width: CONTENT_WIDTH, lineGap: 2 });
}

export function renderInvoicePdf(stored: InvoiceDocument): Promise<Buffer> {
  const invoice = printableInvoice(stored);
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    // fixed metadata: the same invoice always renders to the same bytes
    info: {
      Title: `Facture ${invoice.number}`,
      Author: invoice.seller.name,
      CreationDate: invoice.paidAt,
    },
    lang: 'fr-FR',
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const afterHeader = header(doc, invoice);
  const afterBuyer = buyerBlock(doc, invoice, afterHeader);
  const afterTable = linesTable(doc, invoice, afterBuyer);
  const afterTotals = totalsBlock(doc, invoice, afterTable);
  paidStamp(doc, invoice, afterTable);
  mentions(doc, invoice, Math.max(afterTotals, afterTable + 60) + 25);
  doc.end();
  return done;
}
