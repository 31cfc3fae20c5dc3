/**
 * Bad input that used to reach PostgreSQL or crash the parser (docs/bad-input.md): NUL bytes and lone
 * surrogates in any text, body-parser failures (charset, encoding, corrupt compression, size, nesting).
 * Each is refused with a documented code and status, before any handler runs, and nothing is written.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import request from 'supertest';
import { bearer, confirmedAccount, registerMachine } from '../helpers/api';
import { companyDetails, createHarness, randomBaseId, uniqueEmail, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const counts = async () => ({
  installations: await h.prisma.installation.count(),
  accounts: await h.prisma.account.count(),
  bases: await h.prisma.base.count(),
});

describe('text that PostgreSQL cannot store', () => {
  const bad = { nul: 'POSTE\u0000-1', surrogate: 'POSTE-\ud800-1', lowSurrogate: 'POSTE-\udc00' };

  it.each(Object.entries(bad))(
    '%s in an open route (POST /installations): 400, nothing written',
    async (_, name) => {
      const before = await counts();
      const res = await request(h.app)
        .post('/installations')
        .send({ baseId: randomBaseId(), machineName: name });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details.fields).toEqual([
        expect.objectContaining({
          path: 'body.machineName',
          message: expect.stringMatching(/NUL|surrogate/),
        }),
      ]);
      expect(await counts()).toEqual(before);
    },
  );

  it('in a nested field, a key, the query or the path: 400', async () => {
    const machine = await registerMachine(h);
    const details = companyDetails();
    const nested = await request(h.app)
      .post('/accounts')
      .set(bearer(machine.apiKey))
      .send({ ...details, city: 'Lyon\u0000', email: uniqueEmail() });
    expect(nested.status).toBe(400);
    expect(nested.body.error.details.fields[0].path).toBe('body.city');

    const key = await request(h.app)
      .post('/licences/verify')
      .send({ file: { ['\ud83d']: 1 } });
    expect(key.status).toBe(400);

    const query = await request(h.app)
      .get(`/bases/${machine.baseId}/session-journal?cursor=%00`)
      .set(bearer(machine.apiKey));
    expect(query.status).toBe(400);

    const param = await request(h.app).delete(`/sessions/%00`).set(bearer(machine.apiKey));
    expect(param.status).toBe(400);
  });

  it('a well-formed surrogate pair (an emoji) is ordinary text', async () => {
    const res = await request(h.app)
      .post('/installations')
      .send({ baseId: randomBaseId(), machineName: 'POSTE 🙂' });
    expect(res.status).toBe(201);
  });
});

it('a purchase billed to an unknown country (three letters, not ISO 3166): 400, not a 500', async () => {
  const machine = await registerMachine(h);
  const res = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: 'unknown-country-1',
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 2,
      period: 'ANNUAL',
      paymentMethod: 'CHEQUE',
      terms: { version: '2026-01', accepted: true },
      billing: { ...companyDetails(), country: 'CFD', email: uniqueEmail() },
    });
  expect(res.status).toBe(400);
  expect(res.body.error.details.fields).toEqual([
    expect.objectContaining({ path: 'body.billing.country', message: 'unknown country code' }),
  ]);
});

describe('bodies the parser refuses', () => {
  const json = (o: unknown) => Buffer.from(JSON.stringify(o));
  const body = () => json({ baseId: randomBaseId(), machineName: 'POSTE-1' });

  it('charset other than UTF-8: 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await request(h.app)
      .post('/installations')
      .set('content-type', 'application/json; charset=latin1')
      .send(body());
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('an unknown Content-Encoding: 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await request(h.app)
      .post('/installations')
      .set('content-type', 'application/json')
      .set('content-encoding', 'zstd-x')
      .send(body());
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it.each(['gzip', 'br', 'deflate'])('corrupt %s: 400 MALFORMED_BODY', async (encoding) => {
    const res = await request(h.app)
      .post('/installations')
      .set('content-type', 'application/json')
      .set('content-encoding', encoding)
      .send(Buffer.from('this is not compressed at all, not at all'));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('MALFORMED_BODY');
  });

  it('a valid gzip body is read', async () => {
    // raw HTTP: supertest does not send a pre-compressed body as it is
    const server = h.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const compressed = zlib.gzipSync(body());
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          port: (server.address() as AddressInfo).port,
          host: '127.0.0.1',
          path: '/installations',
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            'content-length': compressed.length,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(compressed);
    });
    await new Promise((r) => server.close(r));
    expect(status).toBe(201);
  });

  it('a body over the 1 MB limit: 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await request(h.app)
      .post('/installations')
      .set('content-type', 'application/json')
      .send(json({ baseId: randomBaseId(), machineName: 'x'.repeat(2 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('10,000 levels of nesting on an open route: 400 MALFORMED_BODY, not a stack overflow', async () => {
    const deep = '{"file":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '}';
    const res = await request(h.app)
      .post('/licences/verify')
      .set('content-type', 'application/json')
      .send(deep);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('MALFORMED_BODY');
    const arrays = '{"file":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
    const res2 = await request(h.app)
      .post('/licences/verify')
      .set('content-type', 'application/json')
      .send(arrays);
    expect(res2.status).toBe(400);
  });

  it('the Stripe webhook answers the same codes', async () => {
    const res = await request(h.app)
      .post('/webhooks/stripe')
      .set('content-type', 'application/json')
      .set('content-encoding', 'gzip')
      .send(Buffer.from('not gzip'));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('MALFORMED_BODY');
  });
});

it('a confirmed account still works end to end (sanity)', async () => {
  const { accountId, apiKey } = await confirmedAccount(h);
  const res = await request(h.app).get(`/accounts/${accountId}`).set(bearer(apiKey));
  expect(res.status).toBe(200);
});
