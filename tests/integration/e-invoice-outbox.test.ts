/**
 * The approved-platform outbox on real PostgreSQL and the real Temporal dev server: a paid invoice and a
 * credit note are each enqueued once, in their issuing transaction (also when issued concurrently or
 * retried); eInvoiceOutboxWorkflow sends them through the local platform and records its answers and the
 * lifecycle statuses that follow; a failing platform is retried and the document ends received once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import request from 'supertest';
import { DEFAULT_CATALOG } from '../../domain/catalog';
import type { InvoiceDocument } from '../../domain/invoice';
import { quote } from '../../domain/quote';
import { issueCreditNote } from '../../services/credit-notes/issue-credit-note';
import { createLocalPlatform, setLocalPlatformStatus } from '../../services/e-invoicing/local-platform';
import type { PlatformAdapter } from '../../services/e-invoicing/platform-adapter';
import { issuePaidInvoice } from '../../services/invoices/issue-paid-invoice';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { createWorker } from '../../worker';
import { eInvoiceOutboxWorkflow } from '../../workflows/einvoice-outbox';
import { bearer } from '../helpers/api';
import {
  createHarness,
  randomBaseId,
  testBilling,
  workerDeps,
  workflowBundle,
  type Harness,
} from '../helpers/harness';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const SYSTEM = { type: 'SYSTEM' as const, id: 'test' };
const today = new Date().toISOString().slice(0, 10);

async function paymentFor(baseId: string, cents: number): Promise<string> {
  const payment = await h.prisma.payment.create({
    data: {
      idempotencyKey: `test:${crypto.randomUUID()}`,
      baseId,
      method: 'ONLINE',
      provider: 'stripe',
      amountCents: cents,
      status: 'SUCCEEDED',
    },
  });
  return payment.id;
}

const q = quote(DEFAULT_CATALOG, {
  edition: 'ENTERPRISE',
  mode: 'LOCAL',
  period: 'ANNUAL',
  connections: 1,
  country: 'FRA',
});

/** The paid invoice of a payment, issued in its own transaction (as the payment's activity does). */
function invoicePayment(baseId: string, paymentId: string): Promise<InvoiceDocument> {
  return h.prisma.$transaction(
    (tx) =>
      issuePaidInvoice(tx, {
        baseId,
        paymentId,
        issueDate: today,
        saleDate: today,
        seller: testBilling.seller,
        buyer: {
          companyName: 'Garage Martin',
          address: '3 avenue Foch',
          postalCode: '69006',
          city: 'Lyon',
          country: 'FRA',
          vatNumber: 'FR40303265045',
        },
        lines: q.lines,
        vat: q.vat,
        totals: q,
        paidAt: new Date(),
      }),
    { maxWait: 30_000, timeout: 30_000 },
  );
}

const creditNoteOf = (invoiceNumber: string, key: string) =>
  h.prisma.$transaction((tx) =>
    issueCreditNote(tx, SYSTEM, {
      invoiceNumber,
      kind: 'GOODWILL',
      reason: 'Geste commercial',
      amountInclVatCents: 1200,
      idempotencyKey: key,
      now: new Date(),
    }),
  );

const rowsOf = (documentNumber: string) => h.prisma.eInvoiceOutbox.findMany({ where: { documentNumber } });

async function runOutbox(taskQueue = h.taskQueue) {
  return h.temporal.workflow.execute(eInvoiceOutboxWorkflow, {
    workflowId: `e-invoice-outbox-test-${crypto.randomUUID()}`,
    taskQueue,
  });
}

let invoiceNumber: string;
let creditNoteNumber: string;

it('enqueues a paid invoice and a credit note once each, also when issued concurrently and retried', async () => {
  const baseId = randomBaseId();
  const paymentId = await paymentFor(baseId, q.totalInclVatCents);
  // two deliveries of the same payment at once, then a retry: one invoice, one outbox row
  const racing = await Promise.allSettled([
    invoicePayment(baseId, paymentId),
    invoicePayment(baseId, paymentId),
  ]);
  const issued = racing.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  expect(issued.length).toBeGreaterThanOrEqual(1);
  invoiceNumber = issued[0]!.number;
  expect((await invoicePayment(baseId, paymentId)).number).toBe(invoiceNumber);
  const invoiceRows = await rowsOf(invoiceNumber);
  expect(invoiceRows).toEqual([
    expect.objectContaining({
      documentKind: 'INVOICE',
      flow: 'E_INVOICE',
      pdfPath: `/invoices/${invoiceNumber}.pdf`,
      status: 'QUEUED',
      attempts: 0,
      platformId: null,
    }),
  ]);

  const key = `goodwill:${crypto.randomUUID()}`;
  const notes = await Promise.allSettled([
    creditNoteOf(invoiceNumber, key),
    creditNoteOf(invoiceNumber, key),
  ]);
  const note = notes.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))[0]!;
  creditNoteNumber = note.number;
  expect((await creditNoteOf(invoiceNumber, key)).number).toBe(creditNoteNumber);
  expect(await h.prisma.creditNote.count({ where: { idempotencyKey: key } })).toBe(1);
  expect(await rowsOf(creditNoteNumber)).toEqual([
    expect.objectContaining({
      documentKind: 'CREDIT_NOTE',
      flow: 'E_INVOICE',
      pdfPath: `/credit-notes/${creditNoteNumber}.pdf`,
      status: 'QUEUED',
    }),
  ]);
});

it('a document whose issuing transaction rolls back leaves no outbox row', async () => {
  const baseId = randomBaseId();
  const paymentId = await paymentFor(baseId, q.totalInclVatCents);
  let number = '';
  await expect(
    h.prisma.$transaction(async (tx) => {
      number = (
        await issuePaidInvoice(tx, {
          baseId,
          paymentId,
          issueDate: today,
          saleDate: today,
          seller: testBilling.seller,
          buyer: {
            companyName: 'Client',
            address: '1 rue',
            postalCode: '75001',
            city: 'Paris',
            country: 'FRA',
          },
          lines: q.lines,
          vat: q.vat,
          totals: q,
          paidAt: new Date(),
        })
      ).number;
      throw new Error('the payment write fails after the invoice');
    }),
  ).rejects.toThrow('the payment write fails');
  expect(number).not.toBe('');
  expect(await rowsOf(number)).toEqual([]);
  expect(await h.prisma.invoice.count({ where: { number } })).toBe(0);
});

it('the workflow sends the queued documents through the local platform and records its statuses', async () => {
  const first = await runOutbox();
  expect(first.failed).toBe(0);
  expect(first.sent).toEqual(
    expect.arrayContaining([
      { documentNumber: invoiceNumber, status: 'DEPOSITED' },
      { documentNumber: creditNoteNumber, status: 'DEPOSITED' },
    ]),
  );
  const [invoiceRow] = await rowsOf(invoiceNumber);
  const [noteRow] = await rowsOf(creditNoteNumber);
  for (const row of [invoiceRow!, noteRow!]) {
    expect(row).toMatchObject({ status: 'DEPOSITED', attempts: 1, platformId: row.id, lastError: null });
    expect(row.sentAt).toBeInstanceOf(Date);
    const pdf = fs.readFileSync(path.join(h.eInvoiceDir, `${row.id}.pdf`));
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.includes(Buffer.from('factur-x.xml'))).toBe(true);
    expect(row.lastAnswer).toMatchObject({ number: row.documentNumber, status: 'DEPOSITED' });
  }

  // nothing queued any more: a second run sends nothing again
  expect((await runOutbox()).sent).toEqual([]);

  // the buyer's answers come back: the invoice collected, the credit note refused
  await setLocalPlatformStatus(h.eInvoiceDir, invoiceRow!.platformId!, 'PAID');
  await setLocalPlatformStatus(h.eInvoiceDir, noteRow!.platformId!, 'REFUSED');
  const polled = await runOutbox();
  expect(polled.statuses).toEqual({ polled: 2, changed: 2, failed: 0 });
  expect((await rowsOf(invoiceNumber))[0]).toMatchObject({ status: 'PAID', lastAnswer: { status: 'PAID' } });
  expect((await rowsOf(creditNoteNumber))[0]).toMatchObject({ status: 'REFUSED' });
  // final statuses are not asked again
  expect((await runOutbox()).statuses).toEqual({ polled: 0, changed: 0, failed: 0 });
});

it('a failing platform is retried and the document ends sent once', async () => {
  const baseId = randomBaseId();
  const invoice = await invoicePayment(baseId, await paymentFor(baseId, q.totalInclVatCents));
  const local = createLocalPlatform(h.eInvoiceDir);
  const calls: string[] = [];
  // the platform is down, then takes the document but its answer is lost, then answers
  const flaky: PlatformAdapter = {
    name: 'flaky',
    async send(document) {
      calls.push(document.number);
      if (calls.length === 1) throw new Error('platform unavailable (503)');
      const answer = await local.send(document);
      if (calls.length === 2) throw new Error('connection reset before the answer');
      return answer;
    },
    fetchStatus: (platformId) => local.fetchStatus(platformId),
  };
  const taskQueue = `${h.taskQueue}-flaky`;
  const connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    deps: workerDeps(h, { eInvoicePlatform: flaky }),
    workflowBundle: await workflowBundle(),
    dataConverter: h.dataConverter,
  });
  try {
    const result = await worker.runUntil(runOutbox(taskQueue));
    expect(result.sent).toEqual([{ documentNumber: invoice.number, status: 'DEPOSITED' }]);
  } finally {
    await connection.close();
  }
  expect(calls).toEqual([invoice.number, invoice.number, invoice.number]);
  const [row] = await rowsOf(invoice.number);
  expect(row).toMatchObject({ status: 'DEPOSITED', attempts: 3, platformId: row!.id, lastError: null });
  // received once: one document at the platform for the row, answered from its first reception
  const received = fs.readdirSync(h.eInvoiceDir).filter((f) => f.startsWith(row!.id));
  expect(received.sort()).toEqual([`${row!.id}.json`, `${row!.id}.pdf`]);
  const record = JSON.parse(fs.readFileSync(path.join(h.eInvoiceDir, `${row!.id}.json`), 'utf8'));
  expect(row!.lastAnswer).toEqual(record);
});

it('ops list the outbox by status', async () => {
  const ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'compta', role: 'OPS' }))
    .token;
  const paid = await request(h.app).get('/ops/e-invoices?status=PAID').set(bearer(ops));
  expect(paid.status).toBe(200);
  expect(paid.body.items).toEqual([
    expect.objectContaining({
      documentKind: 'INVOICE',
      documentNumber: invoiceNumber,
      status: 'PAID',
      final: true,
    }),
  ]);
  const all = await request(h.app).get('/ops/e-invoices').set(bearer(ops));
  expect(all.body.items.map((i: { documentNumber: string }) => i.documentNumber)).toEqual(
    expect.arrayContaining([invoiceNumber, creditNoteNumber]),
  );
  const bad = await request(h.app).get('/ops/e-invoices?status=LOST').set(bearer(ops));
  expect(bad.status).toBe(400);
  expect((await request(h.app).get('/ops/e-invoices')).status).toBe(401);
});
