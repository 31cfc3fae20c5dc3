/**
 * The VIES check against a local peer answering like VIES' REST API (valid, invalid, unavailable), and what a
 * reverse-charged purchase does with each answer (docs/e-invoicing.md, "VAT numbers").
 */
import { ApplicationFailure } from '@temporalio/common';
import request from 'supertest';
import Stripe from 'stripe';
import { createViesActivities } from '../../activities/vies';
import { startViesPeer, type ViesPeer } from '../../infra/embedded/vies-peer';
import { formatParisDateFr } from '../../domain/invoice';
import { bearer, registerMachine } from '../helpers/api';
import { pdfText } from '../helpers/pdf-text';
import { createHarness, TEST_WEBHOOK_SECRET, type Harness } from '../helpers/harness';

describe('VIES check (activities/vies.ts) against a local VIES', () => {
  let peer: ViesPeer;
  let vies: ReturnType<typeof createViesActivities>;
  beforeAll(async () => {
    peer = await startViesPeer();
    vies = createViesActivities({
      baseUrl: peer.url,
      fetch,
      requesterVatNumber: 'FR32123456789',
      retryDelayMs: 5,
    });
  });
  afterAll(() => peer.stop());

  it('valid: the consultation number and date, the requester sent as VIES asks', async () => {
    const verdict = await vies.checkVatNumber('DE811907980');
    expect(verdict).toEqual({
      status: 'VALID',
      consultation: {
        vatNumber: 'DE811907980',
        valid: true,
        requestIdentifier: expect.stringMatching(/^WAPI\d+$/),
        requestDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      },
    });
    expect(peer.requests().at(-1)).toEqual({
      countryCode: 'DE',
      vatNumber: '811907980',
      requesterNumber: '32123456789',
    });
  });

  it('invalid: a verdict, with its consultation', async () => {
    peer.setAnswer('BE0417497106', 'INVALID');
    const verdict = await vies.checkVatNumber('BE0417497106');
    expect(verdict).toMatchObject({ status: 'INVALID', consultation: { valid: false } });
  });

  it('unavailable for a moment (503, then MS_UNAVAILABLE): retried until VIES answers', async () => {
    const before = peer.requests().length;
    peer.failNext(1, '503');
    expect((await vies.checkVatNumber('DE811907980')).status).toBe('VALID');
    peer.failNext(2, 'MS_UNAVAILABLE');
    expect((await vies.checkVatNumber('DE811907980')).status).toBe('VALID');
    expect(peer.requests().length - before).toBe(2 + 3);
  });

  it('unavailable through every attempt: UNAVAILABLE, never a verdict; the activity throws to be retried', async () => {
    peer.failNext(3, 'MS_UNAVAILABLE');
    expect(await vies.checkVatNumber('DE811907980')).toEqual({
      status: 'UNAVAILABLE',
      reason: 'VIES: MS_UNAVAILABLE',
    });
    peer.failNext(1, '503');
    const failure = await vies.checkVatNumberWithVies('DE811907980').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'VIES_UNAVAILABLE', nonRetryable: false });
    expect(await vies.checkVatNumberWithVies('DE811907980')).toMatchObject({ valid: true });
  });

  it('VIES unreachable (nothing listening): UNAVAILABLE', async () => {
    const gone = createViesActivities({ baseUrl: 'http://127.0.0.1:9', fetch, attempts: 2, retryDelayMs: 1 });
    expect((await gone.checkVatNumber('DE811907980')).status).toBe('UNAVAILABLE');
  });
});

describe('a reverse-charged purchase consults VIES', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h?.close());

  const billing = {
    companyName: 'Autohaus Müller GmbH',
    lastName: 'Müller',
    firstName: 'Jana',
    address: 'Hauptstraße 5',
    postalCode: '10115',
    city: 'Berlin',
    country: 'DEU',
    email: 'jana@autohaus-mueller.example.de',
    vatNumber: 'DE811907980',
  };
  const purchase = (baseId: string, vatNumber = billing.vatNumber) => ({
    idempotencyKey: `vies-${baseId}`,
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'ANNUAL',
    paymentMethod: 'ONLINE',
    billing: { ...billing, vatNumber },
    terms: { version: '2026-01', accepted: true },
  });
  const written = async (baseId: string) => ({
    purchases: await h.prisma.purchase.count({ where: { baseId } }),
    licences: await h.prisma.licence.count({ where: { baseId } }),
  });

  it('VIES unavailable: 503 VIES_UNAVAILABLE with Retry-After, nothing written; then valid: sold, consultation kept on the invoice', async () => {
    const { baseId, apiKey } = await registerMachine(h);
    h.vies.failNext(3, '503');
    const down = await request(h.app)
      .post(`/bases/${baseId}/subscriptions`)
      .set(bearer(apiKey))
      .send(purchase(baseId));
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('VIES_UNAVAILABLE');
    expect(down.headers['retry-after']).toBe('60');
    expect(await written(baseId)).toEqual({ purchases: 0, licences: 0 });

    // the buyer retries with the same key once VIES is back
    const res = await request(h.app)
      .post(`/bases/${baseId}/subscriptions`)
      .set(bearer(apiKey))
      .send(purchase(baseId));
    expect(res.status).toBe(201);
    expect(res.body.quote).toMatchObject({ vatCents: 0, vat: { kind: 'EU_REVERSE_CHARGE' } });
    const row = await h.prisma.purchase.findUniqueOrThrow({ where: { id: res.body.purchaseId } });
    expect(row.viesConsultation).toMatchObject({
      vatNumber: 'DE811907980',
      valid: true,
      requestIdentifier: expect.stringMatching(/^WAPI/),
      requestDate: expect.any(String),
    });

    // a replay of the recorded purchase does not consult VIES again
    const consulted = h.vies.requests().length;
    const again = await request(h.app)
      .post(`/bases/${baseId}/subscriptions`)
      .set(bearer(apiKey))
      .send(purchase(baseId));
    expect(again.status).toBe(200);
    expect(h.vies.requests().length).toBe(consulted);

    const payload = JSON.stringify({
      id: `evt_vies_${baseId}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      data: {
        object: {
          id: res.body.payment.paymentIntentId,
          object: 'payment_intent',
          amount: res.body.quote.totalInclVatCents,
          amount_received: res.body.quote.totalInclVatCents,
          payment_method: 'pm_card_visa',
          metadata: { workflowId: `subscription:${baseId}`, purchaseId: res.body.purchaseId, baseId },
        },
      },
    });
    const hook = await request(h.app)
      .post('/webhooks/stripe')
      .set(
        'stripe-signature',
        Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
      )
      .set('content-type', 'application/json')
      .send(payload);
    expect(hook.status).toBe(200);
    let invoice = await h.prisma.invoice.findFirst({ where: { baseId } });
    for (let i = 0; i < 200 && !invoice; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      invoice = await h.prisma.invoice.findFirst({ where: { baseId } });
    }
    expect(invoice?.viesConsultation).toEqual(row.viesConsultation);
    expect(invoice?.vat).toMatchObject({ kind: 'EU_REVERSE_CHARGE' });
    // printed on the invoice: the proof the reverse charge rests on
    const pdf = await request(h.app)
      .get(`/invoices/${invoice!.number}.pdf`)
      .set(bearer(apiKey))
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    const consultation = row.viesConsultation as { requestIdentifier: string };
    expect((await pdfText(pdf.body as Buffer)).replace(/\s+/g, ' ')).toContain(
      `N° TVA DE811907980 vérifié auprès de VIES le ${formatParisDateFr(new Date())}, consultation n° ${consultation.requestIdentifier}.`,
    );
  });

  it('VIES answers invalid: 422 VAT_NUMBER_INVALID, never reverse-charged, nothing written', async () => {
    const { baseId, apiKey } = await registerMachine(h);
    h.vies.setAnswer('DE136695976', 'INVALID');
    const res = await request(h.app)
      .post(`/bases/${baseId}/subscriptions`)
      .set(bearer(apiKey))
      .send(purchase(baseId, 'DE136695976'));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VAT_NUMBER_INVALID');
    expect(res.body.error.details.vies).toMatchObject({ vatNumber: 'DE136695976', valid: false });
    expect(await written(baseId)).toEqual({ purchases: 0, licences: 0 });
  });

  it('no VIES call where the VAT number does not decide the VAT (a French buyer)', async () => {
    const { baseId, apiKey } = await registerMachine(h);
    const consulted = h.vies.requests().length;
    const res = await request(h.app)
      .post(`/bases/${baseId}/subscriptions`)
      .set(bearer(apiKey))
      .send({
        ...purchase(baseId, 'FR32123456789'),
        billing: { ...billing, country: 'FRA', vatNumber: 'FR32123456789' },
      });
    expect(res.status).toBe(201);
    expect(h.vies.requests().length).toBe(consulted);
  });
});
