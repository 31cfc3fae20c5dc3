/**
 * PUT /bases/{id}/licence/auto-renew on a base whose licence ended (its workflow is closed) or was never
 * bought: 422 NO_PAID_LICENCE, and the answer says the way back is a new purchase.
 */
import request from 'supertest';
import { bearer, registerMachine } from '../helpers/api';
import { createHarness, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

it('resuming auto-renew with no licence running points to a new purchase', async () => {
  const machine = await registerMachine(h);
  const res = await request(h.app)
    .put(`/bases/${machine.baseId}/licence/auto-renew`)
    .set(bearer(machine.apiKey))
    .send({ autoRenew: true });
  expect(res.status).toBe(422);
  expect(res.body.error).toEqual({
    code: 'NO_PAID_LICENCE',
    message: expect.stringContaining('buy a new licence'),
    details: { hint: 'NEW_PURCHASE', route: `POST /bases/${machine.baseId}/subscriptions` },
  });
});
