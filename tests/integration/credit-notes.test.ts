/**
 * Credit notes on real PostgreSQL: a goodwill credit through the ops route (PDF, listings, refusals that
 * change nothing, idempotency), and gap-free invoice and credit-note series under 50 concurrent issues
 * across a year boundary (Dec 31 → Jan 1).
 */
import crypto from 'node:crypto';
import request from 'supertest';
import { DEFAULT_CATALOG } from '../../domain/catalog';
import type { InvoiceDocument } from '../../domain/invoice';
import { quote } from '../../domain/quote';
import { issueCreditNote } from '../../services/credit-notes/issue-credit-note';
import { issuePaidInvoice } from '../../services/invoices/issue-paid-invoice';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, registerMachine } from '../helpers/api';
import { createHarness, randomBaseId, testBilling, type Harness } from '../helpers/harness';
import { pdfText } from '../helpers/pdf-text';

let h: Harness;
let opsToken: string;

beforeAll(async () => {
  h = await createHarness();
  opsToken = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'compta', role: 'OPS' }))
    .token;
});
afterAll(async () => {
  await h?.close();
});

const SYSTEM = { type: 'SYSTEM' as const, id: 'test' };

/** A paid invoice (and its payment) for a base, issued on `issueDate`. */
function paidInvoice(baseId: string, issueDate: string): Promise<InvoiceDocument> {
  const q = quote(DEFAULT_CATALOG, {
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    period: 'ANNUAL',
    connections: 1,
    country: 'FRA',
  });
  return h.prisma.$transaction(
    async (tx) => {
      const payment = await tx.payment.create({
        data: {
          idempotencyKey: `test:${crypto.randomUUID()}`,
          baseId,
          method: 'ONLINE',
          provider: 'stripe',
          amountCents: q.totalInclVatCents,
          status: 'SUCCEEDED',
        },
      });
      return issuePaidInvoice(tx, {
        baseId,
        paymentId: payment.id,
        issueDate,
        saleDate: issueDate,
        seller: testBilling.seller,
        buyer: {
          companyName: 'Garage Martin',
          address: '3 avenue Foch',
          postalCode: '69006',
          city: 'Lyon',
          country: 'FRA',
        },
        lines: q.lines,
        vat: q.vat,
        totals: q,
        paidAt: new Date(`${issueDate}T10:00:00Z`),
      });
    },
    { maxWait: 60_000, timeout: 60_000 },
  );
}

const seqsOf = (numbers: string[], prefix: string) =>
  numbers
    .filter((n) => n.startsWith(prefix))
    .map((n) => Number(n.slice(-6)))
    .sort((a, b) => a - b);
const consecutiveFrom = (first: number, count: number) => Array.from({ length: count }, (_, i) => first + i);

describe('goodwill credit notes (ops route)', () => {
  it('issues a credit note on the invoice, serves its PDF and lists it with the base', async () => {
    const machine = await registerMachine(h);
    const invoice = await paidInvoice(machine.baseId, '2026-03-15');
    const res = await request(h.app)
      .post(`/ops/invoices/${invoice.number}/credit-notes`)
      .set(bearer(opsToken))
      .send({
        amountInclVatCents: 3000,
        reason: 'Interruption de service du 12 mars',
        idempotencyKey: crypto.randomUUID(),
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'GOODWILL',
      invoiceNumber: invoice.number,
      totalInclVatCents: 3000,
      totalExclVatCents: 2500,
      vatCents: 500,
      refundedAt: null,
    });
    expect(res.body.number).toMatch(/^AV-\d{4}-\d{6}$/);

    const listed = await request(h.app)
      .get(`/bases/${machine.baseId}/credit-notes`)
      .set(bearer(machine.apiKey));
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([res.body]);

    const pdf = await request(h.app)
      .get(res.body.pdfUrl)
      .set(bearer(machine.apiKey))
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(pdf.status).toBe(200);
    const text = (await pdfText(pdf.body as Buffer)).replace(/\s+/g, ' ');
    for (const expected of [
      'AVOIR',
      `N° ${res.body.number}`,
      `Avoir sur la facture N° ${invoice.number} du 15/03/2026`,
      'Motif : Geste commercial — Interruption de service du 12 mars',
      'Total HT 25,00 €',
      '30,00 €',
      'N° TVA intracommunautaire : FR32123456789',
      'à valoir sur ses prochaines factures',
    ])
      expect(text).toContain(expected);

    const stranger = await registerMachine(h);
    expect((await request(h.app).get(res.body.pdfUrl).set(bearer(stranger.apiKey))).status).toBe(404);
  });

  it('refuses more than is left to credit, changing nothing; the same key answers the same credit note', async () => {
    const baseId = randomBaseId();
    const invoice = await paidInvoice(baseId, '2026-03-15');
    const key = crypto.randomUUID();
    const post = (amountInclVatCents: number, idempotencyKey: string) =>
      request(h.app)
        .post(`/ops/invoices/${invoice.number}/credit-notes`)
        .set(bearer(opsToken))
        .send({ amountInclVatCents, reason: 'Geste', idempotencyKey });
    const first = await post(10000, key);
    expect(first.status).toBe(201);
    expect((await post(10000, key)).body).toEqual(first.body);

    const sequences = await h.prisma.creditNoteSequence.findMany();
    const tooMuch = await post(invoice.totals.totalInclVatCents - 10000 + 1, crypto.randomUUID());
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error).toMatchObject({
      code: 'CREDIT_EXCEEDS_INVOICE',
      details: { creditableCents: invoice.totals.totalInclVatCents - 10000 },
    });
    expect(await h.prisma.creditNoteSequence.findMany()).toEqual(sequences);
    expect(await h.prisma.creditNote.count({ where: { invoiceId: invoice.id } })).toBe(1);

    expect((await post(5000, key)).body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const missing = await request(h.app)
      .post('/ops/invoices/2026-999999/credit-notes')
      .set(bearer(opsToken))
      .send({ amountInclVatCents: 100, reason: 'Geste', idempotencyKey: crypto.randomUUID() });
    expect(missing.body.error.code).toBe('INVOICE_NOT_FOUND');
  });
});

describe('series across a year boundary', () => {
  it('50 concurrent invoices, then 50 concurrent credit notes, on Dec 31 and Jan 1: each year gap-free', async () => {
    const baseId = randomBaseId();
    const [y1, y2] = [2031, 2032];
    const dayOfIssue = (i: number) => (i % 2 === 0 ? `${y1}-12-31` : `${y2}-01-01`);
    const lastInvoiceSeq = async (year: number) =>
      (await h.prisma.invoiceSequence.findUnique({ where: { year } }))?.lastSeq ?? 0;
    const lastCreditSeq = async (year: number) =>
      (await h.prisma.creditNoteSequence.findUnique({ where: { year } }))?.lastSeq ?? 0;
    const [inv1, inv2] = [await lastInvoiceSeq(y1), await lastInvoiceSeq(y2)];

    const invoices = await Promise.all(
      Array.from({ length: 50 }, (_, i) => paidInvoice(baseId, dayOfIssue(i))),
    );
    const invoiceNumbers = invoices.map((i) => i.number);
    expect(seqsOf(invoiceNumbers, `${y1}-`)).toEqual(consecutiveFrom(inv1 + 1, 25));
    expect(seqsOf(invoiceNumbers, `${y2}-`)).toEqual(consecutiveFrom(inv2 + 1, 25));

    const [cn1, cn2] = [await lastCreditSeq(y1), await lastCreditSeq(y2)];
    const notes = await Promise.all(
      invoices.map((invoice, i) =>
        h.prisma.$transaction(
          (tx) =>
            issueCreditNote(tx, SYSTEM, {
              invoiceNumber: invoice.number,
              kind: 'CANCELLATION',
              reason: 'Annulation de la commande',
              amountInclVatCents: invoice.totals.totalInclVatCents,
              idempotencyKey: `test:${crypto.randomUUID()}`,
              // noon UTC is the same day in Paris
              now: new Date(`${dayOfIssue(i)}T12:00:00Z`),
            }),
          { maxWait: 60_000, timeout: 60_000 },
        ),
      ),
    );
    const noteNumbers = notes.map((n) => n.number);
    expect(seqsOf(noteNumbers, `AV-${y1}-`)).toEqual(consecutiveFrom(cn1 + 1, 25));
    expect(seqsOf(noteNumbers, `AV-${y2}-`)).toEqual(consecutiveFrom(cn2 + 1, 25));
    for (const [i, note] of notes.entries()) {
      expect(note.issueDate).toBe(dayOfIssue(i));
      expect(note.invoice.number).toBe(invoices[i]!.number);
    }
  });
});
