/**
 * Offline verifier of signed licence files (format `gestan-licence/1`, docs/licence-file.md).
 *
 * Self-contained on purpose: it imports `node:crypto` and nothing else (no zod, nothing from the repo), so
 * an ERP without internet can embed this one file together with the vendor's public key(s). The checks run
 * in this order: the envelope's shape → the key it names → the Ed25519 signature over the exact payload
 * bytes → only then the payload's fields and dates. Nothing inside the payload is looked at before the
 * signature holds.
 */
import crypto from 'node:crypto';

export const LICENCE_FILE_FORMAT = 'gestan-licence/1';

/** `validUntil` of a licence that never ends (the free STANDARD LOCAL licence). */
export const PERPETUAL_VALID_UNTIL = '9999-12-31';

/** The file as stored and exchanged (JSON). `payload` and `signature` are base64url without padding. */
export interface LicenceFile {
  format: typeof LICENCE_FILE_FORMAT;
  keyId: string;
  payload: string;
  signature: string;
}

/** What the payload says, once the signature holds. Dates are 'YYYY-MM-DD'; `validUntil` is exclusive. */
export interface LicenceFilePayload {
  /** null for the free STANDARD LOCAL licence (no licence record behind it) */
  licenceId: string | null;
  baseId: string;
  holder: string | null;
  version: 'A1' | 'V15';
  edition: 'STANDARD' | 'ENTERPRISE';
  mode: 'LOCAL' | 'CLOUD';
  /** concurrent connections; null = not limited (free STANDARD LOCAL) */
  connections: number | null;
  period: 'MONTHLY' | 'QUARTERLY' | 'ANNUAL' | null;
  /** extension codes the base may run, sorted (absent in older files: none) */
  extensions: string[];
  validFrom: string;
  validUntil: string;
  status: 'ACTIVE' | 'PAST_DUE';
  /** ISO timestamp of issue (UTC) */
  issuedAt: string;
  /**
   * from this day on an online ERP fetches a new file (the file stays valid until `validUntil`, the offline
   * grace); null for a file that never needs one (the free licence; older files)
   */
  refreshAfter: string | null;
}

export type LicenceFileRejection =
  'MALFORMED' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE' | 'EXPIRED' | 'NOT_YET_VALID';

export type LicenceFileVerdict =
  /** `refreshDue`: `today >= refreshAfter`, fetch a new file when online */
  | { valid: true; licence: LicenceFilePayload; refreshDue: boolean }
  /** `licence` is given for EXPIRED and NOT_YET_VALID only: the signature held, the dates did not */
  | { valid: false; reason: LicenceFileRejection; licence?: LicenceFilePayload };

/**
 * Verifies a licence file's text with the given public keys (key id → SPKI PEM) on the ERP's `today`
 * ('YYYY-MM-DD'). Never throws for a bad file; throws only for a bad `today` or a public key that is
 * not Ed25519 (the caller's configuration, not the file). The caller still compares `licence.baseId`
 * with its own base ID.
 */
export function verifyLicenceFile(
  fileText: string,
  publicKeys: Record<string, string>,
  today: string,
): LicenceFileVerdict {
  if (!isLocalDate(today)) throw new RangeError(`today must be a YYYY-MM-DD date, not ${String(today)}`);
  const envelope = parseEnvelope(fileText);
  if (!envelope) return { valid: false, reason: 'MALFORMED' };

  // own keys only: a file naming `__proto__` or `constructor` must not reach Object.prototype
  const pem = Object.hasOwn(publicKeys, envelope.keyId) ? publicKeys[envelope.keyId] : undefined;
  if (pem === undefined) return { valid: false, reason: 'UNKNOWN_KEY' };
  const key = crypto.createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new TypeError(`public key ${envelope.keyId} is not an Ed25519 key`);
  const signed =
    envelope.signature.length === 64 && crypto.verify(null, envelope.payload, key, envelope.signature);
  if (!signed) return { valid: false, reason: 'BAD_SIGNATURE' };

  const licence = parsePayload(envelope.payload);
  if (!licence) return { valid: false, reason: 'MALFORMED' };
  // 'YYYY-MM-DD' strings sort like the dates they name
  if (today < licence.validFrom) return { valid: false, reason: 'NOT_YET_VALID', licence };
  if (today >= licence.validUntil) return { valid: false, reason: 'EXPIRED', licence };
  return { valid: true, licence, refreshDue: licence.refreshAfter !== null && today >= licence.refreshAfter };
}

interface Envelope {
  keyId: string;
  payload: Buffer;
  signature: Buffer;
}

const ENVELOPE_KEYS = ['format', 'keyId', 'payload', 'signature'];

function parseEnvelope(fileText: string): Envelope | undefined {
  const json = parseJson(fileText.replace(/^\uFEFF/, '')); // Windows editors may add a BOM
  if (!isRecord(json)) return undefined;
  // an exact set of keys: nothing unsigned rides along that a reader might trust
  const keys = Object.keys(json);
  if (keys.length !== ENVELOPE_KEYS.length || !ENVELOPE_KEYS.every((k) => keys.includes(k))) return undefined;
  if (json.format !== LICENCE_FILE_FORMAT) return undefined;
  if (typeof json.keyId !== 'string' || !/^[\w.-]{1,64}$/.test(json.keyId)) return undefined;
  const payload = decodeBase64Url(json.payload);
  const signature = decodeBase64Url(json.signature);
  if (!payload || !signature) return undefined;
  return { keyId: json.keyId, payload, signature };
}

function decodeBase64Url(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Node ignores the unused low bits of the last character, so two texts can decode to the same bytes:
  // only the canonical spelling is accepted, or a changed character could still verify.
  return bytes.toString('base64url') === text ? bytes : undefined;
}

const VERSIONS = ['A1', 'V15'] as const;
const EDITIONS = ['STANDARD', 'ENTERPRISE'] as const;
const MODES = ['LOCAL', 'CLOUD'] as const;
const PERIODS = ['MONTHLY', 'QUARTERLY', 'ANNUAL'] as const;
const STATUSES = ['ACTIVE', 'PAST_DUE'] as const;

/** The signed payload, checked field by field (a signed file from a buggy issuer is still refused). */
function parsePayload(bytes: Buffer): LicenceFilePayload | undefined {
  const p = parseJson(bytes.toString('utf8'));
  if (!isRecord(p)) return undefined;
  const { licenceId, baseId, holder, version, edition, mode, connections, period } = p;
  const { validFrom, validUntil, status, issuedAt } = p;
  // fields added to the format later: absent means none
  const extensions = p.extensions === undefined ? [] : p.extensions;
  const refreshAfter = p.refreshAfter === undefined ? null : p.refreshAfter;
  const ok =
    (licenceId === null || (typeof licenceId === 'string' && licenceId.length > 0)) &&
    typeof baseId === 'string' &&
    /^\d{17}$/.test(baseId) &&
    (holder === null || typeof holder === 'string') &&
    oneOf(VERSIONS, version) &&
    oneOf(EDITIONS, edition) &&
    oneOf(MODES, mode) &&
    (connections === null || (Number.isSafeInteger(connections) && (connections as number) > 0)) &&
    (period === null || oneOf(PERIODS, period)) &&
    Array.isArray(extensions) &&
    extensions.every((code, i) => typeof code === 'string' && /^[A-Z0-9_]{2,32}$/.test(code) && (i === 0 || extensions[i - 1] < code)) &&
    isLocalDate(validFrom) &&
    isLocalDate(validUntil) &&
    validFrom < validUntil &&
    (refreshAfter === null || (isLocalDate(refreshAfter) && refreshAfter <= validUntil)) &&
    oneOf(STATUSES, status) &&
    typeof issuedAt === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(issuedAt);
  if (!ok) return undefined;
  // only the documented fields, in the documented order
  return {
    licenceId,
    baseId,
    holder,
    version,
    edition,
    mode,
    connections: connections as number | null,
    period,
    extensions: extensions as string[],
    validFrom,
    validUntil,
    status,
    issuedAt,
    refreshAfter: refreshAfter,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneOf<T extends string>(allowed: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}

/** A real calendar date 'YYYY-MM-DD' (no '2027-02-29'), years 0001–9999. */
function isLocalDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return year >= 1 && days !== undefined && day >= 1 && day <= days;
}
