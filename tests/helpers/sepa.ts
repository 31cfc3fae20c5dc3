/**
 * SEPA Direct Debit in tests, on localstripe (docs/local-stripe.md): Stripe's French test accounts, the
 * bank account created as Stripe.js would (the IBAN goes to Stripe, never to us), the payment page's
 * confirmation with the mandate accepted, and the release of a debit localstripe holds in `processing`
 * (the bank's answer, days later in the workflow's time).
 */
import type { Express } from 'express';
import type Stripe from 'stripe';
import request from 'supertest';

export const IBAN = {
  /** processing, then succeeded at once */
  SUCCEEDS: 'FR1420041010050500013M02606',
  /** processing until released, then succeeded */
  SUCCEEDS_LATER: 'FR3020041010050500013M02609',
  /** processing, then failed at once */
  FAILS: 'FR8420041010050500013M02607',
  /** processing until released, then failed */
  FAILS_LATER: 'FR7920041010050500013M02600',
} as const;

export const SEPA_HOLDER = { name: 'Boulangerie Dupont', email: 'compta@dupont.example.fr' };

/** A bank account as the payment page's Stripe.js creates it. */
export async function sepaAccount(stripe: Stripe, iban: string): Promise<Stripe.PaymentMethod> {
  return stripe.paymentMethods.create({
    type: 'sepa_debit',
    sepa_debit: { iban },
    billing_details: SEPA_HOLDER,
  });
}

/** `/pay/<token>` of a payment URL. */
export function payPath(paymentUrl: string): string {
  return new URL(paymentUrl).pathname;
}

/** What the payment page posts once the customer accepted the mandate and gave the IBAN. */
export async function confirmOnPage(
  app: Express,
  paymentUrl: string,
  body: { paymentMethodId: string; mandateAccepted?: boolean; setupIntentId?: string },
) {
  return request(app)
    .post(`${payPath(paymentUrl)}/confirm`)
    .set('user-agent', 'Mozilla/5.0 (test) Gestan')
    .send(body);
}

/** localstripe: the debits it holds in `processing` (PaymentIntent ids). */
export async function heldDebits(apiBase: string): Promise<string[]> {
  const response = await fetch(`${apiBase}/_config/sepa_debits`);
  if (!response.ok) throw new Error(`localstripe: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { data?: string[] } | string[];
  return Array.isArray(body) ? body : (body.data ?? []);
}

/** localstripe: waits for a held debit that is not among `known` (the one just submitted), its PaymentIntent id. */
export async function nextHeldDebit(apiBase: string, known: readonly string[]): Promise<string> {
  for (let i = 0; i < 240; i += 1) {
    const next = (await heldDebits(apiBase)).find((id) => !known.includes(id));
    if (next) return next;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no new held SEPA debit (known: ${known.join(', ')})`);
}

/** localstripe: the bank answers a held debit now (succeeded or failed, per its IBAN). */
export async function releaseDebit(apiBase: string, paymentIntentId: string): Promise<void> {
  const response = await fetch(`${apiBase}/_config/sepa_debits/${paymentIntentId}/release`, {
    method: 'POST',
  });
  if (!response.ok) throw new Error(`localstripe release: ${response.status} ${await response.text()}`);
}
