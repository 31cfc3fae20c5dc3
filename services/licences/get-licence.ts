import type { Licence } from '../../generated/prisma/client';
import { addDays, type LocalDate } from '../../domain/periods';
import type { Db } from '../../infra/prisma';

export const CURRENT_VERSION = 'A1';

function view(l: Licence) {
  return {
    licenceId: l.id,
    version: l.version,
    edition: l.edition,
    mode: l.mode,
    connections: l.connections,
    period: l.period,
    status: l.status,
    periodStart: l.periodStart,
    /** last day covered (the period end is exclusive) */
    paidThrough: l.periodEnd ? addDays(l.periodEnd as LocalDate, -1) : null,
    renewalDate: l.autoRenew && (l.status === 'ACTIVE' || l.status === 'PAST_DUE') ? l.periodEnd : null,
    autoRenew: l.autoRenew,
    paymentMethod: l.paymentMethod,
    holder: { name: l.holderName, accountId: l.holderAccountId },
    createdAt: l.createdAt.toISOString(),
  };
}

/**
 * The licence status screen of a base: its usable (or pending/suspended) paid licence, or the free
 * STANDARD LOCAL it falls back to. Works from the base ID alone, so an ERP that cleared its local data
 * can restore it.
 */
export async function getLicenceScreen(db: Db, baseId: string) {
  const current = await db.licence.findFirst({
    where: { baseId, status: { in: ['ACTIVE', 'PAST_DUE', 'SUSPENDED'] } },
    orderBy: { createdAt: 'desc' },
  });
  const pending = await db.purchase.findFirst({
    where: { baseId, status: { in: ['AWAITING_PAYMENT', 'AWAITING_OPS'] } },
    orderBy: { createdAt: 'desc' },
  });
  const licence = current
    ? view(current)
    : {
        licenceId: null,
        version: CURRENT_VERSION,
        edition: 'STANDARD',
        mode: 'LOCAL',
        connections: 1,
        period: null,
        status: 'FREE',
        periodStart: null,
        paidThrough: null,
        renewalDate: null,
        autoRenew: false,
        paymentMethod: null,
        holder: null,
        createdAt: null,
      };
  return {
    baseId,
    ...licence,
    update: {
      version: licence.version,
      latestVersion: CURRENT_VERSION,
      upToDate: licence.version === CURRENT_VERSION,
    },
    pendingPurchase: pending
      ? { purchaseId: pending.id, status: pending.status, paymentMethod: pending.paymentMethod }
      : null,
  };
}

/** Every licence the base ever had, newest first. */
export async function getLicenceHistory(db: Db, baseId: string) {
  const rows = await db.licence.findMany({ where: { baseId }, orderBy: { createdAt: 'desc' } });
  return rows.map(view);
}
