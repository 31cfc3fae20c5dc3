import { eInvoiceFlowOf, eInvoicePdfPath, isFinalEInvoiceStatus } from '../../domain/e-invoicing';
import { vatRule } from '../../domain/vat';

describe('the flow of a document to the approved platform', () => {
  it('e-invoices a sale to a business registered for French VAT', () => {
    const buyer = { country: 'FRA', vatNumber: 'FR40303265045' };
    expect(eInvoiceFlowOf(buyer, vatRule(buyer))).toBe('E_INVOICE');
  });

  it('e-reports every other sale: French consumer, EU business, consumer or business outside the EU', () => {
    for (const buyer of [
      { country: 'FRA' },
      { country: 'DEU', vatNumber: 'DE136695976' },
      { country: 'DEU' },
      { country: 'CHE', vatNumber: 'CHE-123.456.788' },
    ])
      expect([buyer, eInvoiceFlowOf(buyer, vatRule(buyer))]).toEqual([buyer, 'E_REPORTING']);
  });

  it('stops following a document once rejected, refused or collected', () => {
    expect(['QUEUED', 'SENT', 'DEPOSITED'].map((s) => isFinalEInvoiceStatus(s as 'SENT'))).toEqual([
      false,
      false,
      false,
    ]);
    expect(['REJECTED', 'REFUSED', 'PAID'].every((s) => isFinalEInvoiceStatus(s as 'PAID'))).toBe(true);
  });

  it('points at the Factur-X PDF the document is served as', () => {
    expect(eInvoicePdfPath('INVOICE', '2026-000001')).toBe('/invoices/2026-000001.pdf');
    expect(eInvoicePdfPath('CREDIT_NOTE', 'AV-2026-000001')).toBe('/credit-notes/AV-2026-000001.pdf');
  });
});
