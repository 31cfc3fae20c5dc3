/**
 * Renew now by a cheque payer, over HTTP (real PostgreSQL, the Temporal dev server, the SMTP catcher): an
 * annual licence, months before its notice. The price first; a stale fingerprint refused with nothing
 * issued; two renew-now at once → one invoice to pay, one mail, the same answer; the licence screen, the
 * subscription view and the ops queue show it; ops confirm twice at once → one payment, one invoice, the
 * period extended once, out of the queue.
 */
import request from 'supertest';
import { addDays } from '../../domain/periods';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { bearer, licenceOrder, registerMachine } from '../helpers/api';
import { until } from '../helpers/faults';
import { createHarness, uniqueEmail, type Harness } from '../helpers/harness';
import { opsToken } from '../helpers/ops';

let h: Harness;
let ops: Record<string, string>;

beforeAll(async () => {
  h = await createHarness();
  ops = bearer(await opsToken(h));
});

afterAll(async () => {
  await h?.close();
});

const INVOICE_TO_PAY = 'Facture à régler pour le renouvellement de votre licence';

it('renew now by cheque: the invoice to pay once (also asked twice at once), listed, confirmed once', async () => {
  const machine = await registerMachine(h);
  const auth = bearer(machine.apiKey);
  const email = uniqueEmail('compta');
  const licence = `/bases/${machine.baseId}/licence`;
  const bought = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(auth)
    .send(licenceOrder(machine.baseId, { email, paymentMethod: 'CHEQUE', period: 'ANNUAL' }));
  expect(bought.status).toBe(201);

  // the purchase itself waits for ops: no renewal yet
  const early = await request(h.app).post(`${licence}/renewals`).set(auth).send({});
  expect(early.status).toBe(422);
  expect(early.body.error.code).toBe('NO_PAID_LICENCE');

  const activated = await request(h.app)
    .post(`/ops/manual-payments/${bought.body.purchaseId}/confirm`)
    .set(ops)
    .send({ reference: 'CHQ-1' });
  expect(activated.status).toBe(200);
  const handle = h.temporal.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
  const active = await until(
    () => handle.query(getSubscriptionStateQuery),
    (s) => s.status === 'ACTIVE',
    'activation',
  );
  expect(active.offlineRenewal).toBeUndefined();

  // the price of the next period, charging nothing
  const quoted = await request(h.app).post(`${licence}/renewals/quote`).set(auth).send({});
  expect(quoted.status).toBe(200);
  expect(quoted.body).toMatchObject({ kind: 'RENEWAL', period: { start: active.periodEnd } });

  // a fingerprint of another price: 409, nothing issued, nothing mailed
  const stale = await request(h.app)
    .post(`${licence}/renewals`)
    .set(auth)
    .send({ priceFingerprint: 'pf1_0000000000000000000000000000' });
  expect(stale.status).toBe(409);
  expect(stale.body.error.code).toBe('PRICE_CHANGED');
  expect(await h.prisma.invoiceToPay.count({ where: { baseId: machine.baseId } })).toBe(0);

  // twice at once: one invoice to pay, the same answer to both
  const twice = await Promise.all(
    [1, 2].map(() =>
      request(h.app)
        .post(`${licence}/renewals`)
        .set(auth)
        .send({ priceFingerprint: quoted.body.priceFingerprint }),
    ),
  );
  for (const r of twice) expect(r.status).toBe(202);
  expect(twice[1]!.body.invoiceToPay).toEqual(twice[0]!.body.invoiceToPay);
  const dueOn = addDays(active.periodEnd!, 15); // the period end + OFFLINE_RENEWAL_GRACE_DAYS
  expect(twice[0]!.body).toMatchObject({
    status: 'INVOICE_TO_PAY',
    amountCents: quoted.body.amountCents,
    invoiceToPay: {
      amountCents: quoted.body.amountCents,
      dueOn,
      periodStart: active.periodEnd,
      reference: active.licenceId,
      payee: { iban: 'FR7630006000011234567890189', chequePayee: 'Gestan SAS' },
    },
  });
  const mail = await h.mail.waitFor((m) => m.to.includes(email) && m.subject === INVOICE_TO_PAY);
  expect(mail.text).toContain(`au plus tard le ${dueOn}`);
  expect(mail.text).toContain(`référence ${active.licenceId}`);

  // the licence screen, the subscription view (auto-renew answers it) and the ops queue
  const screen = await request(h.app).get(licence).set(auth);
  expect(screen.body.invoiceToPay).toEqual({
    amountCents: quoted.body.amountCents,
    dueOn,
    periodStart: active.periodEnd,
    periodEnd: twice[0]!.body.invoiceToPay.periodEnd,
    remindersSent: 0,
  });
  const view = await request(h.app).put(`${licence}/auto-renew`).set(auth).send({ autoRenew: false });
  expect(view.status).toBe(200);
  expect(view.body.invoiceToPay).toMatchObject({ dueOn, paid: false });
  const listed = await request(h.app).get('/ops/renewals-to-pay').set(ops);
  expect(listed.status).toBe(200);
  expect(listed.body.filter((r: { baseId: string }) => r.baseId === machine.baseId)).toEqual([
    expect.objectContaining({
      licenceId: active.licenceId,
      paymentMethod: 'CHEQUE',
      amountCents: quoted.body.amountCents,
      dueOn,
      remindersSent: 0,
      origin: 'RENEW_NOW',
      holderName: 'Boulangerie Dupont',
      email,
    }),
  ]);
  // the queue is for ops: an installation's key is refused
  expect((await request(h.app).get('/ops/renewals-to-pay').set(auth)).status).toBe(403);

  // ops confirm twice at once: one payment, one more invoice, the period extended once
  const confirmed = await Promise.all(
    [1, 2].map(() =>
      request(h.app)
        .post(`/ops/bases/${machine.baseId}/renewal-payment`)
        .set(ops)
        .send({ reference: 'CHQ-2' }),
    ),
  );
  expect(confirmed.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
  for (const r of confirmed) {
    if (r.status === 200) expect(r.body).toMatchObject({ paidUntil: twice[0]!.body.invoiceToPay.periodEnd });
    else expect(r.body.error.code).toBe('PURCHASE_NOT_AWAITING_OPS');
  }
  const payments = await h.prisma.payment.findMany({ where: { licenceId: active.licenceId } });
  expect(payments.map((p) => p.providerRef).sort()).toEqual(['CHQ-1', 'CHQ-2']);
  expect(await h.prisma.invoice.count({ where: { licenceId: active.licenceId } })).toBe(2);
  const after = await request(h.app).get('/ops/renewals-to-pay').set(ops);
  expect(after.body.find((r: { baseId: string }) => r.baseId === machine.baseId)).toBeUndefined();
  expect((await request(h.app).get(licence).set(auth)).body).toMatchObject({
    invoiceToPay: null,
    paidThrough: addDays(twice[0]!.body.invoiceToPay.periodEnd, -1),
  });

  // paid ahead: renew now again is refused (the next period is paid), nothing mailed
  const ahead = await request(h.app).post(`${licence}/renewals`).set(auth).send({});
  expect(ahead.status).toBe(422);
  expect(ahead.body.error).toMatchObject({ code: 'CHANGE_REFUSED', details: { reason: 'ALREADY_RENEWED' } });
  expect(h.mail.messagesTo(email).filter((m) => m.subject === INVOICE_TO_PAY)).toHaveLength(1);
  await handle.terminate('test over');
});
