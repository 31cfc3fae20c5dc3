/**
 * SEPA Direct Debit against localstripe, the stateful local Stripe (docs/local-stripe.md): the requests
 * stripe-node sends to Stripe for a debit with a mandate (PaymentMethod with an IBAN, confirmation with
 * `mandate_data`, SetupIntent, off-session renewal) are accepted; a Mandate is created and named by the
 * PaymentIntent, its Charge and its webhook; the debit is `processing` first and settles later, as Stripe's
 * French test IBANs say — held ones only when released (`/_config/sepa_debits/{id}/release`) or after
 * LOCALSTRIPE_SEPA_DELAY_SECONDS. Webhooks are received by a small HTTP server of this file and checked
 * with the signature localstripe signs them with.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type Stripe from 'stripe';
import { locateLocalstripePython } from '../../infra/embedded/binaries';
import { startLocalstripe, type RunningLocalstripe } from '../../infra/embedded/localstripe';
import { freePort, waitForPort } from '../../infra/embedded/ports';
import { createStripe } from '../../infra/stripe';

const WEBHOOK_SECRET = 'whsec_sepa_test_0123456789';

const IBAN = {
  succeeds: 'FR1420041010050500013M02606',
  succeedsHeld: 'FR3020041010050500013M02609',
  fails: 'FR8420041010050500013M02607',
  failsHeld: 'FR7920041010050500013M02600',
  insufficientFunds: 'FR9720041010050000002222227',
  localstripeFails: 'DE62370400440532013001',
  other: 'DE89370400440532013000',
};

const ACCEPTANCE = {
  customer_acceptance: {
    type: 'online' as const,
    online: { ip_address: '203.0.113.7', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0' },
  },
};

let localstripe: RunningLocalstripe;
let stripe: Stripe;
let receiver: http.Server;
const events: Stripe.Event[] = [];

beforeAll(async () => {
  // LOCALSTRIPE_SEPA_DELAY_SECONDS unset: held debits wait 180 s unless released
  localstripe = await startLocalstripe({ port: await freePort() });
  stripe = createStripe('sk_test_sepa', localstripe.apiBase);
  const receiverPort = await freePort();
  receiver = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        const signature = String(request.headers['stripe-signature']);
        events.push(stripe.webhooks.constructEvent(Buffer.concat(chunks), signature, WEBHOOK_SECRET));
      } catch {
        // a badly signed webhook is refused, and the test waiting for it fails
        response.statusCode = 400;
      }
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));
  await localstripe.registerWebhook(`http://127.0.0.1:${receiverPort}/`, WEBHOOK_SECRET);
  // and the event our webhook route does not ask for, registered apart (localstripe's own route)
  const processing = await fetch(`${localstripe.apiBase}/_config/webhooks/sepa-processing`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      url: `http://127.0.0.1:${receiverPort}/`,
      secret: WEBHOOK_SECRET,
      events: ['payment_intent.processing'],
    }),
  });
  expect(processing.ok).toBe(true);
});
afterAll(async () => {
  await localstripe?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The webhook of `type` for this PaymentIntent, once localstripe has sent it. */
async function webhookFor(type: string, paymentIntentId: string, timeoutMs = 15_000): Promise<Stripe.Event> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const event = events.find(
      (e) => e.type === type && (e.data.object as { id?: string }).id === paymentIntentId,
    );
    if (event) return event;
    if (Date.now() > deadline) throw new Error(`no ${type} webhook for ${paymentIntentId}`);
    await sleep(100);
  }
}

async function statusBecomes(paymentIntentId: string, status: string, timeoutMs = 15_000, client = stripe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const intent = await client.paymentIntents.retrieve(paymentIntentId);
    if (intent.status === status) return intent;
    if (Date.now() > deadline) throw new Error(`${paymentIntentId} stayed ${intent.status}, not ${status}`);
    await sleep(100);
  }
}

async function control(method: 'GET' | 'POST', path: string) {
  const response = await fetch(`${localstripe.apiBase}${path}`, { method });
  return { status: response.status, body: await response.json() };
}

const customer = () =>
  stripe.customers.create({ email: 'compta@boulangerie.fr', name: 'Boulangerie Dupont' });

/** What the payment page's server side creates from the IBAN the customer typed (secret key). */
const sepaMethod = (iban: string) =>
  stripe.paymentMethods.create({
    type: 'sepa_debit',
    sepa_debit: { iban },
    billing_details: { name: 'Jeanne Dupont', email: 'compta@boulangerie.fr' },
  });

/** A purchase's PaymentIntent (saved for renewals), confirmed with the IBAN and the accepted mandate. */
async function purchase(iban: string, amount = 12240) {
  const { id: customerId } = await customer();
  const intent = await stripe.paymentIntents.create({
    amount,
    currency: 'eur',
    customer: customerId,
    allowed_payment_method_types: ['card', 'sepa_debit'],
    setup_future_usage: 'off_session',
  });
  const method = await sepaMethod(iban);
  const confirmed = await stripe.paymentIntents.confirm(intent.id, {
    payment_method: method.id,
    mandate_data: ACCEPTANCE,
  });
  return { customerId, paymentMethodId: method.id, intent: confirmed };
}

/** The PaymentIntent's mandate, as localstripe names it (the field is not in stripe-node's type). */
const mandateOf = (intent: Stripe.PaymentIntent) => (intent as unknown as { mandate: string | null }).mandate;

function latestCharge(intent: Stripe.PaymentIntent): Stripe.Charge {
  if (!intent.latest_charge || typeof intent.latest_charge === 'string')
    throw new Error(`no charge object on ${intent.id}`);
  return intent.latest_charge;
}

describe('a SEPA purchase with a mandate', () => {
  it('creates the PaymentMethod server-side with its billing details', async () => {
    const method = await sepaMethod(IBAN.succeeds);
    expect(method).toMatchObject({
      type: 'sepa_debit',
      billing_details: { name: 'Jeanne Dupont', email: 'compta@boulangerie.fr' },
      sepa_debit: { country: 'FR', last4: '2606' },
      customer: null,
    });
    expect(await stripe.paymentMethods.retrieve(method.id)).toMatchObject({
      billing_details: { name: 'Jeanne Dupont', email: 'compta@boulangerie.fr' },
    });
  });

  it('goes processing with a Mandate, then succeeded half a second later; webhook, refund', async () => {
    const { customerId, paymentMethodId, intent } = await purchase(IBAN.succeeds);
    expect(intent.status).toBe('processing');
    const mandateId = mandateOf(intent);
    expect(mandateId).toMatch(/^mandate_/);

    const mandate = await stripe.mandates.retrieve(mandateId!);
    expect(mandate).toMatchObject({
      id: mandateId,
      object: 'mandate',
      status: 'active',
      type: 'multi_use',
      payment_method: paymentMethodId,
      customer_acceptance: { ...ACCEPTANCE.customer_acceptance, accepted_at: expect.any(Number) },
      payment_method_details: { type: 'sepa_debit' },
    });
    expect(mandate.payment_method_details.sepa_debit?.reference).toMatch(/^[A-Z0-9]{16}$/);
    expect(mandate.payment_method_details.sepa_debit?.url).toMatch(/^http/);
    // the mandate's page, for the customer
    const page = await fetch(mandate.payment_method_details.sepa_debit!.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(mandate.payment_method_details.sepa_debit!.reference);

    expect(latestCharge(intent).payment_method_details).toMatchObject({
      type: 'sepa_debit',
      sepa_debit: { mandate: mandateId, last4: '2606' },
    });
    // setup_future_usage: saved for renewals as soon as the debit is submitted
    expect((await stripe.paymentMethods.retrieve(paymentMethodId)).customer).toBe(customerId);

    const submitted = await webhookFor('payment_intent.processing', intent.id);
    expect(submitted.data.object).toMatchObject({ status: 'processing', mandate: mandateId });
    const event = await webhookFor('payment_intent.succeeded', intent.id);
    expect(event.data.object).toMatchObject({
      id: intent.id,
      amount: 12240,
      status: 'succeeded',
      mandate: mandateId,
      latest_charge: { payment_method_details: { sepa_debit: { mandate: mandateId } } },
    });
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('succeeded');

    const refund = await stripe.refunds.create({ payment_intent: intent.id, amount: 2040 });
    expect(refund).toMatchObject({ status: 'succeeded', amount: 2040 });
  });

  it('gives every mandate its own reference', async () => {
    const [a, b] = await Promise.all([purchase(IBAN.other), purchase(IBAN.other)]);
    const [ma, mb] = await Promise.all([
      stripe.mandates.retrieve(mandateOf(a.intent)!),
      stripe.mandates.retrieve(mandateOf(b.intent)!),
    ]);
    expect(ma.id).not.toBe(mb.id);
    expect(ma.payment_method_details.sepa_debit?.reference).not.toBe(
      mb.payment_method_details.sepa_debit?.reference,
    );
    await statusBecomes(a.intent.id, 'succeeded');
    await statusBecomes(b.intent.id, 'succeeded');
  });

  it.each([
    [IBAN.fails, 'generic_could_not_process'],
    [IBAN.insufficientFunds, 'insufficient_funds'],
    [IBAN.localstripeFails, 'generic_could_not_process'],
  ])('%s: processing, then failed (%s) with its webhook', async (iban, code) => {
    const { intent } = await purchase(iban);
    expect(intent.status).toBe('processing');
    const event = await webhookFor('payment_intent.payment_failed', intent.id);
    expect(event.data.object).toMatchObject({ id: intent.id, last_payment_error: { code } });
    const failed = await stripe.paymentIntents.retrieve(intent.id);
    expect(failed.status).toBe('requires_payment_method');
    expect(failed.last_payment_error?.code).toBe(code);
  });
});

describe('debits held like Stripe’s “after at least three minutes” IBANs', () => {
  it('FR30…02609 stays processing until released, then succeeds with its webhook', async () => {
    const { intent } = await purchase(IBAN.succeedsHeld);
    expect(intent.status).toBe('processing');
    expect(await control('GET', '/_config/sepa_debits')).toEqual({
      status: 200,
      body: { data: expect.arrayContaining([intent.id]) },
    });
    // well past the half second an ordinary debit takes
    await sleep(1500);
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('processing');
    const settledEvents = events.filter(
      (e) => (e.data.object as { id?: string }).id === intent.id && e.type !== 'payment_intent.processing',
    );
    expect(settledEvents).toEqual([]);

    expect(await control('POST', `/_config/sepa_debits/${intent.id}/release`)).toEqual({
      status: 200,
      body: { released: true },
    });
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('succeeded');
    await webhookFor('payment_intent.succeeded', intent.id);
    const listed = await control('GET', '/_config/sepa_debits');
    expect((listed.body as { data: string[] }).data).not.toContain(intent.id);
    // nothing left to release
    expect((await control('POST', `/_config/sepa_debits/${intent.id}/release`)).status).toBe(404);
  });

  it('FR79…02600 stays processing until released, then fails with its webhook', async () => {
    const { intent } = await purchase(IBAN.failsHeld);
    await sleep(1500);
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('processing');
    expect((await control('POST', `/_config/sepa_debits/${intent.id}/release`)).status).toBe(200);
    const event = await webhookFor('payment_intent.payment_failed', intent.id);
    expect(event.data.object).toMatchObject({ last_payment_error: { code: 'generic_could_not_process' } });
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('requires_payment_method');
  });

  it('a held debit settles by itself after LOCALSTRIPE_SEPA_DELAY_SECONDS', async () => {
    // an instance of its own with a short delay (the setting is read when the launcher starts)
    const python = locateLocalstripePython();
    if (!python) throw new Error('localstripe is not installed');
    const port = await freePort();
    const child = spawn(
      python,
      [path.join(__dirname, '../../infra/embedded/localstripe-server.py'), '--port', String(port)],
      { env: { ...process.env, LOCALSTRIPE_SEPA_DELAY_SECONDS: '4' }, stdio: 'ignore' },
    );
    try {
      await waitForPort(port, '127.0.0.1', 20_000);
      const quick = createStripe('sk_test_sepa', `http://127.0.0.1:${port}`);
      const intent = await quick.paymentIntents.create({ amount: 1000, currency: 'eur' });
      const method = await quick.paymentMethods.create({
        type: 'sepa_debit',
        sepa_debit: { iban: IBAN.succeedsHeld },
        billing_details: { name: 'Jeanne Dupont', email: 'compta@boulangerie.fr' },
      });
      const confirmed = await quick.paymentIntents.confirm(intent.id, {
        payment_method: method.id,
        mandate_data: ACCEPTANCE,
      });
      expect(confirmed.status).toBe('processing');
      // held: an ordinary debit would have settled after half a second
      await sleep(1000);
      expect((await quick.paymentIntents.retrieve(intent.id)).status).toBe('processing');
      await statusBecomes(intent.id, 'succeeded', 20_000, quick);
    } finally {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
    }
  });

  it('answers 404 for a PaymentIntent with no held debit', async () => {
    expect((await control('POST', '/_config/sepa_debits/pi_unknown/release')).status).toBe(404);
  });
});

describe('SetupIntents and off-session renewals', () => {
  /** A customer whose IBAN was saved with a SetupIntent and a mandate (a renewal's starting point). */
  async function savedIban(iban: string) {
    const { id: customerId } = await customer();
    const setup = await stripe.setupIntents.create({
      customer: customerId,
      allowed_payment_method_types: ['card', 'sepa_debit'],
      usage: 'off_session',
    });
    const method = await sepaMethod(iban);
    const confirmed = await stripe.setupIntents.confirm(setup.id, {
      payment_method: method.id,
      mandate_data: ACCEPTANCE,
    });
    return { customerId, paymentMethodId: method.id, setup: confirmed };
  }

  const renewal = (saved: { customerId: string; paymentMethodId: string }, mandate?: string) =>
    stripe.paymentIntents.create({
      amount: 12240,
      currency: 'eur',
      customer: saved.customerId,
      payment_method: saved.paymentMethodId,
      allowed_payment_method_types: ['card', 'sepa_debit'],
      confirm: true,
      off_session: true,
      ...(mandate ? { mandate } : {}),
    });

  it('a SetupIntent with mandate_data succeeds, creates the Mandate and saves the IBAN', async () => {
    const { customerId, paymentMethodId, setup } = await savedIban(IBAN.succeeds);
    expect(setup.status).toBe('succeeded');
    expect(setup.mandate).toMatch(/^mandate_/);
    const mandate = await stripe.mandates.retrieve(setup.mandate as string);
    expect(mandate).toMatchObject({ status: 'active', type: 'multi_use', payment_method: paymentMethodId });
    expect((await stripe.paymentMethods.retrieve(paymentMethodId)).customer).toBe(customerId);
    const listed = await stripe.paymentMethods.list({ customer: customerId, type: 'sepa_debit' });
    expect(listed.data.map((m) => m.id)).toEqual([paymentMethodId]);
  });

  it('an off-session renewal with the mandate is processing at once, then succeeds', async () => {
    const saved = await savedIban(IBAN.succeeds);
    const intent = await renewal(saved, saved.setup.mandate as string);
    expect(intent.status).toBe('processing');
    expect(mandateOf(intent)).toBe(saved.setup.mandate);
    expect(latestCharge(intent).payment_method_details?.sepa_debit?.mandate).toBe(saved.setup.mandate);
    await webhookFor('payment_intent.succeeded', intent.id);
  });

  it('an off-session renewal without `mandate` uses the PaymentMethod’s active mandate', async () => {
    const saved = await savedIban(IBAN.other);
    const intent = await renewal(saved);
    expect(intent.status).toBe('processing');
    expect(mandateOf(intent)).toBe(saved.setup.mandate);
    await statusBecomes(intent.id, 'succeeded');
  });

  it('an off-session renewal on a held IBAN waits for its release; on a failing one it fails later', async () => {
    const held = await renewal(await savedIban(IBAN.succeedsHeld));
    const failing = await renewal(await savedIban(IBAN.fails));
    expect([held.status, failing.status]).toEqual(['processing', 'processing']);
    await webhookFor('payment_intent.payment_failed', failing.id);
    expect((await stripe.paymentIntents.retrieve(held.id)).status).toBe('processing');
    expect((await control('POST', `/_config/sepa_debits/${held.id}/release`)).status).toBe(200);
    await webhookFor('payment_intent.succeeded', held.id);
  });

  it('takes the older `payment_method_types[]` too (form-encoded, as curl or older stripe-node send it)', async () => {
    const saved = await savedIban(IBAN.succeeds);
    const form = new URLSearchParams([
      ['amount', '12240'],
      ['currency', 'eur'],
      ['customer', saved.customerId],
      ['payment_method', saved.paymentMethodId],
      ['payment_method_types[]', 'card'],
      ['payment_method_types[]', 'sepa_debit'],
      ['confirm', 'true'],
      ['off_session', 'true'],
      ['mandate', saved.setup.mandate as string],
    ]);
    const response = await fetch(`${localstripe.apiBase}/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_sepa', 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(response.status).toBe(200);
    const intent = (await response.json()) as Stripe.PaymentIntent;
    expect(intent).toMatchObject({ status: 'processing', payment_method_types: ['card', 'sepa_debit'] });
    await statusBecomes(intent.id, 'succeeded');
  });

  it('cards are charged off-session as before, with both types allowed', async () => {
    const { id: customerId } = await customer();
    const card = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' },
    });
    await stripe.paymentMethods.attach(card.id, { customer: customerId });
    const intent = await renewal({ customerId, paymentMethodId: card.id });
    expect(intent.status).toBe('succeeded');
    expect(mandateOf(intent)).toBeNull();
    expect(latestCharge(intent).payment_method_details).toMatchObject({
      type: 'card',
      card: { last4: '4242' },
    });
  });
});

describe('requests Stripe refuses', () => {
  const refusal = async (call: Promise<unknown>) => {
    const error = (await call.then(
      () => {
        throw new Error('accepted');
      },
      (e: unknown) => e,
    )) as { statusCode?: number; code?: string; param?: string };
    return { statusCode: error.statusCode, code: error.code, param: error.param };
  };

  it('a SEPA confirmation without mandate_data, and nothing changed', async () => {
    const { id: customerId } = await customer();
    const intent = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'eur',
      customer: customerId,
      allowed_payment_method_types: ['card', 'sepa_debit'],
    });
    const method = await sepaMethod(IBAN.succeeds);
    expect(await refusal(stripe.paymentIntents.confirm(intent.id, { payment_method: method.id }))).toEqual({
      statusCode: 400,
      code: 'parameter_missing',
      param: 'mandate_data',
    });
    expect(await stripe.paymentIntents.retrieve(intent.id)).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
    });
  });

  it('a SEPA PaymentMethod on a PaymentIntent for cards only', async () => {
    const { id: customerId } = await customer();
    const intent = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'eur',
      customer: customerId,
      allowed_payment_method_types: ['card'],
    });
    const method = await sepaMethod(IBAN.succeeds);
    expect(
      await refusal(
        stripe.paymentIntents.confirm(intent.id, { payment_method: method.id, mandate_data: ACCEPTANCE }),
      ),
    ).toMatchObject({ statusCode: 400, code: 'payment_intent_incompatible_payment_method' });
  });

  it('a SEPA PaymentMethod without the account holder’s name or email', async () => {
    const { id: customerId } = await customer();
    const intent = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'eur',
      customer: customerId,
      allowed_payment_method_types: ['sepa_debit'],
    });
    const method = await stripe.paymentMethods.create({
      type: 'sepa_debit',
      sepa_debit: { iban: IBAN.succeeds },
      billing_details: { name: 'Jeanne Dupont' },
    });
    expect(
      await refusal(
        stripe.paymentIntents.confirm(intent.id, { payment_method: method.id, mandate_data: ACCEPTANCE }),
      ),
    ).toEqual({ statusCode: 400, code: 'parameter_missing', param: 'billing_details[email]' });
  });

  it('an off-session debit with another PaymentMethod’s mandate, or with none', async () => {
    const first = await purchase(IBAN.succeeds);
    const { id: customerId } = await customer();
    const other = await sepaMethod(IBAN.succeeds);
    await stripe.paymentMethods.attach(other.id, { customer: customerId });
    const offSession = (mandate?: string) =>
      stripe.paymentIntents.create({
        amount: 1000,
        currency: 'eur',
        customer: customerId,
        payment_method: other.id,
        allowed_payment_method_types: ['sepa_debit'],
        confirm: true,
        off_session: true,
        ...(mandate ? { mandate } : {}),
      });
    expect(await refusal(offSession(mandateOf(first.intent)!))).toMatchObject({
      statusCode: 400,
      code: 'mandate_invalid',
    });
    expect(await refusal(offSession())).toMatchObject({ statusCode: 400, code: 'parameter_missing' });
    await statusBecomes(first.intent.id, 'succeeded');
  });
});
