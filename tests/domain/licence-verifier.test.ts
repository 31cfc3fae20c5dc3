/**
 * The standalone licence-file verifier. Files are signed here with node:crypto directly, following
 * docs/licence-file.md, not with the server's signer: the test checks the documented format itself.
 */
import crypto, { type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import {
  verifyLicenceFile,
  type LicenceFilePayload,
  type LicenceFileRejection,
} from '../../verifier/licence-verifier';

const licence: LicenceFilePayload = {
  licenceId: '7f1c2b4e-0d51-4a57-9a55-3f1e0c6a9b21',
  baseId: '82520020025896075',
  holder: 'Boulangerie Dupont',
  version: 'A1',
  edition: 'ENTERPRISE',
  mode: 'CLOUD',
  connections: 3,
  period: 'ANNUAL',
  extensions: ['PAIE', 'STOCKS'],
  validFrom: '2026-11-01',
  validUntil: '2027-11-01',
  status: 'ACTIVE',
  issuedAt: '2026-11-23T12:00:00.000Z',
  refreshAfter: '2027-04-01',
};
const today = '2027-03-14';

function keyPair() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function signBytes(bytes: Buffer, keyId: string, privateKey: KeyObject): string {
  return JSON.stringify({
    format: 'gestan-licence/1',
    keyId,
    payload: bytes.toString('base64url'),
    signature: crypto.sign(null, bytes, privateKey).toString('base64url'),
  });
}

const sign = (payload: unknown, keyId: string, privateKey: KeyObject) =>
  signBytes(Buffer.from(JSON.stringify(payload)), keyId, privateKey);

const old = keyPair();
const current = keyPair();
const keys = { 'k-old': old.pem, 'k-new': current.pem };
const file = sign(licence, 'k-new', current.privateKey);

/** Re-encodes one field of the envelope after changing its decoded bytes. */
function withField(text: string, field: 'payload' | 'signature', change: (bytes: Buffer) => void): string {
  const envelope = JSON.parse(text) as Record<string, string>;
  const bytes = Buffer.from(envelope[field]!, 'base64url');
  change(bytes);
  return JSON.stringify({ ...envelope, [field]: bytes.toString('base64url') });
}

const reasonOf = (text: string, at = today) => {
  const verdict = verifyLicenceFile(text, keys, at);
  return verdict.valid ? 'VALID' : verdict.reason;
};

describe('licence file verifier', () => {
  it('accepts a file signed with a known key and returns its licence', () => {
    expect(verifyLicenceFile(file, keys, today)).toEqual({ valid: true, licence, refreshDue: false });
    expect(verifyLicenceFile(file, { 'k-new': current.pem }, today).valid).toBe(true);
  });

  it('refuses a changed byte of the payload or of the signature: BAD_SIGNATURE', () => {
    const payloadFlipped = withField(file, 'payload', (b) => void (b[20]! ^= 0x01));
    expect(reasonOf(payloadFlipped)).toBe('BAD_SIGNATURE');
    const signatureFlipped = withField(file, 'signature', (b) => void (b[0]! ^= 0x80));
    expect(reasonOf(signatureFlipped)).toBe('BAD_SIGNATURE');
    const truncated = withField(file, 'signature', (b) => b.fill(0));
    expect(reasonOf(truncated)).toBe('BAD_SIGNATURE');
  });

  it('refuses a non-canonical base64url spelling that would decode to the same bytes', () => {
    const envelope = JSON.parse(file) as Record<string, string>;
    // 64 signature bytes = 86 characters, the last one carries 4 unused bits: 'A'..'P' share the same value
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const original = Buffer.from(envelope.signature!, 'base64url');
    const twin = [...alphabet]
      .map((c) => envelope.signature!.slice(0, -1) + c)
      .find((t) => t !== envelope.signature && Buffer.from(t, 'base64url').equals(original))!;
    expect(Buffer.from(twin, 'base64url').equals(Buffer.from(envelope.signature!, 'base64url'))).toBe(true);
    expect(reasonOf(JSON.stringify({ ...envelope, signature: twin }))).toBe('MALFORMED');
    expect(reasonOf(JSON.stringify({ ...envelope, payload: `${envelope.payload}=` }))).toBe('MALFORMED');
  });

  it('never accepts a file with any single byte changed', () => {
    const bytes = Buffer.from(file, 'utf8');
    const rejections = new Set<LicenceFileRejection | 'VALID'>();
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const changed = Buffer.from(bytes);
        changed[at]! ^= mask;
        const verdict = verifyLicenceFile(new TextDecoder().decode(changed), keys, today);
        if (!verdict.valid) rejections.add(verdict.reason);
        return !verdict.valid;
      }),
      { numRuns: 2000 },
    );
    // the changes hit the envelope, the key id, the payload and the signature alike
    expect([...rejections].sort()).toEqual(['BAD_SIGNATURE', 'MALFORMED', 'UNKNOWN_KEY']);
  });

  it('refuses an expired licence (validUntil is exclusive) and one not valid yet, with the licence', () => {
    expect(verifyLicenceFile(file, keys, '2027-11-01')).toEqual({ valid: false, reason: 'EXPIRED', licence });
    expect(reasonOf(file, '2030-01-01')).toBe('EXPIRED');
    expect(reasonOf(file, '2027-10-31')).toBe('VALID');
    expect(reasonOf(file, '2026-11-01')).toBe('VALID');
    expect(verifyLicenceFile(file, keys, '2026-10-31')).toEqual({
      valid: false,
      reason: 'NOT_YET_VALID',
      licence,
    });
  });

  it('refuses a key id it has no key for, including names of Object.prototype', () => {
    expect(reasonOf(sign(licence, 'k-other', keyPair().privateKey))).toBe('UNKNOWN_KEY');
    for (const keyId of ['constructor', '__proto__', 'toString'])
      expect(reasonOf(sign(licence, keyId, current.privateKey))).toBe('UNKNOWN_KEY');
    expect(verifyLicenceFile(file, {}, today)).toEqual({ valid: false, reason: 'UNKNOWN_KEY' });
  });

  it('calls garbage MALFORMED without throwing', () => {
    const envelope = JSON.parse(file) as Record<string, unknown>;
    const garbage = [
      '',
      'not json',
      '[]',
      'null',
      '42',
      '{}',
      JSON.stringify({ ...envelope, format: 'gestan-licence/2' }),
      JSON.stringify({ ...envelope, keyId: '../k-new' }),
      JSON.stringify({ ...envelope, keyId: 7 }),
      JSON.stringify({ ...envelope, payload: 'not base64!' }),
      JSON.stringify({ ...envelope, extra: 'unsigned claims' }),
      JSON.stringify({ format: envelope.format, keyId: envelope.keyId, payload: envelope.payload }),
    ];
    for (const text of garbage) expect([text, reasonOf(text)]).toEqual([text, 'MALFORMED']);
  });

  it('refuses a well-signed payload that is not a licence', () => {
    const notALicence = [
      'hello',
      [],
      { ...licence, baseId: '123' },
      { ...licence, connections: 0 },
      { ...licence, edition: 'PLATINUM' },
      { ...licence, status: 'ENDED' },
      { ...licence, validUntil: '2027-02-29' },
      { ...licence, validFrom: '2027-11-01' },
      { ...licence, issuedAt: 'yesterday' },
      { ...licence, extensions: 'STOCKS' },
      { ...licence, extensions: ['STOCKS', 'PAIE'] }, // not sorted
      { ...licence, extensions: ['stocks'] },
      { ...licence, refreshAfter: '2028-01-01' }, // after validUntil
    ];
    for (const payload of notALicence)
      expect(reasonOf(sign(payload, 'k-new', current.privateKey))).toBe('MALFORMED');
    expect(reasonOf(signBytes(Buffer.from('{"licenceId":'), 'k-new', current.privateKey))).toBe('MALFORMED');
  });

  it('returns the documented fields only', () => {
    const verdict = verifyLicenceFile(
      sign({ ...licence, note: 'x' }, 'k-new', current.privateKey),
      keys,
      today,
    );
    expect(verdict).toEqual({ valid: true, licence, refreshDue: false });
  });

  it('carries the extensions; says when a refresh is due; reads a file without the later fields as none', () => {
    const due = verifyLicenceFile(file, keys, '2027-04-01');
    expect(due).toMatchObject({ valid: true, refreshDue: true, licence: { extensions: ['PAIE', 'STOCKS'] } });
    const { extensions: _e, refreshAfter: _r, ...older } = licence;
    expect(verifyLicenceFile(sign(older, 'k-new', current.privateKey), keys, today)).toEqual({
      valid: true,
      licence: { ...licence, extensions: [], refreshAfter: null },
      refreshDue: false,
    });
  });

  it('rotation: a file signed with the old key verifies while both keys are given, and names its key', () => {
    const oldFile = sign(licence, 'k-old', old.privateKey);
    expect(reasonOf(oldFile)).toBe('VALID');
    expect(verifyLicenceFile(oldFile, { 'k-new': current.pem }, today)).toEqual({
      valid: false,
      reason: 'UNKNOWN_KEY',
    });
    // signed by the old key but naming the new one: the verifier uses the named key only
    expect(reasonOf(sign(licence, 'k-new', old.privateKey))).toBe('BAD_SIGNATURE');
  });

  it('throws on a bad today or a public key that is not Ed25519 (the caller, not the file)', () => {
    expect(() => verifyLicenceFile(file, keys, '2027-02-29')).toThrow(RangeError);
    expect(() => verifyLicenceFile(file, keys, '14/03/2027')).toThrow(RangeError);
    const rsa = crypto
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    expect(() => verifyLicenceFile(file, { 'k-new': rsa }, today)).toThrow(TypeError);
  });
});
