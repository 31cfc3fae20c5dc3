/**
 * The ops command line over the HTTP API, run as a real process against the app listening on a port:
 * tables for people, --json for scripts, a progress line per payment in a bulk replay, exit codes.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { confirmedAccount } from '../helpers/api';
import { createHarness, type Harness } from '../helpers/harness';
import {
  awaitingOpsPurchase,
  opsToken,
  pastDueLicence,
  renewalToPay,
  unmatchedPurchase,
} from '../helpers/ops';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';

jest.setTimeout(180_000);

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
let h: Harness;
let recorder: StripeRecorder;
let server: Server;
let url: string;
let token: string;

beforeAll(async () => {
  recorder = await startStripeRecorder();
  h = await createHarness({ stripeApiBase: recorder.url });
  token = await opsToken(h, 'compta');
  server = await new Promise<Server>((resolve) => {
    const s = h.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
  await recorder?.stop();
});

const ops = (args: string[], env: Record<string, string> = {}) =>
  run(path.join(root, 'node_modules', '.bin', 'tsx'), ['cli/ops.ts', ...args], {
    cwd: root,
    env: { ...process.env, OPS_API_URL: url, OPS_TOKEN: token, ...env },
  });
/** the exit code, stdout and stderr, whether it succeeded or not */
const outcome = (args: string[], env: Record<string, string> = {}) =>
  ops(args, env).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );

it('failed payments: a table, then a bulk dry run that changes nothing, then the bulk replay with progress; a second replay is ALREADY_PAID', async () => {
  const past = await pastDueLicence(h, recorder);

  const listed = await ops(['payments:failed', '--kind', 'renewal']);
  expect(listed.stdout).toMatch(/^id\s+kind\s+baseId\s+accountId/m);
  expect(listed.stdout).toContain(past.baseId);
  expect(listed.stdout).toMatch(
    new RegExp(`${past.paymentId}\\s+RENEWAL\\s+${past.baseId}.*insufficient_funds`),
  );

  const dry = await ops([
    'payments:replay-bulk',
    '--filter',
    `baseId=${past.baseId}`,
    '--dry-run',
    '--reason',
    'monthly retry',
    '--json',
  ]);
  expect(JSON.parse(dry.stdout)).toMatchObject({
    dryRun: true,
    matched: 1,
    items: [expect.objectContaining({ paymentId: past.paymentId, outcome: 'WOULD_REPLAY' })],
  });
  expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: past.licenceId } })).status).toBe(
    'PAST_DUE',
  );

  const bulk = await outcome([
    'payments:replay-bulk',
    '--filter',
    `baseId=${past.baseId}`,
    '--reason',
    'monthly retry',
  ]);
  expect(bulk.code).toBe(0);
  expect(bulk.stderr).toMatch(new RegExp(`^\\[1/1\\] ${past.paymentId} base ${past.baseId}: PAID`, 'm'));
  expect(bulk.stdout).toContain('1 of 1 paid or already paid');
  expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: past.licenceId } })).status).toBe('ACTIVE');

  const again = await ops(['payments:replay', past.paymentId, '--reason', 'checking', '--json']);
  expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'ALREADY_PAID' });
});

it('unmatched purchases: listed and assigned; a second assign fails with exit 1 and the API error code', async () => {
  const queued = await unmatchedPurchase(h, 15);
  const { accountId } = await confirmedAccount(h);
  const listed = await ops(['purchases:unmatched', '--json']);
  expect(JSON.parse(listed.stdout)).toEqual(
    expect.arrayContaining([expect.objectContaining({ purchaseId: queued.purchaseId, status: 'UNMATCHED' })]),
  );
  const assigned = await ops(['purchases:assign', queued.purchaseId, String(accountId)]);
  expect(assigned.stdout).toContain(`credited to account ${accountId}`);
  const twice = await outcome(['purchases:assign', queued.purchaseId, String(accountId)]);
  expect(twice.code).toBe(1);
  expect(twice.stderr).toContain('PURCHASE_NOT_UNMATCHED');
  expect(await h.prisma.creditEntry.count({ where: { accountId } })).toBe(1);
});

it('manual payments and free licences: listed, cancelled, approved; stuck workflows listed', async () => {
  const cheque = await awaitingOpsPurchase(h, 'CHEQUE');
  const free = await awaitingOpsPurchase(h, 'FREE');
  expect((await ops(['manual-payments:list'])).stdout).toContain(cheque.purchaseId);
  expect((await ops(['free-licences:list'])).stdout).toContain(free.purchaseId);

  const stuck = await ops(['workflows:stuck', '--older-than', '0', '--waiting-on', 'ops', '--json']);
  expect(JSON.parse(stuck.stdout).map((w: { workflowId: string }) => w.workflowId)).toEqual(
    expect.arrayContaining([`subscription:${cheque.baseId}`, `subscription:${free.baseId}`]),
  );

  const cancelled = await ops([
    'manual-payments:cancel',
    cheque.purchaseId,
    '--reason',
    'paid by card instead',
  ]);
  expect(cancelled.stdout).toContain(`base ${cheque.baseId}: purchase CANCELLED`);
  const approved = await ops(['free-licences:approve', free.purchaseId, '--reason', 'statuts reçus']);
  expect(approved.stdout).toContain('licence ACTIVE');
  expect(
    await h.prisma.auditLog.count({
      where: { actorType: 'OPS', actorId: 'compta', entityId: { in: [cheque.purchaseId, free.purchaseId] } },
    }),
  ).toBe(2);
});

it('renewals to pay: listed (table and --json), confirmed once; a second confirmation exits 1 with its code', async () => {
  const toPay = await renewalToPay(h, token);
  const listed = await ops(['renewals-to-pay:list']);
  expect(listed.stdout).toMatch(/^baseId\s+licenceId\s+holderName\s+paymentMethod\s+amount\s+dueOn/m);
  expect(listed.stdout).toMatch(
    new RegExp(
      `${toPay.baseId}\\s+${toPay.licenceId}.*CHEQUE\\s+${(toPay.invoiceToPay.amountCents / 100).toFixed(2)}\\s+${toPay.invoiceToPay.dueOn}\\s+0\\s+RENEW_NOW`,
    ),
  );
  const json = JSON.parse((await ops(['renewals-to-pay:list', '--json'])).stdout) as { baseId: string }[];
  expect(json.find((r) => r.baseId === toPay.baseId)).toMatchObject({
    licenceId: toPay.licenceId,
    amountCents: toPay.invoiceToPay.amountCents,
    remindersSent: 0,
  });

  expect((await outcome(['renewals-to-pay:confirm', toPay.baseId])).code).toBe(2); // no --reference
  const confirmed = await ops([
    'renewals-to-pay:confirm',
    toPay.baseId,
    '--reference',
    'VIR-CLI',
    '--reason',
    'bank statement',
  ]);
  expect(confirmed.stdout).toContain(
    `base ${toPay.baseId}: renewal paid, licence ACTIVE until ${toPay.invoiceToPay.periodEnd}`,
  );
  const again = await outcome(['renewals-to-pay:confirm', toPay.baseId, '--reference', 'VIR-CLI']);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('PURCHASE_NOT_AWAITING_OPS');
  expect((await ops(['renewals-to-pay:list'])).stdout).not.toContain(toPay.baseId);
  expect(
    await h.prisma.payment.count({ where: { licenceId: toPay.licenceId, providerRef: 'VIR-CLI' } }),
  ).toBe(1);
});

it('exit codes: 2 for usage (no reason, no token, bad filter), 1 for a refused token or an unreachable API', async () => {
  const noReason = await outcome(['payments:replay', '00000000-0000-4000-8000-000000000000']);
  expect(noReason).toMatchObject({ code: 2, stderr: expect.stringContaining('--reason') });
  const noToken = await outcome(['payments:failed'], { OPS_TOKEN: '' });
  expect(noToken).toMatchObject({ code: 2, stderr: expect.stringContaining('OPS_TOKEN') });
  const badFilter = await outcome(['payments:replay-bulk', '--reason', 'x y z', '--filter', 'amount=3']);
  expect(badFilter.code).toBe(2);
  const refused = await outcome(['payments:failed'], { OPS_TOKEN: 'ops_not-a-token' });
  expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('UNAUTHENTICATED') });
  const down = await outcome(['payments:failed', '--url', 'http://127.0.0.1:9']);
  expect(down).toMatchObject({ code: 1, stderr: expect.stringContaining('unreachable') });
});
