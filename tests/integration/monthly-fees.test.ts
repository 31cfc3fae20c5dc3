/**
 * Monthly app fees on the real Temporal dev server: the schedule, triggered twice for the same month,
 * charges each subscribed app once; a late run for a past month charges that month; an empty wallet is
 * reported, not charged.
 */
import crypto from 'node:crypto';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import request from 'supertest';
import { previousMonth } from '../../domain/consumption-invoice';
import { monthOf } from '../../domain/credits';
import { ensureMonthlyFeesSchedule } from '../../services/credits/monthly-fees-schedule';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { monthlyFeesWorkflow, type MonthlyFeesResult } from '../../workflows/monthly-fees';
import { bearer, confirmedAccount } from '../helpers/api';
import { eventually } from '../helpers/credits';
import { createHarness, type Harness } from '../helpers/harness';

let h: Harness;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'paul', role: 'OPS' })).token;
});
afterAll(async () => {
  await h?.close();
});

/** An account whose wallet holds `cents`, credited straight in the ledger (the card flow is tested elsewhere). */
async function accountWithWallet(cents: number) {
  const account = await confirmedAccount(h);
  await h.prisma.$transaction(async (tx) => {
    await tx.creditBalance.create({
      data: { accountId: account.accountId, ledger: 'WALLET', balance: cents },
    });
    await tx.creditEntry.create({
      data: {
        accountId: account.accountId,
        ledger: 'WALLET',
        idempotencyKey: `test-recharge:${account.accountId}`,
        fingerprint: 'test',
        amount: cents,
        balanceAfter: cents,
        type: 'recharge',
        occurredAt: new Date(),
        actorType: 'SYSTEM',
      },
    });
  });
  return account;
}

async function subscribe(accountId: number, app: string, label: string, sinceMonth: string) {
  const res = await request(h.app)
    .post(`/ops/accounts/${accountId}/apps`)
    .set(bearer(ops))
    .send({ app, label, monthlyFeeCents: 250, staff: 'Philippe Lemaire', sinceMonth });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

it('the schedule triggered twice for the same month charges each app once', async () => {
  const month = monthOf(new Date());
  const account = await accountWithWallet(10000);
  await subscribe(account.accountId, 'reception', 'App de Réception frais mensuels', '2019-01');
  await subscribe(account.accountId, 'reception', 'App de Réception frais mensuels', month);
  await subscribe(account.accountId, 'inspector', "App d'inspecteur frais mensuels", '2019-01');
  const ended = await subscribe(account.accountId, 'workshop', 'Workshopp app coût mensuel', '2019-01');
  const stop = await request(h.app)
    .post(`/ops/accounts/${account.accountId}/apps/${ended}/end`)
    .set(bearer(ops))
    .send({ untilMonth: '2020-12' });
  expect(stop.body.untilMonth).toBe('2020-12');

  const scheduleId = `monthly-fees-test-${crypto.randomUUID()}`;
  expect(await ensureMonthlyFeesSchedule(h.temporal, { taskQueue: h.taskQueue, scheduleId })).toEqual({
    scheduleId,
    created: true,
  });
  // at every start-up: the existing schedule is kept
  expect((await ensureMonthlyFeesSchedule(h.temporal, { taskQueue: h.taskQueue, scheduleId })).created).toBe(
    false,
  );
  const schedule = h.temporal.schedule.getHandle(scheduleId);
  try {
    const described = await schedule.describe();
    expect(described.spec.calendars?.[0]).toMatchObject({ dayOfMonth: [{ start: 1, end: 1, step: 1 }] });
    expect(described.policies.catchupWindow).toBe(7 * 24 * 3600 * 1000);

    // a scheduled run's workflow id ends with its start time to the second: the second trigger comes in
    // another second, once the first run is over
    await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const first = await eventually(
      () => schedule.describe(),
      (d) => d.info.recentActions.length >= 1,
    );
    const firstRun = first.info.recentActions[0]!;
    await h.temporal.workflow.getHandle(firstRun.action.workflow.workflowId).result();
    await eventually(
      async () => Math.floor(Date.now() / 1000),
      (second) => second > Math.floor(firstRun.takenAt.getTime() / 1000),
    );
    await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const runs = await eventually(
      () => schedule.describe(),
      (d) => d.info.recentActions.length >= 2,
    );
    expect(runs.info.recentActions).toHaveLength(2);
    const results: MonthlyFeesResult[] = await Promise.all(
      runs.info.recentActions.map((a) =>
        h.temporal.workflow.getHandle<typeof monthlyFeesWorkflow>(a.action.workflow.workflowId).result(),
      ),
    );
    expect(results.map((r) => r.month)).toEqual([month, month]);
    // after the month's fees, each run invoiced the previous month's consumption (nothing spent here)
    expect(results.map((r) => r.consumption?.month)).toEqual([previousMonth(month), previousMonth(month)]);
    // one run charged the three apps due, the other found them charged; the ended app is not due
    expect(results.map((r) => [r.outcomes.CHARGED, r.outcomes.ALREADY_CHARGED]).sort()).toEqual([
      [0, 3],
      [3, 0],
    ]);
  } finally {
    await schedule.delete();
  }

  const fees = await h.prisma.creditEntry.findMany({
    where: { accountId: account.accountId, ledger: 'WALLET', amount: { lt: 0 } },
  });
  expect(fees.map((f) => [f.type, f.amount, f.idempotencyKey.endsWith(`:${month}`)]).sort()).toEqual(
    [
      ['App de Réception frais mensuels', -250, true],
      ['App de Réception frais mensuels', -250, true],
      ["App d'inspecteur frais mensuels", -250, true],
    ].sort(),
  );
  const wallet = await request(h.app)
    .get(`/accounts/${account.accountId}/wallet`)
    .set(bearer(account.apiKey));
  expect(wallet.body.balanceCents).toBe(10000 - 3 * 250);
});

it('a late run for a past month charges that month once; an empty wallet is reported and not charged', async () => {
  const rich = await accountWithWallet(1000);
  const poor = await confirmedAccount(h);
  await subscribe(rich.accountId, 'inspector', "App d'inspecteur frais mensuels", '2026-01');
  const poorApp = await subscribe(poor.accountId, 'inspector', "App d'inspecteur frais mensuels", '2026-01');

  const run = (id: string) =>
    h.temporal.workflow.execute(monthlyFeesWorkflow, {
      workflowId: id,
      taskQueue: h.taskQueue,
      args: [{ month: '2026-02' }],
    });
  const first = await run(`fees-${crypto.randomUUID()}`);
  const second = await run(`fees-${crypto.randomUUID()}`);
  expect(first.month).toBe('2026-02');
  expect(first.refused).toContainEqual({ accountId: poor.accountId, accountAppId: poorApp });
  expect(second.outcomes.CHARGED).toBe(0);

  const fees = await h.prisma.creditEntry.findMany({
    where: { accountId: rich.accountId, amount: { lt: 0 } },
  });
  expect(fees).toHaveLength(1);
  expect(fees[0]!.occurredAt.toISOString()).toBe('2026-02-01T00:00:00.000Z');
  expect(await h.prisma.creditEntry.count({ where: { accountId: poor.accountId } })).toBe(0);
  // a fee for an app not yet subscribed that month is not charged
  expect((await run(`fees-${crypto.randomUUID()}`)).month).toBe('2026-02');
  expect(await h.prisma.creditEntry.count({ where: { accountId: rich.accountId, amount: { lt: 0 } } })).toBe(
    1,
  );
});
