import type { Db } from '../infra/prisma';
import type { Actor } from './actor';

export interface AuditEntry {
  action: string;
  entityType:
    | 'ACCOUNT'
    | 'BASE'
    | 'INSTALLATION'
    | 'API_KEY'
    | 'OPS_TOKEN'
    | 'CHALLENGE'
    | 'CATALOG'
    | 'LICENCE'
    | 'PURCHASE'
    | 'LICENCE_MIGRATION'
    | 'CREDIT_ENTRY'
    | 'CREDIT_PURCHASE'
    | 'SUPPORT_CALL'
    | 'ACCOUNT_APP'
    | 'CREDIT_NOTE'
    | 'DISPUTE'
    | 'REFUND'
    | 'PROMO_CODE';
  entityId: string | number;
  data?: Record<string, unknown>;
}

/** Append one audit entry; call it inside the transaction that makes the change. */
export async function audit(db: Db, actor: Actor, entry: AuditEntry): Promise<void> {
  await db.auditLog.create({
    data: {
      actorType: actor.type,
      actorId: actor.id,
      action: entry.action,
      entityType: entry.entityType,
      entityId: String(entry.entityId),
      data: entry.data === undefined ? undefined : (JSON.parse(JSON.stringify(entry.data)) as object),
    },
  });
}
