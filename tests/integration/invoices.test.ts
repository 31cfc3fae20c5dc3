/**
 * Paid invoices on real PostgreSQL: numbers allocated in the payment's transaction (consecutive under 50
 * concurrent payments, none lost to rolled-back ones), idempotent per payment, and the French PDF served
 * through the API to the bases that may see it.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import { DEFAULT_CATALOG } from '../../domain/catalog';
import {
  LATE_PAYMENT_PENALTY_MENTION,
  RECOVERY_FEE_MENTION,
  type InvoiceDocument,
} from '../../domain/invoice';
import { quote, type QuoteRequest } from '../../domain/quote';
import { REVERSE_CHARGE_MENTION } from '../../domain/vat';
import type { Db } from '../../infra/prisma';
import { issuePaidInvoice, type IssuePaidInvoiceInput } from '../../services/invoices/issue-paid-invoice';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, registerMachine } from '../helpers/api';
import { pdfAttachment, pdfText as extractText } from '../helpers/pdf-text';
import { createHarness, randomBaseId, testBilling, type Harness } from '../helpers/harness';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

// One issue date for the whole file: numbers must follow issue dates, whatever order the tests run in.
const ISSUE_DATE = '2026-03-15';
const YEAR = 2026;
const ENTERPRISE_LOCAL_ANNUAL: QuoteRequest = {
  edition: 'ENTERPRISE',
  mode: 'LOCAL',
  period: 'ANNUAL',
  connections: 1,
  country: 'FRA',
};

function invoiceInput(
  baseId: string,
  paymentId: string | undefined,
  request: QuoteRequest = ENTERPRISE_LOCAL_ANNUAL,
  buyer: Partial<IssuePaidInvoiceInput['buyer']> = {},
): IssuePaidInvoiceInput {
  const q = quote(DEFAULT_CATALOG, request);
  return {
    baseId,
    paymentId,
    issueDate: ISSUE_DATE,
    saleDate: ISSUE_DATE,
    seller: testBilling.seller,
    buyer: {
      companyName: 'Garage Martin',
      name: 'Paul Martin',
      address: '3 avenue Foch',
      postalCode: '69006',
      city: 'Lyon',
      country: request.country,
      vatNumber: request.vatNumber,
      siren: request.country === 'FRA' ? '552100554' : undefined,
      ...buyer,
    },
    lines: q.lines,
    vat: q.vat,
    totals: q,
    paidAt: new Date('2026-03-15T09:30:00Z'),
  };
}

async function createPayment(tx: Db, baseId: string, amountCents: number) {
  return tx.payment.create({
    data: {
      idempotencyKey: `test:${crypto.randomUUID()}`,
      baseId,
      method: 'ONLINE',
      provider: 'stripe',
      amountCents,
      status: 'SUCCEEDED',
    },
  });
}

class SimulatedFailure extends Error {}

/** A payment and its invoice in one transaction; `failAfterInvoice` rolls both back once the number is taken. */
function pay(
  baseId: string,
  options: {
    request?: QuoteRequest;
    buyer?: Partial<IssuePaidInvoiceInput['buyer']>;
    failAfterInvoice?: (number: string) => void;
  } = {},
): Promise<InvoiceDocument> {
  return h.prisma.$transaction(
    async (tx) => {
      const input = invoiceInput(baseId, undefined, options.request, options.buyer);
      const payment = await createPayment(tx, baseId, input.totals.totalInclVatCents);
      const invoice = await issuePaidInvoice(tx, { ...input, paymentId: payment.id });
      if (options.failAfterInvoice) {
        options.failAfterInvoice(invoice.number);
        throw new SimulatedFailure(`rolled back after taking ${invoice.number}`);
      }
      return invoice;
    },
    // 50 transactions share a 20-connection pool and queue on the sequence lock: allow them to wait
    { maxWait: 30_000, timeout: 30_000 },
  );
}

const lastSeq = async () =>
  (await h.prisma.invoiceSequence.findUnique({ where: { year: YEAR } }))?.lastSeq ?? 0;
const seqOf = (number: string) => Number(number.slice(5));

async function download(path: string, key: string) {
  return request(h.app)
    .get(path)
    .set(bearer(key))
    .buffer(true)
    .parse((res, callback) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => callback(null, Buffer.concat(chunks)));
    });
}

/** The PDF's text with whitespace runs (line breaks, table cells) as single spaces. */
const pdfText = async (pdf: Buffer) => (await extractText(pdf)).replace(/\s+/g, ' ');

describe('invoice numbers', () => {
  it('50 concurrent payments get 50 consecutive numbers: no gap, no duplicate', async () => {
    const baseId = randomBaseId();
    const before = await lastSeq();
    const invoices = await Promise.all(Array.from({ length: 50 }, () => pay(baseId)));
    const seqs = invoices.map((i) => seqOf(i.number)).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => before + i + 1));
    expect(invoices.every((i) => i.number.startsWith(`${YEAR}-`) && i.number.length === 11)).toBe(true);
    expect(await lastSeq()).toBe(before + 50);
    expect(await h.prisma.invoice.count({ where: { baseId } })).toBe(50);
  });

  it('payments rolled back after taking a number give it back: committed numbers stay consecutive', async () => {
    const baseId = randomBaseId();
    const before = await lastSeq();
    const released: string[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        pay(baseId, i % 5 === 2 ? { failAfterInvoice: (n) => released.push(n) } : {}),
      ),
    );
    const failures = results.filter((r) => r.status === 'rejected');
    expect(failures).toHaveLength(8);
    for (const failure of failures) expect(failure.reason).toBeInstanceOf(SimulatedFailure);
    expect(released).toHaveLength(8); // each of them did take a number before rolling back

    const committed = (await h.prisma.invoice.findMany({ where: { baseId }, select: { seq: true } }))
      .map((i) => i.seq)
      .sort((a, b) => a - b);
    expect(committed).toEqual(Array.from({ length: 32 }, (_, i) => before + i + 1));
    expect(await lastSeq()).toBe(before + 32);
    expect(await h.prisma.payment.count({ where: { baseId } })).toBe(32);
  });

  it('is idempotent per payment: a second call returns the same invoice and spends no number', async () => {
    const baseId = randomBaseId();
    const input = invoiceInput(baseId, undefined);
    const payment = await createPayment(h.prisma, baseId, input.totals.totalInclVatCents);
    const first = await h.prisma.$transaction((tx) =>
      issuePaidInvoice(tx, { ...input, paymentId: payment.id }),
    );
    const seq = await lastSeq();
    const again = await h.prisma.$transaction((tx) =>
      issuePaidInvoice(tx, { ...input, paymentId: payment.id }),
    );
    expect(again.number).toBe(first.number);
    expect(again.id).toBe(first.id);
    expect(await lastSeq()).toBe(seq);
    expect(await h.prisma.invoice.count({ where: { paymentId: payment.id } })).toBe(1);
  });

  it('refuses, before taking a number, totals that are not the sum of the lines or a call outside a transaction', async () => {
    const baseId = randomBaseId();
    const before = await lastSeq();
    const input = invoiceInput(baseId, undefined);
    await expect(
      h.prisma.$transaction((tx) =>
        issuePaidInvoice(tx, { ...input, totals: { ...input.totals, vatCents: input.totals.vatCents + 1 } }),
      ),
    ).rejects.toThrow(/total VAT ≠ sum of the lines/);
    await expect(issuePaidInvoice(h.prisma, input)).rejects.toThrow(/inside the payment transaction/);
    await expect(
      h.prisma.$transaction((tx) => issuePaidInvoice(tx, { ...input, issueDate: '2026-02-30' })),
    ).rejects.toThrow(/issueDate must be a YYYY-MM-DD date/);
    expect(await lastSeq()).toBe(before);
  });

  it('refuses an issue date earlier than the previous invoice of the year (numbers follow dates)', async () => {
    const baseId = randomBaseId();
    await pay(baseId);
    const before = await lastSeq();
    await expect(
      h.prisma.$transaction((tx) =>
        issuePaidInvoice(tx, { ...invoiceInput(baseId, undefined), issueDate: '2026-03-14' }),
      ),
    ).rejects.toThrow(/earlier than 2026-03-15/);
    expect(await lastSeq()).toBe(before);
  });
});

describe('invoice PDF through the API', () => {
  it('serves the paid invoice to its base: number, amounts, mentions and the PAYÉE stamp', async () => {
    const machine = await registerMachine(h);
    const invoice = await pay(machine.baseId);

    const res = await download(`/invoices/${invoice.number}.pdf`, machine.apiKey);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(`inline; filename="facture-${invoice.number}.pdf"`);
    const pdf = res.body as Buffer;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const text = await pdfText(pdf);
    for (const expected of [
      'FACTURE',
      `N° ${invoice.number}`,
      "Date d'émission : 15/03/2026",
      'Date de la vente : 15/03/2026',
      "Date d'échéance : 15/03/2026",
      'Gestan SAS',
      'SAS au capital de 10 000 € — RCS Paris 123 456 789',
      'N° TVA intracommunautaire : FR32123456789',
      'Garage Martin',
      'SIREN : 552100554',
      'Licence ENTERPRISE LOCAL — 1 connexion × 12 mois (annuel)',
      '8,50 €', // unit price excl. VAT, quantity 12
      '20 %',
      '102,00 €',
      '20,40 €',
      '122,40 €',
      'PAYÉE',
      'le 15/03/2026',
      LATE_PAYMENT_PENALTY_MENTION,
      RECOVERY_FEE_MENTION,
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).not.toContain('Autoliquidation');
  });

  it('embeds the Factur-X XML with the stored invoice figures: number, dates, totals, VAT, buyer', async () => {
    const machine = await registerMachine(h);
    const french = await pay(machine.baseId);
    const reverse = await pay(machine.baseId, {
      request: { ...ENTERPRISE_LOCAL_ANNUAL, country: 'POL', vatNumber: 'PL1234567890' },
      buyer: { companyName: 'Szkoła Językowa Čapek', city: 'Łódź', postalCode: '90-001' },
    });
    for (const invoice of [french, reverse]) {
      const row = await h.prisma.invoice.findUniqueOrThrow({ where: { number: invoice.number } });
      const pdf = (await download(`/invoices/${invoice.number}.pdf`, machine.apiKey)).body as Buffer;
      const xml = (await pdfAttachment(pdf, 'factur-x.xml')).toString('utf8');
      const field = (tag: string) => new RegExp(`<ram:${tag}[^>]*>([^<]*)</ram:${tag}>`).exec(xml)?.[1];
      const euros = (cents: number) => (cents / 100).toFixed(2);
      expect(xml).toContain('urn:cen.eu:en16931:2017');
      expect(new RegExp(`<rsm:ExchangedDocument>\\s*<ram:ID>${row.number}</ram:ID>`).test(xml)).toBe(true);
      expect(field('TaxBasisTotalAmount')).toBe(euros(row.totalExclVatCents));
      expect(field('TaxTotalAmount')).toBe(euros(row.vatCents));
      expect(field('GrandTotalAmount')).toBe(euros(row.totalInclVatCents));
      expect(field('DuePayableAmount')).toBe('0.00'); // paid
      expect(xml).toContain('20260315'); // the issue date, CII format 102
    }
    const reverseXml = (
      await pdfAttachment(
        (await download(`/invoices/${reverse.number}.pdf`, machine.apiKey)).body as Buffer,
        'factur-x.xml',
      )
    ).toString('utf8');
    expect(reverseXml).toContain('<ram:CategoryCode>AE</ram:CategoryCode>');
    expect(reverseXml).toContain('Szkoła Językowa Čapek');
    expect(reverseXml).toContain('PL1234567890');
  });

  it('prints the reverse-charge mention with both VAT numbers for an EU business', async () => {
    const machine = await registerMachine(h);
    const invoice = await pay(machine.baseId, {
      request: { ...ENTERPRISE_LOCAL_ANNUAL, country: 'POL', vatNumber: 'PL1234567890' },
      buyer: { companyName: 'Szkoła Językowa Čapek', city: 'Łódź', postalCode: '90-001' },
    });
    expect(invoice.totals).toEqual({ totalExclVatCents: 10200, vatCents: 0, totalInclVatCents: 10200 });
    const text = await pdfText((await download(`/invoices/${invoice.number}.pdf`, machine.apiKey)).body);
    expect(text).toContain(REVERSE_CHARGE_MENTION);
    expect(text).toContain('N° TVA du vendeur : FR32123456789 — N° TVA du client : PL1234567890');
    expect(text).toContain('TVA 0 % 0,00 €');
    expect(text).toContain('Szkoła Językowa Čapek');
    expect(text).toContain('90-001 Łódź');
  });

  it("another base's key gets 404 as for a missing number; ops may read any; a malformed name is 400", async () => {
    const owner = await registerMachine(h);
    const stranger = await registerMachine(h);
    const invoice = await pay(owner.baseId);

    const foreign = await request(h.app).get(`/invoices/${invoice.number}.pdf`).set(bearer(stranger.apiKey));
    const missing = await request(h.app).get(`/invoices/${YEAR}-999999.pdf`).set(bearer(stranger.apiKey));
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('INVOICE_NOT_FOUND');
    expect(missing.status).toBe(404);
    expect(foreign.body.error.message).toBe(
      missing.body.error.message.replace(`${YEAR}-999999`, invoice.number),
    );

    const { token } = await createOpsToken(
      h.prisma,
      { type: 'CLI', id: 'test' },
      { name: 'compta', role: 'OPS' },
    );
    expect((await download(`/invoices/${invoice.number}.pdf`, token)).status).toBe(200);

    for (const name of ['2026-42.pdf', `${invoice.number}.txt`, invoice.number, '../2026-000001.pdf']) {
      const bad = await request(h.app)
        .get(`/invoices/${encodeURIComponent(name)}`)
        .set(bearer(owner.apiKey));
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect((await request(h.app).get(`/invoices/${invoice.number}.pdf`)).status).toBe(401);
  });

  it("lists a base's invoices with their PDF URLs, to that base only, in the shape of an account's listing", async () => {
    const machine = await registerMachine(h);
    const stranger = await registerMachine(h);
    const first = await pay(machine.baseId);
    const second = await pay(machine.baseId);

    const res = await request(h.app).get(`/bases/${machine.baseId}/invoices`).set(bearer(machine.apiKey));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      total: 2,
      items: [second.number, first.number].map((number) => ({
        number,
        status: 'PAID',
        issueDate: ISSUE_DATE,
        saleDate: ISSUE_DATE,
        dueDate: ISSUE_DATE,
        currency: 'EUR',
        totalExclVatCents: 10200,
        vatCents: 2040,
        totalInclVatCents: 12240,
        paidAt: '2026-03-15T09:30:00.000Z',
        baseId: machine.baseId,
        consumptionMonth: null,
        pdfUrl: `/invoices/${number}.pdf`,
      })),
      creditNotes: [],
    });
    const page = await request(h.app)
      .get(`/bases/${machine.baseId}/invoices?limit=1&offset=1`)
      .set(bearer(machine.apiKey));
    expect(page.body).toEqual({ total: 2, items: [res.body.items[1]], creditNotes: [] });
    const pdf = await download(res.body.items[0].pdfUrl, machine.apiKey);
    expect(pdf.status).toBe(200);

    const other = await request(h.app).get(`/bases/${machine.baseId}/invoices`).set(bearer(stranger.apiKey));
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('BASE_FORBIDDEN');
  });
});
