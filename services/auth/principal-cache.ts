import { hashToken } from '../../infra/crypto';
import type { Db } from '../../infra/prisma';
import { resolveToken, type Principal } from './principal';

export interface PrincipalCache {
  resolve: (db: Db, token: string) => Promise<Principal | null>;
}

/**
 * A short-lived cache of key → principal for the hot routes (session open, heartbeat, close, and the
 * licence check `GET /bases/{id}/licence`), which
 * otherwise pay a key lookup per request. Bound: a revoked key, or a machine linked to or unlinked from an
 * account, is seen by those routes at most `ttlMs` later on each API instance; every other route looks the
 * key up each time. Only keys that resolved are cached (an unknown token never fills it), by their
 * SHA-256, and the oldest entries go first past `maxEntries`.
 */
export function createPrincipalCache(options: {
  ttlMs: number;
  maxEntries?: number;
  now?: () => number;
}): PrincipalCache {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { principal: Principal; expiresAt: number }>();
  return {
    async resolve(db, token) {
      const hash = hashToken(token);
      const hit = entries.get(hash);
      if (hit && hit.expiresAt > now()) return hit.principal;
      entries.delete(hash);
      const principal = await resolveToken(db, token);
      if (principal) {
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
        entries.set(hash, { principal, expiresAt: now() + options.ttlMs });
      }
      return principal;
    },
  };
}
