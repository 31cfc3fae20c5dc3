import { hashToken } from '../../infra/crypto';
import type { Db } from '../../infra/prisma';
import type { Actor } from '../actor';

/** Who is calling: an ERP installation (API key) or a member of the vendor's staff (ops token). */
export type Principal =
  | { kind: 'installation'; installationId: string; baseId: string; accountId: number | null; keyId: string }
  | { kind: 'ops'; tokenId: string; name: string; role: 'OPS' | 'ADMIN' };

/** Resolves a bearer token; null when unknown or revoked. Tokens are looked up by their SHA-256. */
export async function resolveToken(db: Db, token: string): Promise<Principal | null> {
  const hash = hashToken(token);
  if (token.startsWith('lk_')) {
    const key = await db.apiKey.findUnique({ where: { hash }, include: { installation: true } });
    if (!key || key.revokedAt) return null;
    return {
      kind: 'installation',
      installationId: key.installationId,
      baseId: key.installation.baseId,
      accountId: key.installation.accountId,
      keyId: key.id,
    };
  }
  if (token.startsWith('ops_')) {
    const row = await db.opsToken.findUnique({ where: { hash } });
    if (!row || row.revokedAt) return null;
    return { kind: 'ops', tokenId: row.id, name: row.name, role: row.role };
  }
  return null;
}

/**
 * A key covers its own base and, once its machine is linked to an account, every base of that account.
 * Ops see every base.
 */
export async function canAccessBase(db: Db, principal: Principal, baseId: string): Promise<boolean> {
  if (principal.kind === 'ops') return true;
  if (principal.baseId === baseId) return true;
  if (principal.accountId === null) return false;
  const base = await db.base.findUnique({ where: { id: baseId }, select: { accountId: true } });
  return base?.accountId === principal.accountId;
}

export function canAccessAccount(principal: Principal, accountId: number): boolean {
  return principal.kind === 'ops' || principal.accountId === accountId;
}

export function actorOf(principal: Principal): Actor {
  return principal.kind === 'ops'
    ? { type: 'OPS', id: principal.name, role: principal.role }
    : { type: 'INSTALLATION', id: principal.installationId };
}
