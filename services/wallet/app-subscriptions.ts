/**
 * Apps an account subscribes to, each charged its monthly fee on the wallet by the monthly fees schedule.
 * One row per subscribed seat (an account may run several inspector apps, as in the seed's listing).
 */
import { AppError } from '../../domain/errors';
import type { PrismaClient } from '../../infra/prisma';
import type { AccountApp } from '../../generated/prisma/client';
import type { Actor } from '../actor';
import { audit } from '../audit';
import { requireActiveAccount } from '../credits/read-ledger';

export interface AppSubscriptionRequest {
  app: string;
  /** shown as the movement's type in the wallet listing, e.g. "App d'inspecteur frais mensuels" */
  label: string;
  monthlyFeeCents: number;
  site?: string;
  staff?: string;
  /** first month charged, YYYY-MM */
  sinceMonth: string;
}

export const appSubscriptionView = (a: AccountApp) => ({
  id: a.id,
  accountId: a.accountId,
  app: a.app,
  label: a.label,
  monthlyFeeCents: a.monthlyFeeCents,
  site: a.site,
  staff: a.staff,
  sinceMonth: a.sinceMonth,
  untilMonth: a.untilMonth,
});

export async function subscribeApp(
  prisma: PrismaClient,
  actor: Actor,
  options: { accountId: number; request: AppSubscriptionRequest },
) {
  await requireActiveAccount(prisma, options.accountId);
  return prisma.$transaction(async (tx) => {
    const row = await tx.accountApp.create({ data: { accountId: options.accountId, ...options.request } });
    await audit(tx, actor, {
      action: 'account_app.subscribed',
      entityType: 'ACCOUNT_APP',
      entityId: row.id,
      data: { accountId: options.accountId, ...options.request },
    });
    return appSubscriptionView(row);
  });
}

/** Stops an app after `untilMonth` (its last charged month). */
export async function unsubscribeApp(
  prisma: PrismaClient,
  actor: Actor,
  options: { accountId: number; appSubscriptionId: string; untilMonth: string },
) {
  return prisma.$transaction(async (tx) => {
    const row = await tx.accountApp.findUnique({ where: { id: options.appSubscriptionId } });
    if (!row || row.accountId !== options.accountId)
      throw new AppError('APP_SUBSCRIPTION_NOT_FOUND', 'No such app subscription on this account');
    const updated = await tx.accountApp.update({
      where: { id: row.id },
      data: { untilMonth: options.untilMonth },
    });
    await audit(tx, actor, {
      action: 'account_app.unsubscribed',
      entityType: 'ACCOUNT_APP',
      entityId: row.id,
      data: { untilMonth: options.untilMonth },
    });
    return appSubscriptionView(updated);
  });
}

export async function listAppSubscriptions(prisma: PrismaClient, accountId: number) {
  await requireActiveAccount(prisma, accountId);
  const rows = await prisma.accountApp.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
  return rows.map(appSubscriptionView);
}
