/**
 * Server-side check of a licence file, through the same standalone verifier the ERPs embed (so the server
 * never accepts what an offline ERP would refuse, or the reverse).
 */
import { AppError } from '../../domain/errors';
import type { LicenceKeyRing } from '../../infra/licence-keys';
import {
  verifyLicenceFile as verifyOffline,
  type LicenceFilePayload,
  type LicenceFileRejection,
} from '../../verifier/licence-verifier';

const messages: Record<LicenceFileRejection, string> = {
  MALFORMED: 'This is not a licence file (gestan-licence/1)',
  UNKNOWN_KEY: 'The licence file is signed with a key this server does not know',
  BAD_SIGNATURE: 'The licence file has been altered: its signature does not match',
  EXPIRED: 'The licence in this file has expired',
  NOT_YET_VALID: 'The licence in this file is not valid yet',
};

/**
 * The licence a file carries when it verifies with one of our keys on `now`'s date (UTC); otherwise
 * 422 LICENCE_FILE_INVALID with `details.reason` (and the date that failed for EXPIRED / NOT_YET_VALID).
 * `file` is the file's text or its parsed JSON.
 */
export function verifyLicenceFile(
  deps: { licenceKeys: LicenceKeyRing },
  file: string | object,
  now: Date,
): LicenceFilePayload {
  // the signature covers the payload string, not the envelope's layout, so re-serialising is safe
  const text = typeof file === 'string' ? file : JSON.stringify(file);
  const verdict = verifyOffline(text, deps.licenceKeys.publicKeysPem(), now.toISOString().slice(0, 10));
  if (verdict.valid) return verdict.licence;
  const { reason, licence } = verdict;
  throw new AppError('LICENCE_FILE_INVALID', messages[reason], {
    reason,
    ...(reason === 'EXPIRED' && licence ? { validUntil: licence.validUntil } : {}),
    ...(reason === 'NOT_YET_VALID' && licence ? { validFrom: licence.validFrom } : {}),
  });
}
