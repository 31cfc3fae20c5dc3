/**
 * A migrated A1 licence over its whole life, on the time-skipping test server with the real activities
 * (PostgreSQL, SMTP peer): it stays ACTIVE until the v15 end date, is reminded a week before, and ends on
 * that day exactly (auto-renew off), the base falling back to STANDARD LOCAL.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Express } from 'express';
import request from 'supertest';
import { dayOf, startOfDayMs } from '../../domain/licence';
import { oneMonthAfter } from '../../domain/migration';
import { addDays } from '../../domain/periods';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import { startTimeSkippingStack, type TimeSkippingStack } from '../helpers/time-skipping';
import { uniqueEmail, type Harness } from '../helpers/harness';

let stack: TimeSkippingStack;
let env: TestWorkflowEnvironment;
let h: Harness;
let app: Express;

beforeAll(async () => {
  stack = await startTimeSkippingStack('migrations');
  ({ env, h, app } = stack);
});

afterAll(async () => {
  await stack?.close();
});

it('the migrated licence ends on the v15 end date, after an end reminder, with no charge', async () => {
  const ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'support', role: 'OPS' }))
    .token;
  const { baseId, apiKey } = await registerMachine(h);
  const email = uniqueEmail('v15');
  const endDate = addDays(oneMonthAfter(dayOf(Date.now())), 20);
  await request(app)
    .post('/ops/licences/v15-imports')
    .set(bearer(ops))
    .send([{ baseId, holder: 'Garage Martin', email, edition: 'ENTERPRISE', connections: 5, endDate }])
    .expect(200);
  const migrated = await request(app)
    .post(`/bases/${baseId}/licence/migrations`)
    .set(bearer(apiKey))
    .send({});
  expect(migrated.status).toBe(201);
  const licenceId = migrated.body.a1LicenceId as string;

  const subscription = env.client.workflow.getHandle(subscriptionWorkflowId(baseId));
  const before = await subscription.query(getSubscriptionStateQuery);
  expect(before).toMatchObject({ status: 'ACTIVE', periodIndex: -1, periodEnd: addDays(endDate, 1) });

  // skip to the day before the end: still usable, reminded that it ends
  await env.sleep(startOfDayMs(endDate) + 3_600_000 - (await env.currentTimeMs()));
  expect(await subscription.query(getSubscriptionStateQuery)).toMatchObject({ status: 'ACTIVE' });
  expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).status).toBe('ACTIVE');

  const ended = (await subscription.result()) as SubscriptionState;
  expect(ended).toMatchObject({ status: 'ENDED', licenceId, periodEnd: addDays(endDate, 1) });
  const now = await env.currentTimeMs();
  const endMs = startOfDayMs(addDays(endDate, 1));
  expect(now).toBeGreaterThanOrEqual(endMs);
  expect(now).toBeLessThan(endMs + 3_600_000); // ended at the start of the day after the last v15 day

  expect(await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).toMatchObject({
    status: 'ENDED',
    autoRenew: false,
  });
  expect(await h.prisma.payment.count({ where: { licenceId } })).toBe(0);
  expect(await h.prisma.invoice.count({ where: { licenceId } })).toBe(0);
  await h.mail.waitFor((m) => m.to.includes(email) && m.subject === 'Votre licence a pris fin');
  expect(h.mail.messagesTo(email).map((m) => m.subject)).toEqual([
    'Votre licence Gestan 15 est transférée vers Gestan A1',
    'Votre licence arrive à échéance',
    'Votre licence a pris fin',
  ]);
  expect(h.mail.messagesTo(email)[1]!.text).toContain(`prendra fin le ${endDate} au soir`);

  const screen = await request(app).get(`/bases/${baseId}/licence`).set(bearer(apiKey));
  expect(screen.body).toMatchObject({ status: 'FREE', edition: 'STANDARD', mode: 'LOCAL' });
});
