/**
 * `npm run histories:record [name...]`: runs one real scenario per workflow type and path against throwaway
 * servers (PostgreSQL, the Temporal dev server, stripe-mock, an SMTP peer; the time-skipping server for
 * renewals and dunning, months of timers), and writes each workflow's event history to
 * `tests/histories/<name>.json`. `tests/workflows/replay.test.ts` replays every file there against the
 * current workflow code, so a change that is not replay-safe fails the build.
 *
 * Re-record after a workflow change (before the first release every change re-records; after it, a
 * `patched()` branch keeps the old history as `<name>.pre-<patch>.json`, which this script never rewrites:
 * see docs/workflow-versioning.md). With names, only those scenarios are recorded.
 */
import { decodePayloadsIn } from '../infra/payload-codec';
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Client, WorkflowHandle } from '@temporalio/client';
import request from 'supertest';
import { dayOf, startOfDayMs } from '../domain/licence';
import { oneMonthAfter } from '../domain/migration';
import { addDays } from '../domain/periods';
import { createOpsToken } from '../services/ops/ops-tokens';
import { DEFAULT_CATALOG } from '../domain/catalog';
import { quote } from '../domain/quote';
import { issuePaidInvoice } from '../services/invoices/issue-paid-invoice';
import {
  creditPurchaseWorkflowId,
  refundWorkflowId,
  licenceMigrationWorkflowId,
  subscriptionWorkflowId,
  supportCallReportWorkflowId,
  workflowIds,
} from '../workflows/ids';
import { consumptionInvoicesWorkflow, monthlyFeesWorkflow } from '../workflows/monthly-fees';
import { paymentResultSignal } from '../workflows/payment-messages';
import { sessionExpiryWorkflow } from '../workflows/session-expiry';
import { eInvoiceOutboxWorkflow } from '../workflows/einvoice-outbox';
import {
  getSubscriptionStateQuery,
  savePaymentMethodUpdate,
  type SubscriptionState,
} from '../workflows/subscription';
import { confirmManualPayment, confirmRenewalPayment } from '../services/ops/manual-queues';
import globalSetup from '../tests/setup/global-setup';
import globalTeardown from '../tests/setup/global-teardown';
import { bearer, confirmedAccount, registerMachine } from '../tests/helpers/api';
import { deliver, paymentSucceededEvent } from '../tests/helpers/credits';
import { disputeEvent, newDisputeId } from '../tests/helpers/disputes';
import {
  createHarness,
  installTestRuntime,
  randomBaseId,
  uniqueEmail,
  type Harness,
} from '../tests/helpers/harness';
import { answerRefundsLikeStripe } from '../tests/helpers/refunds';
import {
  confirmOnPage,
  heldDebits,
  IBAN,
  nextHeldDebit,
  payPath,
  releaseDebit,
  sepaAccount,
} from '../tests/helpers/sepa';
import { startTimeSkippingStack } from '../tests/helpers/time-skipping';
import { startStripeRecorder, type StripeRecorder } from '../tests/helpers/stripe-recorder';

const outDir = path.resolve(__dirname, '..', 'tests', 'histories');
const only = new Set(process.argv.slice(2));
const wanted = (name: string) => only.size === 0 || only.has(name);

const billing = {
  companyName: 'Boulangerie Dupont',
  lastName: 'Dupont',
  firstName: 'Jean',
  address: '1 rue de la Paix',
  postalCode: '75001',
  city: 'Paris',
  country: 'FRA',
  email: 'compta@dupont.example.fr',
};
const terms = { version: '2026-01', accepted: true };

/** What the purchase routes answer (the fields used here). */
interface Bought {
  purchaseId: string;
  amountCents: number;
  payment: { paymentIntentId: string };
  quote: { totalInclVatCents: number };
}
const bought = (res: { body: unknown }) => res.body as Bought;

async function until<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  tick?: () => Promise<void>,
) {
  for (let i = 0; i < 600; i += 1) {
    const value = await read();
    if (ok(value)) return value;
    if (tick) await tick();
    else await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await read())}`);
}

/**
 * Histories are committed decoded (docs/workflow-versioning.md): the payloads the codec encrypted in
 * Temporal are decrypted with the recording client's own codecs before the file is written.
 */
async function save(name: string, handle: WorkflowHandle): Promise<void> {
  let history = await handle.fetchHistory();
  for (const codec of [...handle.client.options.loadedDataConverter.payloadCodecs].reverse())
    history = await decodePayloadsIn(history, codec);
  const file = path.join(outDir, `${name}.json`);
  fs.writeFileSync(file, `${historyToJSON(history)}\n`);
  console.log(
    `recorded ${name} (${history.events?.length ?? 0} events) → ${path.relative(process.cwd(), file)}`,
  );
}

function buy(h: Harness, app: typeof h.app, machine: { baseId: string; apiKey: string }, extra: object) {
  return request(app)
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
      terms,
      ...extra,
    });
}

const stateOf = (client: Client, baseId: string) =>
  client.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);

/** A paid invoice issued as a payment's transaction issues it, so the outbox has a document to send. */
async function issueTestInvoice(h: Harness): Promise<void> {
  const priced = quote(DEFAULT_CATALOG, {
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    period: 'ANNUAL',
    connections: 1,
    country: 'FRA',
  });
  const baseId = randomBaseId();
  const today = dayOf(Date.now());
  await h.prisma.$transaction(async (tx) => {
    const payment = await tx.payment.create({
      data: {
        idempotencyKey: `histories:${baseId}`,
        baseId,
        method: 'ONLINE',
        provider: 'stripe',
        amountCents: priced.totalInclVatCents,
        status: 'SUCCEEDED',
      },
    });
    await issuePaidInvoice(tx, {
      baseId,
      paymentId: payment.id,
      issueDate: today,
      saleDate: today,
      seller: h.services.billing.seller,
      buyer: {
        companyName: billing.companyName,
        address: billing.address,
        postalCode: billing.postalCode,
        city: billing.city,
        country: billing.country,
        vatNumber: 'FR40303265045',
      },
      lines: priced.lines,
      vat: priced.vat,
      totals: priced,
      paidAt: new Date(),
    });
  });
}

/** Scenarios on the dev server: each workflow type, each purchase mode, a migration either way. */
async function recordOnDevServer(recorder: StripeRecorder): Promise<void> {
  const h = await createHarness({ stripeApiBase: recorder.url });
  const ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'histories' }, { name: 'ops', role: 'OPS' }))
    .token;
  const sub = (baseId: string) => h.temporal.workflow.getHandle(subscriptionWorkflowId(baseId));
  try {
    // emailCode: an account confirmed with its emailed code
    const account = await confirmedAccount(h);
    if (wanted('emailCode-account-confirmation'))
      await save(
        'emailCode-account-confirmation',
        h.temporal.workflow.getHandle(workflowIds.accountConfirmation(account.email)),
      );

    // subscription, card: PaymentIntent, the webhook's signal, activation
    if (wanted('subscription-card-purchase')) {
      const machine = await registerMachine(h);
      const res = await buy(h, h.app, machine, {});
      if (res.status !== 201) throw new Error(`card purchase: ${res.status} ${JSON.stringify(res.body)}`);
      await sub(machine.baseId).signal(paymentResultSignal, {
        paymentIntentId: bought(res).payment.paymentIntentId,
        status: 'succeeded',
        amountCents: bought(res).quote.totalInclVatCents,
        paymentMethodId: 'pm_card_visa',
      });
      await until(
        () => stateOf(h.temporal, machine.baseId),
        (s) => s.status === 'ACTIVE',
        'card activation',
      );
      await save('subscription-card-purchase', sub(machine.baseId));
    }

    // subscription, card, then a dispute lost: the webhook's disputeLost signal ends the licence at once
    if (wanted('subscription-dispute-lost')) {
      const machine = await registerMachine(h);
      const res = await buy(h, h.app, machine, {});
      if (res.status !== 201) throw new Error(`card purchase: ${res.status} ${JSON.stringify(res.body)}`);
      await sub(machine.baseId).signal(paymentResultSignal, {
        paymentIntentId: bought(res).payment.paymentIntentId,
        status: 'succeeded',
        amountCents: bought(res).quote.totalInclVatCents,
        paymentMethodId: 'pm_card_visa',
      });
      await until(
        () => stateOf(h.temporal, machine.baseId),
        (s) => s.status === 'ACTIVE',
        'card activation',
      );
      const lost = await deliver(
        h,
        disputeEvent('charge.dispute.closed', {
          disputeId: newDisputeId(),
          paymentIntentId: bought(res).payment.paymentIntentId,
          amountCents: bought(res).quote.totalInclVatCents,
          status: 'lost',
          createdAt: Math.floor(Date.now() / 1000),
        }),
      );
      if (lost.status !== 200) throw new Error(`dispute: ${lost.status} ${JSON.stringify(lost.body)}`);
      await until(
        async () => (await sub(machine.baseId).describe()).status.name,
        (s) => s !== 'RUNNING',
        'end after the lost dispute',
      );
      await save('subscription-dispute-lost', sub(machine.baseId));
    }

    // subscription, charges priced first: a promo code on the purchase, a change and a renew-now sent with
    // their quotes' fingerprints (one refused: the fingerprint of another price)
    if (wanted('subscription-quoted-charges')) {
      await request(h.app).post('/ops/promo-codes').set(bearer(ops)).send({
        code: 'HISTORIQUE',
        kind: 'PERCENT',
        percentBasisPoints: 1000,
        duration: 'REPEATING',
        durationPeriods: 2,
      });
      const machine = await registerMachine(h);
      const res = await buy(h, h.app, machine, { promoCode: 'HISTORIQUE' });
      if (res.status !== 201) throw new Error(`promo purchase: ${res.status} ${JSON.stringify(res.body)}`);
      await sub(machine.baseId).signal(paymentResultSignal, {
        paymentIntentId: bought(res).payment.paymentIntentId,
        status: 'succeeded',
        amountCents: bought(res).quote.totalInclVatCents,
        paymentMethodId: 'pm_card_visa',
      });
      await until(
        () => stateOf(h.temporal, machine.baseId),
        (s) => s.status === 'ACTIVE',
        'promo activation',
      );
      const base = `/bases/${machine.baseId}/licence`;
      const quoted = await request(h.app)
        .post(`${base}/changes/quote`)
        .set(bearer(machine.apiKey))
        .send({ connections: 2 });
      const changed = await request(h.app)
        .post(`${base}/changes`)
        .set(bearer(machine.apiKey))
        .send({
          connections: 2,
          priceFingerprint: (quoted.body as { priceFingerprint: string }).priceFingerprint,
        });
      if (changed.status !== 200)
        throw new Error(`quoted change: ${changed.status} ${JSON.stringify(changed.body)}`);
      const stale = await request(h.app)
        .post(`${base}/renewals`)
        .set(bearer(machine.apiKey))
        .send({ priceFingerprint: 'pf1_0000000000000000000000000000' });
      if (stale.status !== 409)
        throw new Error(`stale renewal: ${stale.status} ${JSON.stringify(stale.body)}`);
      const renewal = await request(h.app).post(`${base}/renewals/quote`).set(bearer(machine.apiKey));
      const renewed = await request(h.app)
        .post(`${base}/renewals`)
        .set(bearer(machine.apiKey))
        .send({ priceFingerprint: (renewal.body as { priceFingerprint: string }).priceFingerprint });
      if (renewed.status !== 200)
        throw new Error(`quoted renewal: ${renewed.status} ${JSON.stringify(renewed.body)}`);
      await save('subscription-quoted-charges', sub(machine.baseId));
    }

    // subscription, cheque: waits for ops, who confirm the payment
    if (wanted('subscription-cheque-purchase')) {
      const machine = await registerMachine(h);
      const res = await buy(h, h.app, machine, { paymentMethod: 'CHEQUE', period: 'ANNUAL' });
      const decided = await request(h.app)
        .post(`/ops/purchases/${bought(res).purchaseId}/decision`)
        .set(bearer(ops))
        .send({ decision: 'CONFIRM_PAYMENT', reference: 'Chèque n° 1234567' });
      if (decided.status !== 200)
        throw new Error(`cheque: ${decided.status} ${JSON.stringify(decided.body)}`);
      await save('subscription-cheque-purchase', sub(machine.baseId));
    }

    // subscription, cheque, then a card saved on the card-change page: automatic card renewal from then on
    if (wanted('subscription-card-change')) {
      const machine = await registerMachine(h);
      const res = await buy(h, h.app, machine, { paymentMethod: 'CHEQUE', period: 'ANNUAL' });
      const decided = await request(h.app)
        .post(`/ops/purchases/${bought(res).purchaseId}/decision`)
        .set(bearer(ops))
        .send({ decision: 'CONFIRM_PAYMENT', reference: 'Chèque n° 7654321' });
      if (decided.status !== 200)
        throw new Error(`card change: ${decided.status} ${JSON.stringify(decided.body)}`);
      const saved = await sub(machine.baseId).executeUpdate(savePaymentMethodUpdate, {
        args: [{ customerId: 'cus_history', paymentMethodId: 'pm_card_visa', setupIntentId: 'seti_history' }],
      });
      if (!saved.autoRenew) throw new Error('card change: auto-renew not on');
      await save('subscription-card-change', sub(machine.baseId));
    }

    // subscription, transfer: the deadline passes unpaid? no: ops reject it (the other decision path)
    if (wanted('subscription-transfer-rejected')) {
      const machine = await registerMachine(h);
      const res = await buy(h, h.app, machine, { paymentMethod: 'TRANSFER', period: 'ANNUAL' });
      const decided = await request(h.app)
        .post(`/ops/purchases/${bought(res).purchaseId}/decision`)
        .set(bearer(ops))
        .send({ decision: 'REJECT', reason: 'Virement jamais reçu' });
      if (decided.status !== 200)
        throw new Error(`transfer: ${decided.status} ${JSON.stringify(decided.body)}`);
      await until(
        async () => (await sub(machine.baseId).describe()).status.name,
        (s) => s !== 'RUNNING',
        'end',
      );
      await save('subscription-transfer-rejected', sub(machine.baseId));
    }

    // subscription, free licence approved by ops
    if (wanted('subscription-free-approved')) {
      const machine = await registerMachine(h);
      const res = await buy(h, h.app, machine, {
        paymentMethod: 'FREE',
        period: 'ANNUAL',
        free: { category: 'ASSOCIATION', justification: 'Association loi 1901, récépissé W691234567' },
      });
      const decided = await request(h.app)
        .post(`/ops/purchases/${bought(res).purchaseId}/decision`)
        .set(bearer(ops))
        .send({ decision: 'APPROVE' });
      if (decided.status !== 200) throw new Error(`free: ${decided.status} ${JSON.stringify(decided.body)}`);
      await save('subscription-free-approved', sub(machine.baseId));
    }

    // licenceMigration: v15 → A1, carried by the base's new subscriptionWorkflow
    const v15 = async () => {
      const machine = await registerMachine(h);
      const row = {
        baseId: machine.baseId,
        holder: 'Garage Martin',
        email: uniqueEmail('v15'),
        edition: 'ENTERPRISE',
        connections: 3,
        endDate: addDays(oneMonthAfter(dayOf(Date.now())), 60),
      };
      const imported = await request(h.app).post('/ops/licences/v15-imports').set(bearer(ops)).send([row]);
      if ((imported.body as { imported: number }).imported !== 1)
        throw new Error(`v15 import: ${JSON.stringify(imported.body)}`);
      return machine;
    };
    const migrate = (baseId: string, key: string, body: object = {}) =>
      request(h.app).post(`/bases/${baseId}/licence/migrations`).set(bearer(key)).send(body);
    const migrationDone = (baseId: string) =>
      until(
        () => h.prisma.licenceMigration.findFirst({ where: { baseId } }),
        (m) => m?.status === 'COMPLETED',
        'the migration',
      );
    if (wanted('licenceMigration-carried-by-subscription')) {
      const machine = await v15();
      const res = await migrate(machine.baseId, machine.apiKey);
      if (res.status !== 201) throw new Error(`migration: ${res.status} ${JSON.stringify(res.body)}`);
      await migrationDone(machine.baseId);
      await save(
        'licenceMigration-carried-by-subscription',
        h.temporal.workflow.getHandle(licenceMigrationWorkflowId(machine.baseId)),
      );
    }
    // licenceMigration forced by ops on a base with a paid A1 licence: the migration carries its licence
    if (wanted('licenceMigration-carried-by-migration')) {
      const machine = await v15();
      await buy(h, h.app, machine, { paymentMethod: 'CHEQUE', period: 'ANNUAL' });
      const res = await migrate(machine.baseId, ops, {
        override: { reason: 'customer paid twice, ticket 4521' },
      });
      if (res.status !== 201) throw new Error(`forced migration: ${res.status} ${JSON.stringify(res.body)}`);
      await migrationDone(machine.baseId);
      // the workflow now waits for the migrated licence's end (its timer is in the history)
      const handle = h.temporal.workflow.getHandle(licenceMigrationWorkflowId(machine.baseId));
      await until(
        async () => (await handle.fetchHistory()).events?.some((e) => e.timerStartedEventAttributes) ?? false,
        (started) => started,
        'the end timer',
      );
      await save('licenceMigration-carried-by-migration', handle);
    }

    // creditPurchase: a support pack paid by card, credited on the webhook
    if (
      wanted('creditPurchase-support-pack') ||
      wanted('supportCallReport') ||
      wanted('refund-support-pack')
    ) {
      const pack = await request(h.app)
        .post(`/accounts/${account.accountId}/credit-purchases`)
        .set(bearer(account.apiKey))
        .send({ idempotencyKey: 'pack-histories', product: { kind: 'SUPPORT_PACK', minutes: 30 } });
      if (pack.status !== 201) throw new Error(`pack: ${pack.status} ${JSON.stringify(pack.body)}`);
      await deliver(h, paymentSucceededEvent(bought(pack)));
      const handle = h.temporal.workflow.getHandle(creditPurchaseWorkflowId(bought(pack).purchaseId));
      await handle.result();
      if (wanted('creditPurchase-support-pack')) await save('creditPurchase-support-pack', handle);

      // supportCallReport: a 25 minute call, its report emailed
      const call = await request(h.app).post('/ops/support-calls').set(bearer(ops)).send({
        idempotencyKey: 'call-histories',
        accountId: account.accountId,
        technician: 'Marie Support',
        operation: 'Réparation des index de la base',
        durationMinutes: 25,
      });
      if (call.status !== 201) throw new Error(`support call: ${call.status} ${JSON.stringify(call.body)}`);
      const report = h.temporal.workflow.getHandle(
        supportCallReportWorkflowId((call.body as { call: { id: string } }).call.id),
      );
      await report.result();
      if (wanted('supportCallReport')) await save('supportCallReport', report);

      // refund: the 5 minutes left of the pack paid back (debit entry, credit note, Stripe refund)
      if (wanted('refund-support-pack')) {
        const refunded = await request(h.app)
          .post(`/ops/credit-purchases/${bought(pack).purchaseId}/refunds`)
          .set(bearer(ops))
          .send({ amountCents: 1100, reason: 'Client mécontent', idempotencyKey: 'refund-histories' });
        if (refunded.status !== 201)
          throw new Error(`refund: ${refunded.status} ${JSON.stringify(refunded.body)}`);
        await save(
          'refund-support-pack',
          h.temporal.workflow.getHandle(refundWorkflowId(bought(pack).purchaseId, 'refund-histories')),
        );
      }
    }

    // monthlyFees: one subscribed app charged on the wallet for a month
    if (wanted('monthlyFees')) {
      await request(h.app).post(`/ops/accounts/${account.accountId}/apps`).set(bearer(ops)).send({
        app: 'PAIE',
        label: 'Paie',
        monthlyFeeCents: 250,
        staff: 'Philippe Lemaire',
        sinceMonth: '2026-01',
      });
      const handle = await h.temporal.workflow.start(monthlyFeesWorkflow, {
        workflowId: `monthly-app-fees-histories-${Date.now()}`,
        taskQueue: h.taskQueue,
        args: [{ month: '2026-02' }],
      });
      await handle.result();
      await save('monthlyFees', handle);
    }

    // consumptionInvoices: a month's wallet consumption invoiced by hand, as POST /ops/consumption-invoices does
    if (wanted('consumptionInvoices')) {
      const handle = await h.temporal.workflow.start(consumptionInvoicesWorkflow, {
        workflowId: `consumption-invoices-histories-${Date.now()}`,
        taskQueue: h.taskQueue,
        args: [{ month: '2026-02' }],
      });
      await handle.result();
      await save('consumptionInvoices', handle);
    }

    // sessionExpiry: one run, as the schedule starts it
    if (wanted('sessionExpiry')) {
      const handle = await h.temporal.workflow.start(sessionExpiryWorkflow, {
        workflowId: `session-expiry-histories-${Date.now()}`,
        taskQueue: h.taskQueue,
      });
      await handle.result();
      await save('sessionExpiry', handle);
    }

    // eInvoiceOutbox: one run, as the schedule starts it: the documents issued above sent, statuses polled
    if (wanted('eInvoiceOutbox')) {
      await issueTestInvoice(h);
      const handle = await h.temporal.workflow.start(eInvoiceOutboxWorkflow, {
        workflowId: `e-invoice-outbox-histories-${Date.now()}`,
        taskQueue: h.taskQueue,
      });
      await handle.result();
      await save('eInvoiceOutbox', handle);
    }
  } finally {
    await h.close();
  }
}

/** Renewal and dunning on the time-skipping server (a month of timers); the bank declines one charge. */
async function recordOnTimeSkippingServer(recorder: StripeRecorder): Promise<void> {
  const scenarios = [
    'subscription-renewal',
    'subscription-dunning',
    'subscription-authentication-retry',
    'subscription-scheduled-change',
    'subscription-pending-charge',
  ] as const;
  const offline = ['subscription-cheque-renewal', 'subscription-cheque-renew-now'] as const;
  if (!scenarios.some(wanted) && !offline.some(wanted)) return;
  const declined = new Set<string>();
  const decline = new Set<string>();
  // the first renewal attempt of these licences needs the customer, who never confirms: the retry renews
  const authenticate = new Set<string>();
  // a change and a renew-now of these licences need the customer (pending-charge.ts)
  const pendingCharges = new Set<string>();
  const stack = await startTimeSkippingStack('histories', {
    stripeApiBase: recorder.url,
    activities: (real) => ({
      collectPayment: async (input) => {
        const pending = [...pendingCharges].find(
          (id) =>
            input.idempotencyKey.startsWith(`change:${id}:`) ||
            (input.idempotencyKey.startsWith(`renewal:${id}:`) && input.idempotencyKey.includes(':manual:')),
        );
        if (pending)
          return {
            outcome: 'NEEDS_CUSTOMER',
            paymentIntentId: input.idempotencyKey.startsWith('change:')
              ? 'pi_change_needs_customer_history'
              : 'pi_renew_now_needs_customer_history',
            action: 'AUTHENTICATE',
          };
        const asked = [...authenticate].find((id) => input.idempotencyKey.startsWith(`renewal:${id}:`));
        if (asked) {
          authenticate.delete(asked);
          return {
            outcome: 'NEEDS_CUSTOMER',
            paymentIntentId: 'pi_needs_customer_history',
            action: 'AUTHENTICATE',
          };
        }
        const licence = [...decline].find((id) => input.idempotencyKey.startsWith(`renewal:${id}:`));
        if (licence && !declined.has(licence)) {
          declined.add(licence);
          return { outcome: 'DECLINED', code: 'insufficient_funds', declineCode: 'insufficient_funds' };
        }
        return real.collectPayment(input);
      },
    }),
  });
  const { env, h, app, services } = stack;
  // the harness's own worker, on the dev server, has nothing to run here
  await h.stopWorker();
  const tick = () => env.sleep(60_000);
  try {
    for (const name of scenarios) {
      if (!wanted(name)) continue;
      const machine = await registerMachine(h);
      const res = await buy(
        h,
        app,
        machine,
        name === 'subscription-scheduled-change' ? { connections: 3 } : {},
      );
      const handle = env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
      const firstRun = (await handle.describe()).runId;
      await handle.signal(paymentResultSignal, {
        paymentIntentId: bought(res).payment.paymentIntentId,
        status: 'succeeded',
        amountCents: bought(res).quote.totalInclVatCents,
        paymentMethodId: 'pm_card_visa',
      });
      const active: SubscriptionState = await until(
        () => stateOf(env.client, machine.baseId),
        (s) => s.status === 'ACTIVE',
        'activation',
        tick,
      );
      if (name === 'subscription-dunning') decline.add(active.licenceId);
      if (name === 'subscription-authentication-retry') authenticate.add(active.licenceId);
      if (name === 'subscription-pending-charge') {
        // a change the customer authenticates (applied), then a renew-now left unconfirmed (dropped after a day)
        pendingCharges.add(active.licenceId);
        const base = `/bases/${machine.baseId}/licence`;
        const auth = bearer(machine.apiKey);
        const changed = await request(app).post(`${base}/changes`).set(auth).send({ connections: 2 });
        if (changed.status !== 202) throw new Error(`pending change: ${changed.status} ${changed.text}`);
        await handle.signal(paymentResultSignal, {
          paymentIntentId: 'pi_change_needs_customer_history',
          status: 'succeeded',
          amountCents: (changed.body as { amountCents: number }).amountCents,
          paymentMethodId: 'pm_card_visa',
        });
        await until(
          () => stateOf(env.client, machine.baseId),
          (s) => s.terms.connections === 2 && !s.pendingCharge,
          'the change applied',
          tick,
        );
        const renewed = await request(app).post(`${base}/renewals`).set(auth).send({});
        if (renewed.status !== 202) throw new Error(`pending renewal: ${renewed.status} ${renewed.text}`);
        await env.sleep(25 * 3_600_000);
        await until(
          () => stateOf(env.client, machine.baseId),
          (s) => !s.pendingCharge,
          'the renew-now dropped',
          tick,
        );
        pendingCharges.delete(active.licenceId);
      }
      if (name === 'subscription-scheduled-change') {
        // fewer connections from the next period on, scheduled, cancelled, scheduled again: the renewal applies it
        const path = `/bases/${machine.baseId}/licence/scheduled-change`;
        const auth = bearer(machine.apiKey);
        for (const step of [
          () => request(app).post(path).set(auth).send({ connections: 1, period: 'ANNUAL' }),
          () => request(app).delete(path).set(auth),
          () => request(app).post(path).set(auth).send({ connections: 1 }),
        ]) {
          const answer = await step();
          if (answer.status !== 200) throw new Error(`scheduled change: ${answer.status} ${answer.text}`);
        }
      }
      const target = startOfDayMs(active.periodEnd!) + 2 * 3_600_000;
      await env.sleep(Math.max(target - (await env.currentTimeMs()), 1000));
      await until(
        () => stateOf(env.client, machine.baseId),
        (s) => s.periodIndex === 1 && s.status === 'ACTIVE',
        'the renewal',
        // dunning retries a day later: larger steps
        name === 'subscription-renewal' ? tick : () => env.sleep(600_000),
      );
      // the run that renewed (it continued as new with the next period)
      await save(name, env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId), firstRun));
    }
    // a cheque licence: the invoice to pay (30 days before the end), ops confirm its receipt, renewed
    if (wanted('subscription-cheque-renewal')) {
      const actor = { type: 'CLI' as const, id: 'histories' };
      const machine = await registerMachine(h);
      const res = await buy(h, app, machine, { paymentMethod: 'CHEQUE' });
      const handle = env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
      const firstRun = (await handle.describe()).runId;
      await confirmManualPayment(services, {
        purchaseId: bought(res).purchaseId,
        actor,
        reference: 'Chèque n° 1',
      });
      const waiting: SubscriptionState = await until(
        () => stateOf(env.client, machine.baseId),
        (s) => s.offlineRenewal !== undefined,
        'the invoice to pay',
        () => env.sleep(3_600_000),
      );
      await confirmRenewalPayment(services, { baseId: machine.baseId, actor, reference: 'Chèque n° 2' });
      const target = startOfDayMs(waiting.periodEnd!) + 2 * 3_600_000;
      await env.sleep(Math.max(target - (await env.currentTimeMs()), 1000));
      await until(
        () => stateOf(env.client, machine.baseId),
        (s) => s.periodIndex === 1,
        'the next run',
        tick,
      );
      await save(
        'subscription-cheque-renewal',
        env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId), firstRun),
      );
    }
    // a cheque licence renewed now: the invoice to pay at once (asked twice: the same), ops confirm, renewed
    if (wanted('subscription-cheque-renew-now')) {
      const actor = { type: 'CLI' as const, id: 'histories' };
      const machine = await registerMachine(h);
      const res = await buy(h, app, machine, { paymentMethod: 'CHEQUE' });
      const handle = env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
      const firstRun = (await handle.describe()).runId;
      await confirmManualPayment(services, {
        purchaseId: bought(res).purchaseId,
        actor,
        reference: 'Chèque n° 1',
      });
      const active: SubscriptionState = await until(
        () => stateOf(env.client, machine.baseId),
        (s) => s.status === 'ACTIVE',
        'activation',
        tick,
      );
      for (let i = 0; i < 2; i += 1) {
        const renewed = await request(app)
          .post(`/bases/${machine.baseId}/licence/renewals`)
          .set(bearer(machine.apiKey))
          .send({});
        if (renewed.status !== 202) throw new Error(`renew now: ${renewed.status} ${renewed.text}`);
      }
      await confirmRenewalPayment(services, { baseId: machine.baseId, actor, reference: 'Chèque n° 2' });
      const target = startOfDayMs(active.periodEnd!) + 2 * 3_600_000;
      await env.sleep(Math.max(target - (await env.currentTimeMs()), 1000));
      await until(
        () => stateOf(env.client, machine.baseId),
        (s) => s.periodIndex === 1,
        'the next run',
        tick,
      );
      await save(
        'subscription-cheque-renew-now',
        env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId), firstRun),
      );
    }
  } finally {
    await stack.close();
  }
}

/**
 * SEPA Direct Debit on the time-skipping server with localstripe (docs/sepa.md): a purchase debited and
 * settled three days later, past its deadline; a change debited and applied once settled; a mandate replaced; the renewal's debit failing two days after
 * the period end (dunning); the mandate then revoked.
 */
async function recordSepa(): Promise<void> {
  if (!wanted('subscription-sepa')) return;
  const stack = await startTimeSkippingStack('histories-sepa', { stripe: 'localstripe' });
  const { env, h, app } = stack;
  const apiBase = h.localstripe!.apiBase;
  const sub = (baseId: string) => stateOf(env.client, baseId);
  try {
    const machine = await registerMachine(h);
    const res = await buy(h, app, machine, {});
    const handle = env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
    const firstRun = (await handle.describe()).runId;
    const { paymentUrl, paymentIntentId } = (
      res.body as { payment: { paymentUrl: string; paymentIntentId: string } }
    ).payment;
    const first = await sepaAccount(h.stripe, IBAN.SUCCEEDS_LATER);
    await confirmOnPage(app, paymentUrl, { paymentMethodId: first.id, mandateAccepted: true });
    await env.sleep(3 * 86_400_000);
    await releaseDebit(apiBase, paymentIntentId);
    const active = await until(
      () => sub(machine.baseId),
      (s) => s.status === 'ACTIVE',
      'activation',
    );
    // an extra connection debited under the mandate: answered at once, applied when the debit settles
    const beforeChange = await heldDebits(apiBase);
    await request(app)
      .post(`/bases/${machine.baseId}/licence/changes`)
      .set(bearer(machine.apiKey))
      .send({ connections: 2 });
    const change = await nextHeldDebit(apiBase, beforeChange);
    await releaseDebit(apiBase, change);
    await until(
      () => sub(machine.baseId),
      (s) => s.terms.connections === 2,
      'the change applied',
    );

    const link = await request(app)
      .post(`/bases/${machine.baseId}/licence/card-change`)
      .set(bearer(machine.apiKey));
    const url = (link.body as { cardChangeUrl: string }).cardChangeUrl;
    const page = await request(app).get(payPath(url));
    const setupIntentId = /"setupIntentId":"(seti_\w+)"/.exec(page.text)![1]!;
    const second = await sepaAccount(h.stripe, IBAN.FAILS_LATER);
    await confirmOnPage(app, url, { paymentMethodId: second.id, setupIntentId, mandateAccepted: true });
    await request(app).get(`${payPath(url)}/status?setupIntent=${setupIntentId}`);
    await until(
      () => sub(machine.baseId),
      (s) => s.paymentMethodId === second.id,
      'the mandate replaced',
    );

    const held = await heldDebits(apiBase);
    await env.sleep(startOfDayMs(active.periodEnd!) + 3_600_000 - (await env.currentTimeMs()));
    const renewal = await nextHeldDebit(apiBase, held);
    await env.sleep(2 * 86_400_000);
    await releaseDebit(apiBase, renewal);
    await until(
      () => sub(machine.baseId),
      (s) => s.status === 'PAST_DUE',
      'dunning',
    );
    await request(app).delete(`/bases/${machine.baseId}/licence/payment-method`).set(bearer(machine.apiKey));
    await until(
      () => sub(machine.baseId),
      (s) => s.paymentMethodId === undefined,
      'the mandate revoked',
    );
    await save(
      'subscription-sepa',
      env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId), firstRun),
    );
    await handle.terminate('recorded');
  } finally {
    await stack.close();
  }
}

async function main(): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  installTestRuntime();
  await globalSetup();
  const recorder = await startStripeRecorder();
  // stripe-mock answers every refund with one fixture id: each gets its own, as at Stripe
  answerRefundsLikeStripe(recorder);
  // stripe-mock can't take money: created PaymentIntents look succeeded (off-session renewals)
  recorder.answer(
    { method: 'POST', path: '/v1/payment_intents' },
    { patch: (pi) => ({ ...pi, status: 'succeeded' }) },
    Infinity,
  );
  try {
    await recordOnDevServer(recorder);
    await recordOnTimeSkippingServer(recorder);
    await recordSepa();
  } finally {
    await recorder.stop();
    await globalTeardown();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
