/**
 * Factur-X (profile EN 16931): the visual PDF made a PDF/A-3 with its CII XML embedded as `factur-x.xml`.
 *
 * The XML and the PDF/A-3 packaging (XMP metadata, output intent, associated file) come from
 * `@e-invoice-eu/core`, fed the EN 16931 business terms of the same `PrintedDocument` the PDF prints, so
 * the two carry the same figures. Its input is EN 16931 in UBL element names; the library writes CII.
 */
import { InvoiceService, type Invoice } from '@e-invoice-eu/core';
import countries from 'i18n-iso-countries';
import { REVERSE_CHARGE_MENTION, OUTSIDE_EU_MENTION } from '../../domain/vat';
import type { PrintedDocument } from './printed-document';

type UblInvoice = Invoice['ubl:Invoice'];
type CountryCode =
  UblInvoice['cac:AccountingSupplierParty']['cac:Party']['cac:PostalAddress']['cac:Country']['cbc:IdentificationCode'];

/** 12345 → "123.45" (EN 16931 amounts: two decimals, a dot). */
export const amount = (cents: number): string => {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
};

function alpha2(alpha3: string): CountryCode {
  const code = countries.alpha3ToAlpha2(alpha3);
  if (!code) throw new Error(`no ISO 3166 alpha-2 code for ${alpha3}`);
  return code as CountryCode;
}

/** EN 16931 VAT category (UNCL 5305) with its exemption reason (BT-120, BT-121) of a document's VAT rule. */
export function vatCategory(document: PrintedDocument): {
  'cbc:ID': 'S' | 'AE' | 'G';
  'cbc:Percent': string;
  'cbc:TaxExemptionReasonCode'?: string;
  'cbc:TaxExemptionReason'?: string;
  'cac:TaxScheme': { 'cbc:ID': 'VAT' };
} {
  const percent = String(document.vat.rateBasisPoints / 100);
  const scheme = { 'cbc:ID': 'VAT' as const };
  switch (document.vat.kind) {
    case 'EU_REVERSE_CHARGE':
      return {
        'cbc:ID': 'AE',
        'cbc:Percent': '0',
        'cbc:TaxExemptionReasonCode': 'VATEX-EU-AE',
        'cbc:TaxExemptionReason': document.vat.legalMention ?? REVERSE_CHARGE_MENTION,
        'cac:TaxScheme': scheme,
      };
    case 'OUTSIDE_EU':
      return {
        'cbc:ID': 'G',
        'cbc:Percent': '0',
        'cbc:TaxExemptionReasonCode': 'VATEX-EU-G',
        'cbc:TaxExemptionReason': document.vat.legalMention ?? OUTSIDE_EU_MENTION,
        'cac:TaxScheme': scheme,
      };
    default:
      return { 'cbc:ID': 'S', 'cbc:Percent': percent, 'cac:TaxScheme': scheme };
  }
}

/** "12 rue des Entrepreneurs, 75015 Paris, France" → street, postcode, city (the seller's one-line address). */
function splitFrenchAddress(address: string): { street: string; postcode?: string; city?: string } {
  const match = /^(.*?),\s*(\d{5})\s+([^,]+?)(?:,\s*France)?\s*$/u.exec(address);
  return match ? { street: match[1]!, postcode: match[2]!, city: match[3]! } : { street: address };
}

/** The document's EN 16931 business terms, in the library's UBL-named input. */
export function facturXInvoice(document: PrintedDocument): Invoice {
  const { seller, buyer, totals } = document;
  const category = vatCategory(document);
  const lineCategory = {
    'cbc:ID': category['cbc:ID'],
    'cbc:Percent': category['cbc:Percent'],
    'cac:TaxScheme': category['cac:TaxScheme'],
  };
  const sellerAddress = splitFrenchAddress(seller.address);
  const payable = totals.totalInclVatCents - document.settledCents;
  const intraCommunity =
    document.vat.kind === 'EU_REVERSE_CHARGE' ||
    document.vat.kind === 'EU_CONSUMER' ||
    document.vat.kind === 'FRANCE';
  const eur = { currency: 'EUR' as const };

  const invoice: UblInvoice = {
    'cbc:CustomizationID': 'urn:cen.eu:en16931:2017',
    'cbc:ID': document.number,
    'cbc:IssueDate': document.issueDate,
    ...(document.dueDate ? { 'cbc:DueDate': document.dueDate } : {}),
    'cbc:InvoiceTypeCode': document.typeCode,
    // one note: the library puts an array's strings into one IncludedNote, which the schema refuses
    ...(document.notes.length ? { 'cbc:Note': [document.notes.join(' — ')] } : {}),
    'cbc:DocumentCurrencyCode': eur.currency,
    'cbc:BuyerReference': document.baseId ?? `compte-${document.accountId ?? ''}`,
    ...(document.precedingInvoice
      ? {
          'cac:BillingReference': [
            {
              'cac:InvoiceDocumentReference': {
                'cbc:ID': document.precedingInvoice.number,
                'cbc:IssueDate': document.precedingInvoice.issueDate,
              },
            },
          ],
        }
      : {}),
    'cac:AccountingSupplierParty': {
      'cac:Party': {
        'cac:PostalAddress': {
          'cbc:StreetName': sellerAddress.street,
          ...(sellerAddress.city ? { 'cbc:CityName': sellerAddress.city } : {}),
          ...(sellerAddress.postcode ? { 'cbc:PostalZone': sellerAddress.postcode } : {}),
          'cac:Country': { 'cbc:IdentificationCode': 'FR' },
        },
        'cac:PartyTaxScheme': [{ 'cbc:CompanyID': seller.vatNumber, 'cac:TaxScheme': { 'cbc:ID': 'VAT' } }],
        'cac:PartyLegalEntity': {
          'cbc:RegistrationName': seller.name,
          'cbc:CompanyID': seller.siren,
          'cbc:CompanyID@schemeID': '0002',
          ...(seller.legalForm && seller.shareCapital
            ? { 'cbc:CompanyLegalForm': `${seller.legalForm} au capital de ${seller.shareCapital}` }
            : {}),
        },
      },
    },
    'cac:AccountingCustomerParty': {
      'cac:Party': {
        ...(buyer.email ? { 'cbc:EndpointID': buyer.email, 'cbc:EndpointID@schemeID': 'EM' } : {}),
        'cac:PostalAddress': {
          'cbc:StreetName': buyer.address,
          'cbc:CityName': buyer.city,
          'cbc:PostalZone': buyer.postalCode,
          'cac:Country': { 'cbc:IdentificationCode': alpha2(buyer.country) },
        },
        ...(buyer.vatNumber && intraCommunity
          ? {
              'cac:PartyTaxScheme': {
                'cbc:CompanyID': buyer.vatNumber,
                'cac:TaxScheme': { 'cbc:ID': 'VAT' },
              },
            }
          : {}),
        'cac:PartyLegalEntity': {
          'cbc:RegistrationName': buyer.companyName,
          ...(buyer.siren ? { 'cbc:CompanyID': buyer.siren, 'cbc:CompanyID@schemeID': '0002' } : {}),
        },
        ...(buyer.name || buyer.email
          ? {
              'cac:Contact': {
                ...(buyer.name ? { 'cbc:Name': buyer.name } : {}),
                ...(buyer.email ? { 'cbc:ElectronicMail': buyer.email } : {}),
              },
            }
          : {}),
      },
    },
    // CII requires the delivery group (BG-13) even when empty
    'cac:Delivery': {
      'cbc:ActualDeliveryDate': document.saleDate ?? document.deliveryDate ?? document.issueDate,
    },
    'cac:PaymentTerms': { 'cbc:Note': document.settlement },
    'cac:TaxTotal': [
      {
        'cbc:TaxAmount': amount(totals.vatCents),
        'cbc:TaxAmount@currencyID': eur.currency,
        'cac:TaxSubtotal': [
          {
            'cbc:TaxableAmount': amount(totals.totalExclVatCents),
            'cbc:TaxableAmount@currencyID': eur.currency,
            'cbc:TaxAmount': amount(totals.vatCents),
            'cbc:TaxAmount@currencyID': eur.currency,
            'cac:TaxCategory': category,
          },
        ],
      },
    ],
    'cac:LegalMonetaryTotal': {
      'cbc:LineExtensionAmount': amount(totals.totalExclVatCents),
      'cbc:LineExtensionAmount@currencyID': eur.currency,
      'cbc:TaxExclusiveAmount': amount(totals.totalExclVatCents),
      'cbc:TaxExclusiveAmount@currencyID': eur.currency,
      'cbc:TaxInclusiveAmount': amount(totals.totalInclVatCents),
      'cbc:TaxInclusiveAmount@currencyID': eur.currency,
      ...(document.settledCents
        ? { 'cbc:PrepaidAmount': amount(document.settledCents), 'cbc:PrepaidAmount@currencyID': eur.currency }
        : {}),
      'cbc:PayableAmount': amount(payable),
      'cbc:PayableAmount@currencyID': eur.currency,
    },
    'cac:InvoiceLine': document.lines.map((line, i) => ({
      'cbc:ID': String(i + 1),
      'cbc:InvoicedQuantity': String(line.quantity),
      'cbc:InvoicedQuantity@unitCode': 'C62',
      'cbc:LineExtensionAmount': amount(line.totalExclVatCents),
      'cbc:LineExtensionAmount@currencyID': eur.currency,
      'cac:Item': { 'cbc:Name': line.description, 'cac:ClassifiedTaxCategory': lineCategory },
      'cac:Price': {
        'cbc:PriceAmount': amount(line.unitPriceCents),
        'cbc:PriceAmount@currencyID': eur.currency,
      },
    })),
  } as UblInvoice;
  return { 'ubl:Invoice': invoice };
}

const quietLogger = { log: () => {}, warn: () => {}, error: () => {} };

/** The visual PDF with the document's CII XML embedded, as a Factur-X EN 16931 PDF/A-3. */
export async function toFacturX(pdf: Buffer, document: PrintedDocument): Promise<Buffer> {
  const service = new InvoiceService(quietLogger);
  const out = await service.generate(facturXInvoice(document), {
    format: 'Factur-X-EN16931',
    lang: 'fr-fr',
    pdf: { buffer: pdf, filename: `${document.number}.pdf`, mimetype: 'application/pdf' },
  });
  return Buffer.from(out as Uint8Array);
}
