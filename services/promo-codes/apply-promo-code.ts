/**
 * A promo code on a purchase: checked before pricing, redeemed in the purchase's transaction (exactly once
 * under concurrency: one conditional UPDATE of the code's counter, and a unique redemption per code and
 * base), released if the purchase is cancelled or rejected, and read again when a renewal is priced.
 */
import type { BillingPeriod, Edition, Mode } from '../../domain/catalog';
import { AppError } from '../../domain/errors';
import type { LocalDate } from '../../domain/periods';
import {
  discountOf,
  discountsPeriod,
  normalisePromoCode,
  periodIndexOf,
  promoRefusal,
  type PromoCodeRecord,
  type PromoDiscount,
  type PromoRefusal,
} from '../../domain/promo-code';
import type { Db } from '../../infra/prisma';

type Choice = { edition: Edition; mode: Mode; period: BillingPeriod };

const MESSAGES: Record<PromoRefusal, string> = {
  PROMO_CODE_INACTIVE: 'This promo code is no longer offered',
  PROMO_CODE_NOT_YET_VALID: 'This promo code is not valid yet',
  PROMO_CODE_EXPIRED: 'This promo code has expired',
  PROMO_CODE_NOT_ELIGIBLE: 'This promo code does not apply to this edition, mode or period',
  PROMO_CODE_EXHAUSTED: 'This promo code has been used as many times as it may be',
  PROMO_CODE_ALREADY_USED: 'This base has already used this promo code',
};

function refusal(reason: PromoRefusal, code: PromoCodeRecord): AppError {
  return new AppError(reason, `${MESSAGES[reason]} (${code.code})`, {
    code: code.code,
    ...(reason === 'PROMO_CODE_NOT_YET_VALID' ? { validFrom: code.validFrom?.toISOString() } : {}),
    ...(reason === 'PROMO_CODE_EXPIRED' ? { validUntil: code.validUntil?.toISOString() } : {}),
    ...(reason === 'PROMO_CODE_NOT_ELIGIBLE'
      ? { editions: code.editions, modes: code.modes, periods: code.periods }
      : {}),
  });
}

/**
 * The discount a code gives this purchase now, or the refusal (an AppError with the reason's code). With a
 * base, a code the base already used is refused too.
 */
export async function applicablePromo(
  db: Db,
  input: { code: string; choice: Choice; now: Date; baseId?: string },
): Promise<PromoDiscount> {
  const name = normalisePromoCode(input.code);
  const row = await db.promoCode.findUnique({ where: { code: name } });
  if (!row) throw new AppError('PROMO_CODE_UNKNOWN', `No promo code ${name}`, { code: name });
  const record = row as PromoCodeRecord;
  const used = input.baseId
    ? (await db.promoRedemption.count({ where: { promoCodeId: row.id, baseId: input.baseId } })) > 0
    : false;
  const refused = promoRefusal(record, input.choice, input.now, used);
  if (refused) throw refusal(refused, record);
  return discountOf(record);
}

/**
 * Redeems the code for a purchase, in the purchase's transaction: the counter moves only below its maximum
 * (concurrent purchases queue on the row; one wins), the unique (code, base) index keeps once per base.
 */
export async function redeemPromoCode(
  tx: Db,
  input: {
    code: string;
    choice: Choice;
    now: Date;
    baseId: string;
    purchaseId: string;
    licenceId: string;
  },
): Promise<PromoDiscount> {
  const discount = await applicablePromo(tx, input);
  const updated = await tx.$executeRaw`
    UPDATE "PromoCode" SET "redemptionCount" = "redemptionCount" + 1
    WHERE code = ${discount.code} AND active
      AND ("maxRedemptions" IS NULL OR "redemptionCount" < "maxRedemptions")`;
  // the check above read the counter before another purchase's commit: read again under the row lock
  const row = await tx.promoCode.findUniqueOrThrow({ where: { code: discount.code } });
  if (updated === 0)
    throw refusal(
      promoRefusal(row as PromoCodeRecord, input.choice, input.now) ?? 'PROMO_CODE_EXHAUSTED',
      row as PromoCodeRecord,
    );
  const inserted = await tx.$executeRaw`
    INSERT INTO "PromoRedemption" (id, "promoCodeId", "baseId", "purchaseId", "licenceId", discount)
    VALUES (gen_random_uuid(), ${row.id}::uuid, ${input.baseId}, ${input.purchaseId}::uuid,
            ${input.licenceId}::uuid, ${JSON.stringify(discount)}::jsonb)
    ON CONFLICT ("promoCodeId", "baseId") DO NOTHING`;
  if (inserted === 0) throw refusal('PROMO_CODE_ALREADY_USED', row as PromoCodeRecord);
  return discount;
}

/** A purchase cancelled or rejected gives its redemption back (the code counts paid or pending sales). */
export async function releasePromoRedemption(tx: Db, purchaseId: string): Promise<void> {
  const redemption = await tx.promoRedemption.findUnique({ where: { purchaseId } });
  if (!redemption) return;
  await tx.promoRedemption.delete({ where: { id: redemption.id } });
  await tx.$executeRaw`
    UPDATE "PromoCode" SET "redemptionCount" = "redemptionCount" - 1
    WHERE id = ${redemption.promoCodeId}::uuid AND "redemptionCount" > 0`;
}

/** The discount a licence's redemption gives the anchored period starting on `periodStart`, if any. */
export async function periodDiscount(
  db: Db,
  licenceId: string,
  periodStart: LocalDate,
): Promise<PromoDiscount | undefined> {
  const redemption = await db.promoRedemption.findFirst({ where: { licenceId } });
  if (!redemption) return undefined;
  const licence = await db.licence.findUniqueOrThrow({ where: { id: licenceId } });
  if (!licence.anchorDate || !licence.period) return undefined;
  const index = periodIndexOf(licence.anchorDate as LocalDate, licence.period, periodStart);
  const discount = redemption.discount as unknown as PromoDiscount;
  return index !== undefined && discountsPeriod(discount, index) ? discount : undefined;
}
