/**
 * Signed Stripe dispute and early-fraud-warning events (the shapes of Stripe's API reference: `Dispute`,
 * `Radar.EarlyFraudWarning`), and the card licence they are about.
 */
import request from 'supertest';
import Stripe from 'stripe';
import { bearer, registerMachine } from './api';
import { deliver } from './credits';
import { paymentIntentEvent, until } from './faults';
import { TEST_WEBHOOK_SECRET, uniqueEmail, type Harness } from './harness';
import { licenceBilling } from './ops';

const signed = (body: Record<string, unknown>) => {
  const payload = JSON.stringify(body);
  return {
    payload,
    signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
  };
};

const randomId = (prefix: string) => `${prefix}_${Math.random().toString(36).slice(2)}`;

export interface DisputeFacts {
  disputeId: string;
  paymentIntentId: string;
  amountCents: number;
  /** Stripe's dispute status */
  status: string;
  /** the event's `created`, seconds */
  createdAt: number;
  /** evidence_details.due_by, seconds */
  dueBy?: number;
  reason?: string;
}

/** A `charge.dispute.*` event, under a fresh event id unless given. */
export function disputeEvent(type: string, d: DisputeFacts, eventId = randomId('evt')) {
  return signed({
    id: eventId,
    object: 'event',
    type,
    created: d.createdAt,
    data: {
      object: {
        id: d.disputeId,
        object: 'dispute',
        amount: d.amountCents,
        currency: 'eur',
        charge: `ch_${d.paymentIntentId.slice(3)}`,
        payment_intent: d.paymentIntentId,
        reason: d.reason ?? 'fraudulent',
        status: d.status,
        created: d.createdAt,
        evidence_details: {
          due_by: d.dueBy ?? null,
          has_evidence: false,
          past_due: false,
          submission_count: 0,
        },
        livemode: false,
        metadata: {},
      },
    },
  });
}

/** A `radar.early_fraud_warning.*` event. */
export function fraudWarningEvent(
  type: string,
  w: { warningId: string; paymentIntentId: string; actionable: boolean; createdAt: number },
) {
  return signed({
    id: randomId('evt'),
    object: 'event',
    type,
    created: w.createdAt,
    data: {
      object: {
        id: w.warningId,
        object: 'radar.early_fraud_warning',
        actionable: w.actionable,
        charge: `ch_${w.paymentIntentId.slice(3)}`,
        payment_intent: w.paymentIntentId,
        fraud_type: 'unauthorized_use_of_card',
        created: w.createdAt,
        livemode: false,
      },
    },
  });
}

export const newDisputeId = () => randomId('dp');

/** A LOCAL (or CLOUD) card licence bought through the API and paid by its webhook: ACTIVE. */
export async function paidCardLicence(h: Harness, mode: 'LOCAL' | 'CLOUD' = 'LOCAL') {
  const machine = await registerMachine(h);
  const email = uniqueEmail('compta');
  const res = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `buy-${machine.baseId}`,
      edition: 'ENTERPRISE',
      mode,
      connections: 2,
      period: 'ANNUAL',
      paymentMethod: 'ONLINE',
      billing: licenceBilling(email),
      terms: { version: '2026-01', accepted: true },
    });
  expect(res.status).toBe(201);
  const bought = res.body as {
    purchaseId: string;
    licenceId: string;
    quote: { totalInclVatCents: number };
    payment: { paymentIntentId: string };
  };
  expect(
    (await deliver(h, paymentIntentEvent('payment_intent.succeeded', machine.baseId, bought))).status,
  ).toBe(200);
  await until(
    () => h.prisma.licence.findUniqueOrThrow({ where: { id: bought.licenceId } }),
    (l) => l.status === 'ACTIVE',
    'licence active',
  );
  const payment = await h.prisma.payment.findFirstOrThrow({
    where: { baseId: machine.baseId, status: 'SUCCEEDED' },
  });
  return { ...machine, email, bought, payment };
}
