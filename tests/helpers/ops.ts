/**
 * Fixtures for the ops tools: an ops token, a licence in dunning (its renewal declined once), a paid
 * credit purchase waiting in the manual-credit queue, a cheque purchase waiting for ops.
 */
import request from 'supertest';
import { dayOf } from '../../domain/licence';
import { addDays } from '../../domain/periods';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { paymentResultSignal } from '../../workflows/payment-messages';
import { getSubscriptionStateQuery, subscriptionWorkflow } from '../../workflows/subscription';
import { bearer, registerMachine } from './api';
import { deliver, eventually, paymentSucceededEvent, purchaseReaches } from './credits';
import { companyDetails, uniqueEmail, type Harness } from './harness';
import { cardDeclined, type StripeRecorder } from './stripe-recorder';

export async function opsToken(h: Harness, name = 'compta', role: 'OPS' | 'ADMIN' = 'OPS'): Promise<string> {
  return (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name, role })).token;
}

export const licenceBilling = (email = uniqueEmail('compta')) => ({
  companyName: `Garage Martin ${email.split('@')[0]!.split('.')[1] ?? ''}`.trim(),
  lastName: 'Martin',
  firstName: 'Paul',
  address: '3 avenue Foch',
  postalCode: '69006',
  city: 'Lyon',
  country: 'FRA',
  email,
});

/**
 * A monthly card licence whose renewal was just declined: bought through the API, then its run restarted
 * with an opening period ending today, so the renewal is due now: the bank declines its first charge
 * (the next retry is tomorrow) and accepts the next ones (stripe-mock can't take money: the proxy makes
 * the PaymentIntent look succeeded).
 */
export async function pastDueLicence(h: Harness, recorder: StripeRecorder) {
  const machine = await registerMachine(h);
  const billing = licenceBilling();
  const bought = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `buy-${machine.baseId}`,
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 1,
      period: 'MONTHLY',
      paymentMethod: 'ONLINE',
      billing,
      terms: { version: '2026-01', accepted: true },
    });
  if (bought.status !== 201)
    throw new Error(`purchase failed: ${bought.status} ${JSON.stringify(bought.body)}`);
  const handle = h.temporal.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
  await handle.signal(paymentResultSignal, {
    paymentIntentId: bought.body.payment.paymentIntentId,
    status: 'succeeded',
    amountCents: bought.body.quote.totalInclVatCents,
    paymentMethodId: 'pm_card_visa',
  });
  const active = await eventually(
    () => handle.query(getSubscriptionStateQuery),
    (s) => s.status === 'ACTIVE',
  );
  if (active.status !== 'ACTIVE') throw new Error('the licence was not activated');

  const today = dayOf(Date.now());
  const opening = { start: addDays(today, -30), end: today };
  await handle.terminate('fixture: the period ends today');
  await h.prisma.licence.update({
    where: { id: active.licenceId },
    data: { periodStart: opening.start, periodEnd: opening.end },
  });
  recorder.answer(
    {
      method: 'POST',
      path: '/v1/payment_intents',
      idempotencyKey: new RegExp(`^renewal:${active.licenceId}:`),
    },
    cardDeclined('insufficient_funds'),
  );
  recorder.answer(
    {
      method: 'POST',
      path: '/v1/payment_intents',
      idempotencyKey: new RegExp(`^renewal:${active.licenceId}:`),
    },
    { patch: (pi) => ({ ...pi, status: 'succeeded' }) },
    Infinity,
  );
  await h.temporal.workflow.start(subscriptionWorkflow, {
    workflowId: subscriptionWorkflowId(machine.baseId),
    taskQueue: h.taskQueue,
    args: [
      {
        state: {
          ...active,
          anchorDate: opening.end,
          periodIndex: -1,
          paidThroughIndex: -1,
          periodStart: opening.start,
          periodEnd: opening.end,
        },
      },
    ],
  });
  const licence = await eventually(
    () => h.prisma.licence.findUniqueOrThrow({ where: { id: active.licenceId } }),
    (l) => l.status === 'PAST_DUE',
  );
  if (licence.status !== 'PAST_DUE') throw new Error(`the renewal did not fail: ${licence.status}`);
  const failed = await h.prisma.payment.findFirstOrThrow({
    where: { licenceId: active.licenceId, status: 'FAILED' },
  });
  return { ...machine, licenceId: active.licenceId, paymentId: failed.id, billing };
}

/** A support pack bought on the website without an account, paid: waiting in the manual-credit queue. */
export async function unmatchedPurchase(h: Harness, minutes = 30) {
  const email = uniqueEmail('buyer');
  const bought = await request(h.app)
    .post('/credit-purchases')
    .send({
      idempotencyKey: `web-${email}`,
      product: { kind: 'SUPPORT_PACK', minutes },
      billing: { ...companyDetails(), email },
    });
  if (bought.status !== 201)
    throw new Error(`purchase failed: ${bought.status} ${JSON.stringify(bought.body)}`);
  const delivered = await deliver(h, paymentSucceededEvent(bought.body));
  if (delivered.status !== 200) throw new Error(`webhook refused: ${delivered.status}`);
  const queued = await purchaseReaches(h, bought.body.purchaseId, 'UNMATCHED');
  if (queued.body.status !== 'UNMATCHED') throw new Error(`not unmatched: ${queued.body.status}`);
  return { purchaseId: bought.body.purchaseId as string, number: bought.body.number as number, email };
}

/** A licence bought by cheque (or a free licence request): waiting for ops. */
export async function awaitingOpsPurchase(
  h: Harness,
  paymentMethod: 'CHEQUE' | 'TRANSFER' | 'FREE' = 'CHEQUE',
) {
  const machine = await registerMachine(h);
  const billing = licenceBilling();
  const bought = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `buy-${machine.baseId}`,
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 2,
      period: 'ANNUAL',
      paymentMethod,
      billing,
      terms: { version: '2026-01', accepted: true },
      ...(paymentMethod === 'FREE'
        ? { free: { category: 'ASSOCIATION', justification: 'Association loi 1901 de quartier' } }
        : {}),
    });
  if (bought.status !== 201)
    throw new Error(`purchase failed: ${bought.status} ${JSON.stringify(bought.body)}`);
  return { ...machine, purchaseId: bought.body.purchaseId as string, billing };
}

/**
 * A licence bought by cheque, activated by ops, then renewed now by the ERP: its invoice to pay is out,
 * waiting in the queue of renewals to pay (the purchase's own confirmation uses an ops token).
 */
export async function renewalToPay(h: Harness, token: string) {
  const bought = await awaitingOpsPurchase(h, 'CHEQUE');
  const activated = await request(h.app)
    .post(`/ops/manual-payments/${bought.purchaseId}/confirm`)
    .set(bearer(token))
    .send({ reference: 'CHQ-PURCHASE' });
  if (activated.status !== 200)
    throw new Error(`activation failed: ${activated.status} ${JSON.stringify(activated.body)}`);
  const renewed = await request(h.app)
    .post(`/bases/${bought.baseId}/licence/renewals`)
    .set(bearer(bought.apiKey))
    .send({});
  if (renewed.status !== 202 || renewed.body.status !== 'INVOICE_TO_PAY')
    throw new Error(`renew now: ${renewed.status} ${JSON.stringify(renewed.body)}`);
  return {
    ...bought,
    licenceId: renewed.body.subscription.licenceId as string,
    invoiceToPay: renewed.body.invoiceToPay as { amountCents: number; dueOn: string; periodEnd: string },
  };
}
