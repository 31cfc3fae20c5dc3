/** Every ops action is written to the audit log: who (the ops token's name), when, why, and what came of it. */
import type { Db } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit, type AuditEntry } from '../audit';

export interface OpsAction {
  action: string;
  entityType: AuditEntry['entityType'];
  entityId: string | number;
  reason?: string;
  data?: Record<string, unknown>;
}

export async function recordOpsAction(db: Db, actor: Actor, entry: OpsAction): Promise<void> {
  await audit(db, actor, {
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    data: { ...entry.data, ...(entry.reason !== undefined ? { reason: entry.reason } : {}) },
  });
}

export const opsName = (actor: Actor): string => actor.id;
