/**
 * Every kind of legal document the service issues is a Factur-X (EN 16931) PDF/A-3 that an independent
 * validator accepts with 0 errors: the Mustang project's validator (veraPDF's PDF/A-3 checks, the CII
 * schema and the EN 16931 schematron), fetched from Maven Central into .cache/ on first use.
 */
import { renderCreditNotePdf } from '../../services/credit-notes/render-credit-note-pdf';
import { renderInvoicePdf } from '../../services/invoices/render-invoice-pdf';
import { creditNoteExample, invoiceOfEveryKind } from '../helpers/document-kinds';
import { validateFacturX } from '../helpers/facturx-validator';
import { pdfText } from '../helpers/pdf-text';

// one JVM validates every document: its start-up and rule compilation take most of the time
jest.setTimeout(600_000);

describe('Factur-X documents', () => {
  it('one document of every kind validates with 0 errors', async () => {
    const documents = await Promise.all([
      ...Object.entries(invoiceOfEveryKind()).map(async ([name, invoice]) => ({
        name,
        pdf: await renderInvoicePdf(invoice),
      })),
      renderCreditNotePdf(creditNoteExample()).then((pdf) => ({ name: 'credit-note', pdf })),
    ]);
    const reports = await validateFacturX(documents);
    expect(reports.map((r) => r.name).sort()).toEqual(
      [
        'consumption-invoice',
        'credit-note',
        'export',
        'licence-purchase',
        'prorated-change',
        'promo-discount',
        'renewal',
        'reverse-charge',
        'support-pack',
      ].sort(),
    );
    for (const report of reports) {
      expect({ name: report.name, status: report.status, errors: report.errors }).toEqual({
        name: report.name,
        status: 'valid',
        errors: [],
      });
      // the PDF/A part was checked, as PDF/A-3
      expect(report.report).toMatch(/flavour=3b, totalAssertions=\d+, assertions=\[\], isCompliant=true/);
    }
  });

  it('prints names in every script as written, in embedded fonts', async () => {
    const kinds = invoiceOfEveryKind();
    const polish = await pdfText(await renderInvoicePdf(kinds['reverse-charge']!));
    expect(polish).toContain('Szkoła Językowa Dvořák');
    expect(polish).toContain('90-001 Łódź');
    const greek = await pdfText(await renderInvoicePdf(kinds['prorated-change']!));
    expect(greek).toContain('Ελληνική Λογιστική Α.Ε.');
    const japanese = await pdfText(await renderInvoicePdf(kinds.export!));
    expect(japanese).toContain('株式会社テスト商事');
    const pdf = await renderInvoicePdf(kinds.renewal!);
    // no standard-14 font is left unembedded: every font dictionary has its font file
    expect(pdf.toString('latin1')).not.toMatch(/\/BaseFont \/Helvetica/);
  });
});
