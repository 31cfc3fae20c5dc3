/**
 * The signed licence file of a base (docs/licence-file.md): what an ERP without internet imports, and what
 * an ERP that cleared its local licence restores from the server by base ID.
 */
import crypto from 'node:crypto';
import { AppError } from '../../domain/errors';
import { addDays, parseLocalDate, type LocalDate } from '../../domain/periods';
import type { LicenceKeyRing } from '../../infra/licence-keys';
import type { Db } from '../../infra/prisma';
import { DEFAULT_LICENCE_FILE_SETTINGS, type BillingSettings, type LicenceFileSettings } from '../deps';
import {
  LICENCE_FILE_FORMAT,
  PERPETUAL_VALID_UNTIL,
  type LicenceFile,
  type LicenceFilePayload,
} from '../../verifier/licence-verifier';

export interface IssueLicenceFileDeps {
  prisma: Db;
  licenceKeys: LicenceKeyRing;
  /** the dunning schedule: a PAST_DUE licence stays usable until its last retry */
  billing: Pick<BillingSettings, 'dunningRetryDays'>;
  /** the refresh interval and the offline grace; defaults when absent */
  licenceFiles?: LicenceFileSettings;
}

/** The file for the base's current licence, signed with the active key. */
export async function issueLicenceFile(
  deps: IssueLicenceFileDeps,
  baseId: string,
  now: Date,
): Promise<LicenceFile> {
  return signLicencePayload(
    deps.licenceKeys,
    await currentLicence(
      deps.prisma,
      baseId,
      now,
      graceDays(deps.billing.dunningRetryDays),
      deps.licenceFiles ?? DEFAULT_LICENCE_FILE_SETTINGS,
    ),
  );
}

/**
 * A paid licence's file lasts until the refresh date plus the offline grace, never past the licence's own
 * end: a licence ended or suspended early (dunning, refund) is never signed again, so an offline ERP keeps
 * it at most that long, and an online one picks up the free licence at its next refresh.
 */
function fileValidity(
  issueDay: LocalDate,
  licenceEnd: LocalDate,
  settings: LicenceFileSettings,
): { refreshAfter: LocalDate; validUntil: LocalDate } {
  const refreshAfter = addDays(issueDay, settings.refreshDays);
  const offlineEnd = addDays(refreshAfter, settings.offlineGraceDays);
  // 'YYYY-MM-DD' strings sort like the dates they name
  const validUntil = offlineEnd < licenceEnd ? offlineEnd : licenceEnd;
  return { refreshAfter: refreshAfter < validUntil ? refreshAfter : validUntil, validUntil };
}

/** Days after a period's end during which a PAST_DUE licence is still usable: until the last retry. */
function graceDays(dunningRetryDays: readonly number[]): number {
  return Math.max(0, ...dunningRetryDays);
}

/**
 * The newest usable licence (ACTIVE, or PAST_DUE during dunning); without one the base runs the free
 * STANDARD LOCAL licence, which gets a file too so an offline ERP always has something that verifies.
 */
async function currentLicence(
  db: Db,
  baseId: string,
  now: Date,
  graceDays: number,
  settings: LicenceFileSettings,
): Promise<LicenceFilePayload> {
  const issuedAt = now.toISOString();
  const issueDay = parseLocalDate(issuedAt.slice(0, 10));
  const licence = await db.licence.findFirst({
    where: { baseId, status: { in: ['ACTIVE', 'PAST_DUE'] } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  if (licence) {
    // a usable licence without a period would be a bug elsewhere: refuse rather than sign "forever"
    if (!licence.periodStart || !licence.periodEnd)
      throw new Error(`licence ${licence.id} is ${licence.status} but has no current period`);
    // during dunning the period is over but the licence is usable until the last retry (it ends then if
    // that retry fails; a payment meanwhile brings a new period and a new file). Likewise an ACTIVE licence
    // past its period's end: its renewal is being settled (a SEPA debit takes days, docs/sepa.md)
    const periodEnd = parseLocalDate(licence.periodEnd);
    const settling = licence.status === 'ACTIVE' && licence.autoRenew && periodEnd <= issueDay;
    const licenceEnd =
      licence.status === 'PAST_DUE' || settling ? addDays(periodEnd, graceDays) : periodEnd;
    return {
      licenceId: licence.id,
      baseId,
      holder: licence.holderName,
      version: licence.version,
      edition: licence.edition,
      mode: licence.mode,
      connections: licence.connections,
      period: licence.period,
      extensions: [...licence.extensions].sort(),
      validFrom: licence.periodStart,
      ...fileValidity(issueDay, licenceEnd, settings),
      status: licence.status === 'PAST_DUE' ? 'PAST_DUE' : 'ACTIVE', // the query returns no other
      issuedAt,
    };
  }
  const base = await db.base.findUnique({
    where: { id: baseId },
    select: { claimedAt: true, account: { select: { companyName: true } } },
  });
  if (!base) throw new AppError('BASE_NOT_FOUND', `Base ${baseId} is not registered`);
  return {
    licenceId: null,
    baseId,
    holder: base.account?.companyName ?? null,
    version: 'A1',
    edition: 'STANDARD',
    mode: 'LOCAL',
    connections: null, // free for any number of connections
    period: null,
    extensions: [],
    // the day before registration (UTC): an ERP west of UTC must not find it "not yet valid" that evening
    validFrom: addDays(parseLocalDate(base.claimedAt.toISOString().slice(0, 10)), -1),
    validUntil: PERPETUAL_VALID_UNTIL,
    status: 'ACTIVE',
    issuedAt,
    refreshAfter: null, // nothing to take back: the free licence never changes
  };
}

/**
 * Signs the exact payload bytes (the verifier never re-serialises, so no canonical-JSON pitfalls); the
 * fields are written in the documented order so files are stable and readable.
 */
export function signLicencePayload(ring: LicenceKeyRing, p: LicenceFilePayload): LicenceFile {
  const keyId = ring.activeKeyId;
  const key = ring.privateKey(keyId);
  if (!key) throw new Error(`the active licence key ${keyId} is not in the key ring`);
  const ordered: LicenceFilePayload = {
    licenceId: p.licenceId,
    baseId: p.baseId,
    holder: p.holder,
    version: p.version,
    edition: p.edition,
    mode: p.mode,
    connections: p.connections,
    period: p.period,
    extensions: p.extensions,
    validFrom: p.validFrom,
    validUntil: p.validUntil,
    status: p.status,
    issuedAt: p.issuedAt,
    refreshAfter: p.refreshAfter,
  };
  const bytes = Buffer.from(JSON.stringify(ordered), 'utf8');
  return {
    format: LICENCE_FILE_FORMAT,
    keyId,
    payload: bytes.toString('base64url'),
    signature: crypto.sign(null, bytes, key).toString('base64url'),
  };
}
