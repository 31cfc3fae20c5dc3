import type { Actor } from '../actor';
import { audit } from '../audit';
import type { ServiceDeps } from '../deps';
import { accountView } from './account-view';
import { authenticateAccount } from './update-account';

/** Everything we hold about an account (GDPR access/portability), for its owner; password required. */
export async function exportAccount(
  deps: ServiceDeps,
  options: { actor: Actor; accountId: number; password: string },
) {
  const account = await authenticateAccount(deps, options.accountId, options.password);
  const [bases, installations, auditTrail] = await Promise.all([
    deps.prisma.base.findMany({ where: { accountId: account.id }, orderBy: { id: 'asc' } }),
    deps.prisma.installation.findMany({ where: { accountId: account.id }, orderBy: { createdAt: 'asc' } }),
    deps.prisma.auditLog.findMany({
      where: { entityType: 'ACCOUNT', entityId: String(account.id) },
      orderBy: { id: 'asc' },
    }),
  ]);
  await audit(deps.prisma, options.actor, {
    action: 'account.exported',
    entityType: 'ACCOUNT',
    entityId: account.id,
  });
  return {
    exportedAt: new Date().toISOString(),
    account: accountView(account),
    bases: bases.map((b) => ({ baseId: b.id, claimedAt: b.claimedAt.toISOString() })),
    machines: installations.map((i) => ({
      installationId: i.id,
      baseId: i.baseId,
      machineName: i.machineName,
      linkedAt: i.linkedAt?.toISOString() ?? null,
    })),
    auditLog: auditTrail.map((a) => ({
      at: a.at.toISOString(),
      action: a.action,
      actorType: a.actorType,
      data: a.data,
    })),
  };
}
