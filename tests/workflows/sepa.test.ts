/**
 * SEPA Direct Debit on the time-skipping server with localstripe and the real activities (docs/sepa.md):
 * - a purchase debited by SEPA stays PENDING while the bank has not answered — past the payment deadline,
 *   days of workflow time — and is activated when the debit settles: one payment, one invoice, the mandate
 *   ACTIVE;
 * - a mandate replaced on the payment method page is the one the next renewal debits, and that renewal,
 *   failing days after the period end, enters dunning (PAST_DUE, the failed payment, the mail naming the
 *   mandate), the licence usable while the bank had not answered; another account saved during dunning is
 *   debited at once (not at the next retry date) and renews;
 * - the settlement's webhook lost: at the deadline the workflow reads the PaymentIntent at Stripe, settled,
 *   and activates once.
 * The bank's answer is localstripe's release of a held debit (tests/helpers/sepa.ts).
 */
import request from 'supertest';
import { formatEurosFr } from '../../domain/invoice';
import { dayOf, startOfDayMs } from '../../domain/licence';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';
import { bearer, licenceOrder, registerMachine } from '../helpers/api';
import { confirmManualPayment } from '../../services/ops/manual-queues';
import { until } from '../helpers/faults';
import { TEST_WEBHOOK_SECRET, uniqueEmail } from '../helpers/harness';
import {
  confirmOnPage,
  heldDebits,
  IBAN,
  nextHeldDebit,
  payPath,
  releaseDebit,
  sepaAccount,
} from '../helpers/sepa';
import { startTimeSkippingStack, type TimeSkippingStack } from '../helpers/time-skipping';

jest.setTimeout(240_000);

const DAY_MS = 86_400_000;
let stack: TimeSkippingStack;

beforeAll(async () => {
  stack = await startTimeSkippingStack('sepa', { stripe: 'localstripe' });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const apiBase = () => stack.h.localstripe!.apiBase;
const stateOf = (baseId: string): Promise<SubscriptionState> =>
  stack.env.client.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);
const whenState = (baseId: string, ok: (s: SubscriptionState) => boolean, what: string) =>
  until(() => stateOf(baseId), ok, what);
const newHeld = (known: string[]) => nextHeldDebit(apiBase(), known);

let baseId: string;
let apiKey: string;
let email: string;
let firstPaymentMethod: string;

it('a SEPA purchase: processing past the deadline, days later settled → ACTIVE, one payment, one invoice', async () => {
  ({ baseId, apiKey } = await registerMachine(stack.h));
  email = uniqueEmail('compta');
  const bought = await request(stack.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send(licenceOrder(baseId, { email }));
  expect(bought.status).toBe(201);
  const paymentUrl: string = bought.body.payment.paymentUrl;
  const paymentIntentId: string = bought.body.payment.paymentIntentId;

  // the page: the IBAN to Stripe, the mandate accepted, the debit submitted
  const account = await sepaAccount(stack.h.stripe, IBAN.SUCCEEDS_LATER);
  firstPaymentMethod = account.id;
  const submitted = await confirmOnPage(stack.app, paymentUrl, {
    paymentMethodId: account.id,
    mandateAccepted: true,
  });
  expect(submitted.status).toBe(200);
  expect(submitted.body.status).toBe('processing');
  expect(submitted.body.mandate.reference).toMatch(/^[A-Z0-9]{8,}$/);
  expect(submitted.body.mandate.account).toContain('2609');
  const mandate = await stack.h.prisma.sepaMandate.findFirstOrThrow({
    where: { paymentMethodId: account.id },
  });
  expect(mandate).toMatchObject({
    status: 'SUBMITTED',
    purchaseId: bought.body.purchaseId,
    reference: submitted.body.mandate.reference,
    ibanLast4: '2609',
    country: 'FR',
    userAgent: 'Mozilla/5.0 (test) Gestan',
  });
  expect(mandate.mandateText).toContain('Gestan SAS');
  expect(mandate.ipAddress).toMatch(/127\.0\.0\.1/);
  const status = await request(stack.app).get(`${payPath(paymentUrl)}/status`);
  expect(status.body).toMatchObject({ state: 'PROCESSING', mandate: { reference: mandate.reference } });

  // three days pass (the 24-hour payment deadline among them): the bank has not answered, nothing is granted
  const submittedAt = await stack.env.currentTimeMs();
  await stack.env.sleep(3 * DAY_MS);
  expect(await heldDebits(apiBase())).toContain(paymentIntentId);
  const waiting = await stateOf(baseId);
  expect(waiting.status).toBe('AWAITING_PAYMENT');
  expect(await stack.h.prisma.payment.count({ where: { baseId } })).toBe(0);
  expect(await stack.h.prisma.invoice.count({ where: { baseId } })).toBe(0);
  expect(
    (await stack.h.prisma.purchase.findUniqueOrThrow({ where: { id: bought.body.purchaseId } })).status,
  ).toBe('AWAITING_PAYMENT');

  // the bank settles: activated then, from that day
  await releaseDebit(apiBase(), paymentIntentId);
  const active = await whenState(baseId, (s) => s.status === 'ACTIVE', 'activation at settlement');
  expect(active.anchorDate).toBe(dayOf(submittedAt + 3 * DAY_MS));
  expect(active.paymentMethodId).toBe(account.id);
  const payments = await stack.h.prisma.payment.findMany({ where: { baseId } });
  expect(payments).toHaveLength(1);
  expect(payments[0]).toMatchObject({
    status: 'SUCCEEDED',
    providerRef: paymentIntentId,
    provider: 'STRIPE',
  });
  expect(await stack.h.prisma.invoice.count({ where: { baseId } })).toBe(1);
  expect((await stack.h.prisma.sepaMandate.findUniqueOrThrow({ where: { id: mandate.id } })).status).toBe(
    'ACTIVE',
  );
  const shown = await request(stack.app).get(`/bases/${baseId}/licence/payment-method`).set(bearer(apiKey));
  expect(shown.body).toMatchObject({
    type: 'SEPA_DEBIT',
    autoRenew: true,
    mandate: { reference: mandate.reference },
  });
});

it('a replaced mandate pays the next renewal; failing days after the period end, it enters dunning; another saved then pays it', async () => {
  // the payment method page: another account, its mandate accepted (a SetupIntent: nothing debited now)
  const link = await request(stack.app).post(`/bases/${baseId}/licence/card-change`).set(bearer(apiKey));
  expect(link.status).toBe(200);
  const url: string = link.body.cardChangeUrl;
  const page = await request(stack.app).get(payPath(url));
  expect(page.text).toContain('Prélèvement SEPA');
  const setupIntentId = /"setupIntentId":"(seti_\w+)"/.exec(page.text)![1]!;
  const account = await sepaAccount(stack.h.stripe, IBAN.FAILS_LATER);
  const saved = await confirmOnPage(stack.app, url, {
    paymentMethodId: account.id,
    setupIntentId,
    mandateAccepted: true,
  });
  expect(saved.status).toBe(200);
  expect(saved.body.status).toBe('succeeded');
  const outcome = await request(stack.app).get(`${payPath(url)}/status?setupIntent=${setupIntentId}`);
  expect(outcome.body).toMatchObject({ state: 'PAID', status: 'MANDATE_SAVED' });
  const state = await whenState(baseId, (s) => s.paymentMethodId === account.id, 'the new mandate saved');
  const mandates = await stack.h.prisma.sepaMandate.findMany({
    where: { licenceId: state.licenceId },
    orderBy: { createdAt: 'asc' },
  });
  expect(mandates.map((m) => [m.paymentMethodId, m.status])).toEqual([
    [firstPaymentMethod, 'REPLACED'],
    [account.id, 'ACTIVE'],
  ]);

  // the period ends: the renewal is debited under the new mandate, and the bank takes days to answer
  const before = await heldDebits(apiBase());
  await stack.env.sleep(startOfDayMs(state.periodEnd!) + 3_600_000 - (await stack.env.currentTimeMs()));
  const renewalIntent = await newHeld(before);
  const intent = await stack.h.stripe.paymentIntents.retrieve(renewalIntent);
  expect(intent.payment_method).toBe(account.id);
  expect(intent.metadata.kind).toBe('renewal');
  // its notice before the end: the amount, the mandate and the account
  const notice = await stack.h.mail.waitFor(
    (m) => m.to.includes(email) && m.subject === 'Renouvellement prochain de votre licence',
  );
  expect(notice.text).toContain(`pour ${formatEurosFr(intent.amount)} TTC`);
  expect(notice.text).toContain(`mandat n° ${mandates[1]!.reference}`);
  await stack.env.sleep(2 * DAY_MS);
  expect((await stateOf(baseId)).status).toBe('ACTIVE'); // usable while the debit settles
  expect(await stack.h.prisma.payment.count({ where: { baseId, status: 'FAILED' } })).toBe(0);

  // the debit fails: dunning, as for a declined card
  await releaseDebit(apiBase(), renewalIntent);
  const pastDue = await whenState(baseId, (s) => s.status === 'PAST_DUE', 'dunning after the failed debit');
  expect(pastDue.dunning?.failures).toBe(1);
  expect(pastDue.paidThroughIndex).toBe(0);
  const failed = await stack.h.prisma.payment.findMany({ where: { baseId, status: 'FAILED' } });
  expect(failed).toHaveLength(1);
  const mail = await stack.h.mail.waitFor(
    (m) => m.to.includes(email) && m.subject === 'Échec du paiement de votre licence',
  );
  expect(mail.text).toContain(`mandat n° ${mandates[1]!.reference}`);
  expect(await stack.h.prisma.invoice.count({ where: { baseId } })).toBe(1);

  // the bank answered after the first retry date: that retry is already debiting under the same mandate
  const retry = await newHeld(before);
  // another account saved meanwhile; that retry fails too: debited again at once, under the new mandate
  const link2 = await request(stack.app).post(`/bases/${baseId}/licence/card-change`).set(bearer(apiKey));
  const url2: string = link2.body.cardChangeUrl;
  const setup2 = /"setupIntentId":"(seti_\w+)"/.exec((await request(stack.app).get(payPath(url2))).text)![1]!;
  const third = await sepaAccount(stack.h.stripe, IBAN.SUCCEEDS);
  await confirmOnPage(stack.app, url2, {
    paymentMethodId: third.id,
    setupIntentId: setup2,
    mandateAccepted: true,
  });
  await request(stack.app).get(`${payPath(url2)}/status?setupIntent=${setup2}`);
  await whenState(baseId, (s) => s.paymentMethodId === third.id, 'the third mandate saved');
  await releaseDebit(apiBase(), retry);
  const renewed = await whenState(baseId, (s) => s.periodIndex === 1, 'renewed under the new mandate');
  expect(renewed).toMatchObject({ status: 'ACTIVE', paymentMethodId: third.id });
  const succeeded = await stack.h.prisma.payment.findMany({
    where: { baseId, status: 'SUCCEEDED' },
    orderBy: { createdAt: 'asc' },
  });
  expect(succeeded).toHaveLength(2);
  expect(await stack.h.prisma.payment.count({ where: { baseId, status: 'FAILED' } })).toBe(2);
  expect((await stack.h.stripe.paymentIntents.retrieve(succeeded[1]!.providerRef!)).payment_method).toBe(
    third.id,
  );
  expect(await stack.h.prisma.invoice.count({ where: { baseId } })).toBe(2);
});

it('the settlement webhook never arrives: at the deadline Stripe says succeeded, the licence is activated once', async () => {
  const machine = await registerMachine(stack.h);
  const bought = await request(stack.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send(licenceOrder(machine.baseId, { email: uniqueEmail('compta') }));
  expect(bought.status).toBe(201);
  const paymentIntentId: string = bought.body.payment.paymentIntentId;
  const account = await sepaAccount(stack.h.stripe, IBAN.SUCCEEDS_LATER);
  await confirmOnPage(stack.app, bought.body.payment.paymentUrl, {
    paymentMethodId: account.id,
    mandateAccepted: true,
  });
  // the webhook is lost (localstripe sends each event once, here to nobody listening)
  await stack.h.localstripe!.registerWebhook('http://127.0.0.1:9/webhooks/stripe', 'whsec_nobody');
  try {
    await releaseDebit(apiBase(), paymentIntentId);
    await until(
      () => stack.h.stripe.paymentIntents.retrieve(paymentIntentId),
      (pi) => pi.status === 'succeeded',
      'the debit settled at Stripe',
    );
    expect((await stateOf(machine.baseId)).status).toBe('AWAITING_PAYMENT');
    // the 24-hour deadline: the workflow reads the PaymentIntent, paid
    await stack.env.sleep(DAY_MS + 3_600_000);
    const active = await whenState(machine.baseId, (s) => s.status === 'ACTIVE', 'activation from Stripe');
    expect(active.paymentMethodId).toBe(account.id);
  } finally {
    await stack.h.localstripe!.registerWebhook(`${stack.url!}/webhooks/stripe`, TEST_WEBHOOK_SECRET);
  }
  expect(await stack.h.prisma.payment.count({ where: { baseId: machine.baseId } })).toBe(1);
  expect(await stack.h.prisma.invoice.count({ where: { baseId: machine.baseId } })).toBe(1);
});

it('a cheque payer with an invoice to pay switches to SEPA: the invoice is withdrawn, the renewal debited', async () => {
  const services = { ...stack.h.services, temporal: stack.env.client };
  const machine = await registerMachine(stack.h);
  const bought = await request(stack.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send(licenceOrder(machine.baseId, { email: uniqueEmail('compta'), paymentMethod: 'CHEQUE' }));
  expect(bought.status).toBe(201);
  await confirmManualPayment(services, {
    purchaseId: bought.body.purchaseId,
    actor: { type: 'OPS', id: 'compta', role: 'OPS' },
    reference: 'CHQ-1',
  });
  await whenState(machine.baseId, (s) => s.status === 'ACTIVE', 'the cheque licence');
  const renewNow = await request(stack.app)
    .post(`/bases/${machine.baseId}/licence/renewals`)
    .set(bearer(machine.apiKey))
    .send({});
  expect(renewNow.status).toBe(202);
  expect(renewNow.body.status).toBe('INVOICE_TO_PAY');

  // the payment method page: a bank account and its mandate
  const link = await request(stack.app)
    .post(`/bases/${machine.baseId}/licence/card-change`)
    .set(bearer(machine.apiKey));
  const url: string = link.body.cardChangeUrl;
  const setupIntentId = /"setupIntentId":"(seti_\w+)"/.exec(
    (await request(stack.app).get(payPath(url))).text,
  )![1]!;
  const account = await sepaAccount(stack.h.stripe, IBAN.SUCCEEDS);
  expect(
    (
      await confirmOnPage(stack.app, url, {
        paymentMethodId: account.id,
        setupIntentId,
        mandateAccepted: true,
      })
    ).status,
  ).toBe(200);
  await request(stack.app).get(`${payPath(url)}/status?setupIntent=${setupIntentId}`);
  const state = await whenState(
    machine.baseId,
    (s) => s.paymentMethodId === account.id && s.offlineRenewal === undefined,
    'the invoice to pay withdrawn',
  );
  expect(state).toMatchObject({ paymentMethod: 'ONLINE', autoRenew: true });
  const row = await stack.h.prisma.invoiceToPay.findFirstOrThrow({ where: { licenceId: state.licenceId } });
  expect(row.status).toBe('CANCELLED');

  // the period end: debited under the mandate, renewed once settled
  await stack.env.sleep(startOfDayMs(state.periodEnd!) + 3_600_000 - (await stack.env.currentTimeMs()));
  const renewed = await whenState(machine.baseId, (s) => s.periodIndex === 1, 'the SEPA renewal');
  expect(renewed.status).toBe('ACTIVE');
  const payments = await stack.h.prisma.payment.findMany({
    where: { baseId: machine.baseId },
    orderBy: { createdAt: 'asc' },
  });
  expect(payments.map((p) => [p.method, p.status])).toEqual([
    ['CHEQUE', 'SUCCEEDED'],
    ['ONLINE', 'SUCCEEDED'],
  ]);
  const intent = await stack.h.stripe.paymentIntents.retrieve(payments[1]!.providerRef!);
  expect(intent.payment_method).toBe(account.id);
});

it('a change and renew now under a SEPA mandate: answered PROCESSING at once, applied once the debit settles', async () => {
  const machine = await registerMachine(stack.h);
  const bought = await request(stack.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send(licenceOrder(machine.baseId, { email: uniqueEmail('compta') }));
  const account = await sepaAccount(stack.h.stripe, IBAN.SUCCEEDS_LATER);
  await confirmOnPage(stack.app, bought.body.payment.paymentUrl, {
    paymentMethodId: account.id,
    mandateAccepted: true,
  });
  await releaseDebit(apiBase(), bought.body.payment.paymentIntentId);
  await whenState(machine.baseId, (s) => s.status === 'ACTIVE', 'activation');
  const licence = `/bases/${machine.baseId}/licence`;

  // an extra connection: the debit submitted, the ERP answered at once, nothing applied yet
  const before = await heldDebits(apiBase());
  const change = await request(stack.app)
    .post(`${licence}/changes`)
    .set(bearer(machine.apiKey))
    .send({ connections: 2 });
  expect(change.status).toBe(202);
  expect(change.body).toMatchObject({ status: 'PROCESSING', invoiceNumber: null });
  const changeIntent = await newHeld(before);
  expect(change.body.payment.paymentIntentId).toBe(changeIntent);
  const meanwhile = await request(stack.app).post(`${licence}/renewals`).set(bearer(machine.apiKey)).send({});
  expect(meanwhile.status).toBe(409);
  expect(meanwhile.body.error).toMatchObject({ code: 'PAYMENT_ACTION_PENDING', details: { settling: true } });
  await stack.env.sleep(2 * DAY_MS);
  expect((await stateOf(machine.baseId)).terms.connections).toBe(1);

  // settled: applied once, with its invoice
  await releaseDebit(apiBase(), changeIntent);
  await whenState(
    machine.baseId,
    (s) => s.terms.connections === 2 && s.pendingCharge === undefined,
    'the change',
  );
  expect(await stack.h.prisma.payment.count({ where: { baseId: machine.baseId, status: 'SUCCEEDED' } })).toBe(
    2,
  );
  expect(await stack.h.prisma.invoice.count({ where: { baseId: machine.baseId } })).toBe(2);

  // renew now: the same, the next period recorded when the debit settles
  const held = await heldDebits(apiBase());
  const renewed = await request(stack.app).post(`${licence}/renewals`).set(bearer(machine.apiKey)).send({});
  expect(renewed.status).toBe(202);
  expect(renewed.body.status).toBe('PROCESSING');
  const renewalIntent = await newHeld(held);
  expect((await stateOf(machine.baseId)).paidThroughIndex).toBe(0);
  await releaseDebit(apiBase(), renewalIntent);
  await whenState(machine.baseId, (s) => s.paidThroughIndex === 1, 'the next period paid');
  expect(await stack.h.prisma.payment.count({ where: { baseId: machine.baseId, status: 'SUCCEEDED' } })).toBe(
    3,
  );
  expect(await stack.h.prisma.invoice.count({ where: { baseId: machine.baseId } })).toBe(3);
});
