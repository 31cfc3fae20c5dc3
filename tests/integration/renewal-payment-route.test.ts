/**
 * POST /ops/bases/{baseId}/renewal-payment: ops confirm the cheque paying a renewal's invoice to pay, over
 * HTTP (real PostgreSQL, the Temporal dev server, the SMTP catcher). The second confirmation is refused with
 * its documented code and changes nothing; a base without a waiting invoice is refused too.
 */
import request from 'supertest';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { bearer, licenceOrder, registerMachine } from '../helpers/api';
import { until } from '../helpers/faults';
import { createHarness, uniqueEmail, type Harness } from '../helpers/harness';
import { opsToken } from '../helpers/ops';

let h: Harness;
let ops: string;

beforeAll(async () => {
  // a notice longer than a month: the monthly licence's invoice to pay is mailed at its activation
  h = await createHarness({ billing: { offlineRenewalNoticeDays: 40 } });
  ops = await opsToken(h);
});

afterAll(async () => {
  await h?.close();
});

it('confirms a renewal paid by cheque once; a second confirmation is refused (409)', async () => {
  const machine = await registerMachine(h);
  const email = uniqueEmail('compta');
  const bought = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send(licenceOrder(machine.baseId, { email, paymentMethod: 'CHEQUE' }));
  expect(bought.status).toBe(201);

  // nothing to confirm yet: the purchase itself is waiting
  const early = await request(h.app)
    .post(`/ops/bases/${machine.baseId}/renewal-payment`)
    .set(bearer(ops))
    .send({ reference: 'CHQ-0' });
  expect(early.status).toBe(409);
  expect(early.body.error.code).toBe('PURCHASE_NOT_AWAITING_OPS');

  const activated = await request(h.app)
    .post(`/ops/manual-payments/${bought.body.purchaseId}/confirm`)
    .set(bearer(ops))
    .send({ reference: 'CHQ-1' });
  expect(activated.status).toBe(200);
  const handle = h.temporal.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
  const waiting = await until(
    () => handle.query(getSubscriptionStateQuery),
    (s) => s.offlineRenewal !== undefined,
    'the invoice to pay',
  );

  const confirmed = await request(h.app)
    .post(`/ops/bases/${machine.baseId}/renewal-payment`)
    .set(bearer(ops))
    .send({ reference: 'CHQ-2', reason: 'cheque received by post' });
  expect(confirmed.status).toBe(200);
  expect(confirmed.body).toMatchObject({ baseId: machine.baseId, status: 'ACTIVE' });
  expect(confirmed.body.paidUntil).not.toBe(waiting.periodEnd);

  const again = await request(h.app)
    .post(`/ops/bases/${machine.baseId}/renewal-payment`)
    .set(bearer(ops))
    .send({ reference: 'CHQ-2' });
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('PURCHASE_NOT_AWAITING_OPS');

  const payments = await h.prisma.payment.findMany({ where: { licenceId: waiting.licenceId } });
  expect(payments.map((p) => p.providerRef).sort()).toEqual(['CHQ-1', 'CHQ-2']);
  expect(await h.prisma.invoice.count({ where: { licenceId: waiting.licenceId } })).toBe(2);
  const audited = await h.prisma.auditLog.count({
    where: { action: 'ops.renewal_payment_confirmed', entityId: waiting.licenceId },
  });
  expect(audited).toBe(1);
  await handle.terminate('test over');
});
