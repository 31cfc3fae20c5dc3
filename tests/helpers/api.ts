/** Small helpers over supertest for the flows most tests need. */
import request from 'supertest';
import type { Harness } from './harness';
import { codeIn, companyDetails, randomBaseId, uniqueEmail } from './harness';

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export async function registerMachine(h: Harness, baseId = randomBaseId(), machineName = 'POSTE-1') {
  const res = await request(h.app).post('/installations').send({ baseId, machineName });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { baseId, apiKey: res.body.apiKey as string, installationId: res.body.installationId as string };
}

export async function waitForCode(h: Harness, to: string, after = 0): Promise<string> {
  const mail = await h.mail.waitFor((m) => m.to.includes(to.toLowerCase()) && m.id > after);
  return codeIn(mail);
}

export const PASSWORD = 'correct horse battery staple';

/** A machine of a new base with a confirmed account (password PASSWORD). */
export async function confirmedAccount(h: Harness, overrides: Record<string, unknown> = {}) {
  const machine = await registerMachine(h);
  const email = uniqueEmail();
  const details = companyDetails(overrides);
  const created = await request(h.app)
    .post('/accounts')
    .set(bearer(machine.apiKey))
    .send({ ...details, email });
  if (created.status !== 202)
    throw new Error(`account creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  const accountId = created.body.accountId as number;
  const code = await waitForCode(h, email);
  const confirmed = await request(h.app)
    .post(`/accounts/${accountId}/confirmation`)
    .set(bearer(machine.apiKey))
    .send({ code, password: PASSWORD });
  if (confirmed.status !== 200)
    throw new Error(`confirmation failed: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return { ...machine, email, accountId, details };
}

/**
 * The ERP's licence order the fault and workflow tests buy: Enterprise, Local, 1 connection, monthly, by
 * card, for Boulangerie Dupont (its billing email given or the default), keyed by the base; `overrides`
 * replace top-level fields.
 */
export function licenceOrder(
  baseId: string,
  { email = 'compta@dupont.example.fr', ...overrides }: { email?: string } & Record<string, unknown> = {},
) {
  return {
    idempotencyKey: `buy-${baseId}`,
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'MONTHLY',
    paymentMethod: 'ONLINE',
    billing: {
      companyName: 'Boulangerie Dupont',
      lastName: 'Dupont',
      firstName: 'Jean',
      address: '1 rue de la Paix',
      postalCode: '75001',
      city: 'Paris',
      country: 'FRA',
      email,
    },
    terms: { version: '2026-01', accepted: true },
    ...overrides,
  };
}

/** Garage Martin of Lyon, the payment page's customer (its invoices are checked for the name). */
export const garageMartin = (email = 'paul@garage-martin.example.fr') => ({
  companyName: 'Garage Martin',
  lastName: 'Martin',
  firstName: 'Paul',
  address: '3 avenue Foch',
  postalCode: '69006',
  city: 'Lyon',
  country: 'FRA',
  email,
});

/**
 * A licence bought from the ERP of a new base: licenceOrder with `overrides`, answered 201. Its machine,
 * the billing email, the purchase and, for an ONLINE order, its PaymentIntent and signed payment URL.
 */
export async function boughtLicence(
  h: Harness,
  overrides: { email?: string } & Record<string, unknown> = {},
) {
  const machine = await registerMachine(h);
  const order = licenceOrder(machine.baseId, overrides);
  const res = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send(order);
  expect(res.status).toBe(201);
  return {
    ...machine,
    email: order.billing.email,
    purchaseId: res.body.purchaseId as string,
    paymentIntentId: res.body.payment?.paymentIntentId as string,
    paymentUrl: res.body.payment?.paymentUrl as string,
  };
}
