import { AppError } from '../../domain/errors';
import { generateToken, hashToken, tokenPrefix } from '../../infra/crypto';
import type { Db } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';

/** Issues an ops token (shown once, stored as a hash). */
export async function createOpsToken(db: Db, actor: Actor, options: { name: string; role: 'OPS' | 'ADMIN' }) {
  const token = generateToken('ops');
  const row = await db.opsToken.create({
    data: { name: options.name, role: options.role, hash: hashToken(token), prefix: tokenPrefix(token) },
  });
  await audit(db, actor, {
    action: 'ops_token.created',
    entityType: 'OPS_TOKEN',
    entityId: row.id,
    data: { name: row.name, role: row.role },
  });
  return { id: row.id, name: row.name, role: row.role, token };
}

export async function revokeOpsToken(db: Db, actor: Actor, id: string) {
  const row = await db.opsToken.findUnique({ where: { id } });
  if (!row) throw new AppError('OPS_TOKEN_NOT_FOUND', `Ops token ${id} does not exist`);
  if (!row.revokedAt) {
    await db.opsToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await audit(db, actor, { action: 'ops_token.revoked', entityType: 'OPS_TOKEN', entityId: id });
  }
}

export async function listOpsTokens(db: Db) {
  const rows = await db.opsToken.findMany({ orderBy: { createdAt: 'asc' } });
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role,
    prefix: r.prefix,
    createdAt: r.createdAt.toISOString(),
    revokedAt: r.revokedAt?.toISOString() ?? null,
  }));
}
