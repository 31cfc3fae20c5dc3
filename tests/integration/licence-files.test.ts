/**
 * Signed licence files end to end: issued by the API for a base, verified offline with the standalone
 * verifier and only the public key, checked by POST /licences/verify, restored after a local clear, and
 * still valid across a key rotation.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import {
  addDays,
  addMonthsAnchored,
  formatLocalDate,
  localDateParts,
  parseLocalDate,
} from '../../domain/periods';
import type { LocalDate } from '../../domain/periods';
import { generateLicenceKey, loadLicenceKeyRing } from '../../infra/licence-keys';
import { issueLicenceFile } from '../../services/licences/issue-licence-file';
import { verifyLicenceFile as verifyOnServer } from '../../services/licences/verify-licence-file';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { verifyLicenceFile } from '../../verifier/licence-verifier';
import { bearer, registerMachine } from '../helpers/api';
import { createHarness, randomBaseId, type Harness } from '../helpers/harness';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const today = () => new Date().toISOString().slice(0, 10) as LocalDate;

/** The current yearly period around today (2026-11-01..2027-11-01 when written): the routes use the clock. */
function currentYear() {
  const { year, month } = localDateParts(parseLocalDate(today()));
  const start = formatLocalDate({ year, month, day: 1 });
  return { periodStart: start, periodEnd: addMonthsAnchored(start, 12, 1) };
}

async function insertLicence(baseId: string, overrides: Record<string, unknown> = {}) {
  return h.prisma.licence.create({
    data: {
      baseId,
      edition: 'ENTERPRISE',
      mode: 'CLOUD',
      connections: 3,
      period: 'ANNUAL',
      status: 'ACTIVE',
      holderName: 'Boulangerie Dupont',
      ...currentYear(),
      ...overrides,
    },
  });
}

async function fetchFile(baseId: string, token: string) {
  const res = await request(h.app).get(`/bases/${baseId}/licence/file`).set(bearer(token));
  expect(res.status).toBe(200);
  return res;
}

/** The file's text with one byte of its decoded payload changed (JSON still well-formed). */
function tamper(text: string): string {
  const file = JSON.parse(text);
  const payload = Buffer.from(file.payload, 'base64url');
  payload[payload.indexOf('"connections":3') + 14] = '9'.charCodeAt(0);
  return JSON.stringify({ ...file, payload: payload.toString('base64url') });
}

describe('licence files', () => {
  it('issues the base licence as a signed file that verifies offline with the public key only', async () => {
    const machine = await registerMachine(h);
    const licence = await insertLicence(machine.baseId);

    const res = await fetchFile(machine.baseId, machine.apiKey);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="licence-${machine.baseId}.json"`);
    expect(res.body).toMatchObject({ format: 'gestan-licence/1', keyId: 'test-1' });

    // what an ERP keeps from its last time online: the public keys, nothing secret
    const published = await request(h.app).get('/licences/public-keys');
    expect(published.status).toBe(200);
    expect(published.body).toEqual({ activeKeyId: 'test-1', keys: h.services.licenceKeys.publicKeysPem() });
    const pem = published.body.keys['test-1'] as string;
    expect(pem).toContain('BEGIN PUBLIC KEY');

    const offline = verifyLicenceFile(res.text, { 'test-1': pem }, today());
    expect(offline).toEqual({
      valid: true,
      licence: {
        licenceId: licence.id,
        baseId: machine.baseId,
        holder: 'Boulangerie Dupont',
        version: 'A1',
        edition: 'ENTERPRISE',
        mode: 'CLOUD',
        connections: 3,
        period: 'ANNUAL',
        extensions: [],
        validFrom: licence.periodStart,
        // a year paid, but the file lasts until its refresh date (30 days) plus the offline grace (14)
        validUntil: addDays(today(), 44),
        status: 'ACTIVE',
        issuedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        refreshAfter: addDays(today(), 30),
      },
      refreshDue: false,
    });
    // an ERP offline past the refresh date keeps working during the grace, then the file expires
    expect(verifyLicenceFile(res.text, { 'test-1': pem }, addDays(today(), 31))).toMatchObject({
      valid: true,
      refreshDue: true,
    });
    expect(verifyLicenceFile(res.text, { 'test-1': pem }, addDays(today(), 44))).toMatchObject({
      valid: false,
      reason: 'EXPIRED',
    });

    for (const file of [res.body, res.text]) {
      const checked = await request(h.app).post('/licences/verify').send({ file });
      expect(checked.status).toBe(200);
      expect(checked.body).toEqual({ valid: true, licence: offline.valid && offline.licence });
    }
  });

  it('a licence ended early is never signed again: the refresh gives the free licence', async () => {
    const machine = await registerMachine(h);
    const licence = await insertLicence(machine.baseId);
    expect(
      JSON.parse(
        Buffer.from((await fetchFile(machine.baseId, machine.apiKey)).body.payload, 'base64url').toString(),
      ),
    ).toMatchObject({ licenceId: licence.id });
    await h.prisma.licence.update({ where: { id: licence.id }, data: { status: 'ENDED' } });
    const refreshed = await fetchFile(machine.baseId, machine.apiKey);
    const verdict = verifyLicenceFile(refreshed.text, h.services.licenceKeys.publicKeysPem(), today());
    expect(verdict).toMatchObject({
      valid: true,
      licence: { licenceId: null, edition: 'STANDARD', mode: 'LOCAL', extensions: [], refreshAfter: null },
    });
  });

  it('refuses a tampered, foreign-signed or garbage file with 422 and the reason', async () => {
    const machine = await registerMachine(h);
    await insertLicence(machine.baseId);
    const { text } = await fetchFile(machine.baseId, machine.apiKey);

    const tampered = tamper(text);
    expect(verifyLicenceFile(tampered, h.services.licenceKeys.publicKeysPem(), today())).toEqual({
      valid: false,
      reason: 'BAD_SIGNATURE',
    });
    const reasonOf = async (file: unknown) => {
      const res = await request(h.app).post('/licences/verify').send({ file });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('LICENCE_FILE_INVALID');
      return res.body.error.details;
    };
    expect(await reasonOf(tampered)).toEqual({ reason: 'BAD_SIGNATURE' });

    const foreign = crypto.generateKeyPairSync('ed25519').privateKey;
    const payload = Buffer.from(JSON.parse(text).payload, 'base64url');
    const forged = {
      format: 'gestan-licence/1',
      keyId: 'someone-else',
      payload: payload.toString('base64url'),
      signature: crypto.sign(null, payload, foreign).toString('base64url'),
    };
    expect(await reasonOf(forged)).toEqual({ reason: 'UNKNOWN_KEY' });
    expect(await reasonOf({ ...forged, keyId: 'test-1' })).toEqual({ reason: 'BAD_SIGNATURE' });
    expect(await reasonOf('not a licence')).toEqual({ reason: 'MALFORMED' });
    expect(await reasonOf({ hello: 'world' })).toEqual({ reason: 'MALFORMED' });

    const missing = await request(h.app).post('/licences/verify').send({});
    expect(missing.status).toBe(400);
  });

  it('a licence whose period is over gives an EXPIRED file, with its end date', async () => {
    const machine = await registerMachine(h);
    // still ACTIVE in the table (its end not yet processed): the file says what the record says
    await insertLicence(machine.baseId, { periodStart: '2025-01-01', periodEnd: '2026-01-01' });
    const { text } = await fetchFile(machine.baseId, machine.apiKey);
    const res = await request(h.app).post('/licences/verify').send({ file: text });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual({ reason: 'EXPIRED', validUntil: '2026-01-01' });
  });

  it('a base without a usable licence gets a free, perpetual STANDARD LOCAL file', async () => {
    const machine = await registerMachine(h);
    await insertLicence(machine.baseId, {
      status: 'ENDED',
      periodStart: '2025-01-01',
      periodEnd: '2026-01-01',
    });
    await insertLicence(machine.baseId, { status: 'PENDING' });

    const { text } = await fetchFile(machine.baseId, machine.apiKey);
    const verdict = verifyLicenceFile(text, h.services.licenceKeys.publicKeysPem(), today());
    expect(verdict).toMatchObject({
      valid: true,
      licence: {
        licenceId: null,
        baseId: machine.baseId,
        holder: null,
        edition: 'STANDARD',
        mode: 'LOCAL',
        connections: null,
        period: null,
        validUntil: '9999-12-31',
        status: 'ACTIVE',
      },
    });
    expect(verdict.licence!.validFrom < today()).toBe(true);
  });

  it('the newest usable licence wins (PAST_DUE stays usable)', async () => {
    const machine = await registerMachine(h);
    await insertLicence(machine.baseId, {
      edition: 'STANDARD',
      mode: 'LOCAL',
      connections: 1,
      createdAt: new Date(Date.now() - 60_000), // not the same millisecond as the newer one
    });
    const newer = await insertLicence(machine.baseId, { status: 'PAST_DUE', connections: 5 });
    const { text } = await fetchFile(machine.baseId, machine.apiKey);
    expect(verifyLicenceFile(text, h.services.licenceKeys.publicKeysPem(), today())).toMatchObject({
      valid: true,
      licence: { licenceId: newer.id, status: 'PAST_DUE', connections: 5, edition: 'ENTERPRISE' },
    });
  });

  it('during dunning the file stays valid until the last retry, not just to the unpaid period end', async () => {
    const machine = await registerMachine(h);
    // the period ended yesterday and its renewal payment failed: PAST_DUE, retries at +1, +3, +7 days
    const periodEnd = today();
    await insertLicence(machine.baseId, {
      status: 'PAST_DUE',
      periodStart: addDays(parseLocalDate(periodEnd), -365),
      periodEnd,
    });
    const { text } = await fetchFile(machine.baseId, machine.apiKey);
    const lastRetry = addDays(parseLocalDate(periodEnd), Math.max(...h.services.billing.dunningRetryDays));
    const keys = h.services.licenceKeys.publicKeysPem();
    expect(verifyLicenceFile(text, keys, today())).toMatchObject({
      valid: true,
      licence: { status: 'PAST_DUE', validUntil: lastRetry },
    });
    expect(verifyLicenceFile(text, keys, lastRetry)).toMatchObject({ valid: false, reason: 'EXPIRED' });
  });

  it('tenancy: another base key gets 403, no key 401, ops any registered base', async () => {
    const a = await registerMachine(h);
    const b = await registerMachine(h);
    const other = await request(h.app).get(`/bases/${b.baseId}/licence/file`).set(bearer(a.apiKey));
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('BASE_FORBIDDEN');
    expect((await request(h.app).get(`/bases/${b.baseId}/licence/file`)).status).toBe(401);

    const { token } = await createOpsToken(
      h.prisma,
      { type: 'CLI', id: 'test' },
      { name: 'support', role: 'OPS' },
    );
    await fetchFile(b.baseId, token);
    const unknown = await request(h.app).get(`/bases/${randomBaseId()}/licence/file`).set(bearer(token));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('BASE_NOT_FOUND');
  });

  it('clear the local licence, then restore it from the server by base ID: the same licence', async () => {
    const machine = await registerMachine(h);
    await insertLicence(machine.baseId);
    const keys = h.services.licenceKeys.publicKeysPem();
    const first = verifyLicenceFile((await fetchFile(machine.baseId, machine.apiKey)).text, keys, today());

    // the ERP deletes its local file; later, online again, it asks for its base's file
    const restored = verifyLicenceFile((await fetchFile(machine.baseId, machine.apiKey)).text, keys, today());
    expect(first.valid && restored.valid).toBe(true);
    expect({ ...restored.licence, issuedAt: undefined }).toEqual({ ...first.licence, issuedAt: undefined });
  });

  it('key rotation: new files carry the new key id, files of the old key still verify', async () => {
    const machine = await registerMachine(h);
    await insertLicence(machine.baseId);
    const now = new Date();
    const oldFile = JSON.stringify(await issueLicenceFile(h.services, machine.baseId, now));

    generateLicenceKey(h.licenceKeysDir, 'test-2');
    const rotated = loadLicenceKeyRing(h.licenceKeysDir, 'test-2');
    const newFile = await issueLicenceFile({ ...h.services, licenceKeys: rotated }, machine.baseId, now);
    expect(newFile.keyId).toBe('test-2');
    expect(JSON.parse(oldFile).keyId).toBe('test-1');

    const keys = rotated.publicKeysPem();
    expect(Object.keys(keys).sort()).toEqual(['test-1', 'test-2']);
    const a = verifyLicenceFile(oldFile, keys, today());
    const b = verifyLicenceFile(JSON.stringify(newFile), keys, today());
    expect(a.valid && b.valid).toBe(true);
    expect(a.licence).toEqual(b.licence); // same licence, same issue time: only the signature differs
    expect(verifyOnServer({ licenceKeys: rotated }, oldFile, now)).toEqual(a.licence);

    // an ERP that never fetched the new key does not know it yet
    expect(verifyLicenceFile(JSON.stringify(newFile), { 'test-1': keys['test-1']! }, today())).toEqual({
      valid: false,
      reason: 'UNKNOWN_KEY',
    });
  });
});
