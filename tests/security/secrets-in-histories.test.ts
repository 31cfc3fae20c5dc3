/**
 * No secret in clear in Temporal histories (docs/security.md): the codes users type back (update arguments)
 * are encrypted by the payload codec (infra/payload-codec.ts) before they reach the Temporal server, and
 * Stripe client secrets never enter a workflow at all (the workflow answers the PaymentIntent's id; the
 * service reads the secret from Stripe by id). The test reads the real histories from the server, as anyone
 * with access to its database would, and finds neither the codes nor the client secrets — in the history's
 * JSON nor in any payload's bytes; decrypted with the key, the same histories hold the codes, and still no
 * client secret.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { PayloadCodec } from '@temporalio/common';
import request from 'supertest';
import { decodePayloadsIn } from '../../infra/payload-codec';
import { creditPurchaseWorkflowId, subscriptionWorkflowId, workflowIds } from '../../workflows/ids';
import { bearer, PASSWORD, registerMachine, waitForCode } from '../helpers/api';
import { companyDetails, createHarness, uniqueEmail, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Everything a reader of the Temporal database sees: the history as JSON, and every payload's bytes as text. */
function readable(history: unknown): string {
  const texts: string[] = [historyToJSON(history as never)];
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    if (ArrayBuffer.isView(node)) {
      texts.push(Buffer.from(node.buffer, node.byteOffset, node.byteLength).toString('utf8'));
      return;
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(history);
  return texts.join('\n');
}

const clientSecretIn = (body: unknown) => /"clientSecret":"([^"]+)"/.exec(JSON.stringify(body))?.[1];

it('codes typed back are not in clear in the histories, and Stripe client secrets not in them at all', async () => {
  const machine = await registerMachine(h);
  const email = uniqueEmail();
  const created = await request(h.app)
    .post('/accounts')
    .set(bearer(machine.apiKey))
    .send({ ...companyDetails(), email });
  expect(created.status).toBe(202);
  const accountId = created.body.accountId as number;
  const code = await waitForCode(h, email);
  const wrong = code === '000000' ? '987654' : String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  const confirm = (c: string) =>
    request(h.app)
      .post(`/accounts/${accountId}/confirmation`)
      .set(bearer(machine.apiKey))
      .send({ code: c, password: PASSWORD });
  expect((await confirm(wrong)).body.error.code).toBe('CODE_INVALID');
  expect((await confirm(code)).status).toBe(200);

  const recharge = await request(h.app)
    .post(`/accounts/${accountId}/credit-purchases`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `history-${accountId}`,
      product: { kind: 'WALLET_RECHARGE', amountCents: 2000 },
    });
  expect(recharge.status).toBe(201);
  const rechargeSecret = clientSecretIn(recharge.body);

  const licence = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `history-licence-${machine.baseId}`,
      edition: 'STANDARD',
      mode: 'CLOUD',
      connections: 2,
      period: 'ANNUAL',
      paymentMethod: 'ONLINE',
      billing: {
        companyName: 'Boulangerie Martin',
        lastName: 'Martin',
        firstName: 'Paul',
        address: '3 avenue Foch',
        postalCode: '69006',
        city: 'Lyon',
        country: 'FRA',
        email,
      },
      terms: { version: '2026-01', accepted: true },
    });
  expect({ status: licence.status, body: licence.status === 201 ? null : licence.body }).toEqual({
    status: 201,
    body: null,
  });
  const licenceSecret = clientSecretIn(licence.body);
  expect(rechargeSecret).toMatch(/secret/);
  expect(licenceSecret).toMatch(/secret/);

  const codec = h.dataConverter.payloadCodecs![0] as PayloadCodec;
  const cases = [
    { workflowId: workflowIds.accountConfirmation(email), secrets: [code, wrong], kept: true },
    {
      workflowId: creditPurchaseWorkflowId(recharge.body.purchaseId),
      secrets: [rechargeSecret!],
      kept: false,
    },
    { workflowId: subscriptionWorkflowId(machine.baseId), secrets: [licenceSecret!], kept: false },
  ];
  for (const { workflowId, secrets, kept } of cases) {
    const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
    const stored = readable(history);
    const decrypted = readable(await decodePayloadsIn(history, codec));
    for (const secret of secrets) {
      expect({ workflowId, secret, inClear: stored.includes(secret) }).toEqual({
        workflowId,
        secret,
        inClear: false,
      });
      // a code is carried, encrypted: the codec's key reads it back; a client secret is not carried at all
      expect({ workflowId, secret, withKey: decrypted.includes(secret) }).toEqual({
        workflowId,
        secret,
        withKey: kept,
      });
    }
  }
});
