/** Ops create, list and deactivate promo codes (`/ops/promo-codes`, `cli/ops.ts promo-code ...`). */
import { AppError } from '../../domain/errors';
import { normalisePromoCode, type PromoCodeDefinition } from '../../domain/promo-code';
import type { PrismaClient } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';

type PromoCodeRow = Awaited<ReturnType<PrismaClient['promoCode']['findUniqueOrThrow']>>;

/** What ops see of a code (dates as ISO strings, nulls kept). */
export function promoCodeView(row: PromoCodeRow) {
  return {
    code: row.code,
    kind: row.kind,
    percentBasisPoints: row.percentBasisPoints,
    amountOffCents: row.amountOffCents,
    duration: row.duration,
    durationPeriods: row.durationPeriods,
    validFrom: row.validFrom?.toISOString() ?? null,
    validUntil: row.validUntil?.toISOString() ?? null,
    maxRedemptions: row.maxRedemptions,
    redemptionCount: row.redemptionCount,
    editions: row.editions,
    modes: row.modes,
    periods: row.periods,
    active: row.active,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    deactivatedAt: row.deactivatedAt?.toISOString() ?? null,
  };
}

export async function createPromoCode(prisma: PrismaClient, actor: Actor, definition: PromoCodeDefinition) {
  const { validFrom, validUntil, ...rest } = definition;
  return prisma.$transaction(async (tx) => {
    if (await tx.promoCode.findUnique({ where: { code: rest.code } }))
      throw new AppError('PROMO_CODE_EXISTS', `The promo code ${rest.code} exists already`);
    const row = await tx.promoCode.create({
      data: {
        ...rest,
        validFrom: validFrom ? new Date(validFrom) : null,
        validUntil: validUntil ? new Date(validUntil) : null,
        createdBy: `${actor.type}:${actor.id}`,
      },
    });
    await audit(tx, actor, {
      action: 'promo_code.created',
      entityType: 'PROMO_CODE',
      entityId: row.id,
      data: { ...definition },
    });
    return promoCodeView(row);
  });
}

export async function listPromoCodes(prisma: PrismaClient, options: { active?: boolean } = {}) {
  const rows = await prisma.promoCode.findMany({
    where: options.active === undefined ? {} : { active: options.active },
    orderBy: { createdAt: 'desc' },
  });
  return rows.map(promoCodeView);
}

/** A deactivated code is refused from now on; the discounts already redeemed keep their duration. */
export async function deactivatePromoCode(prisma: PrismaClient, actor: Actor, code: string) {
  return prisma.$transaction(async (tx) => {
    const row = await tx.promoCode.findUnique({ where: { code: normalisePromoCode(code) } });
    if (!row) throw new AppError('PROMO_CODE_NOT_FOUND', `No promo code ${code}`);
    if (!row.active) return promoCodeView(row);
    const updated = await tx.promoCode.update({
      where: { id: row.id },
      data: { active: false, deactivatedAt: new Date() },
    });
    await audit(tx, actor, { action: 'promo_code.deactivated', entityType: 'PROMO_CODE', entityId: row.id });
    return promoCodeView(updated);
  });
}
