import { AppError } from '../../domain/errors';
import { generateToken, hashToken, tokenPrefix } from '../../infra/crypto';
import type { Db } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';

/** Creates an API key for an installation; the key is returned once and stored only as a hash. */
export async function issueApiKey(
  db: Db,
  actor: Actor,
  installationId: string,
): Promise<{ apiKey: string; keyId: string }> {
  const apiKey = generateToken('lk');
  const row = await db.apiKey.create({
    data: { installationId, hash: hashToken(apiKey), prefix: tokenPrefix(apiKey) },
  });
  await audit(db, actor, {
    action: 'api_key.issued',
    entityType: 'API_KEY',
    entityId: row.id,
    data: { installationId, prefix: row.prefix },
  });
  return { apiKey, keyId: row.id };
}

/** A new installation (machine) of a base, with its first key; creates the base when it is new. */
export async function createInstallation(
  db: Db,
  actor: Actor,
  options: { baseId: string; machineName: string; accountId?: number | null },
) {
  const installation = await db.installation.create({
    data: {
      baseId: options.baseId,
      machineName: options.machineName,
      accountId: options.accountId ?? null,
      linkedAt: options.accountId ? new Date() : null,
    },
  });
  await audit(db, actor, {
    action: 'installation.registered',
    entityType: 'INSTALLATION',
    entityId: installation.id,
    data: { baseId: options.baseId, machineName: options.machineName, accountId: options.accountId ?? null },
  });
  const { apiKey, keyId } = await issueApiKey(db, actor, installation.id);
  return {
    installationId: installation.id,
    baseId: options.baseId,
    machineName: options.machineName,
    apiKey,
    keyId,
  };
}

export async function revokeApiKey(db: Db, actor: Actor, keyId: string): Promise<void> {
  const key = await db.apiKey.findUnique({ where: { id: keyId } });
  if (!key) throw new AppError('API_KEY_NOT_FOUND', `API key ${keyId} does not exist`);
  if (key.revokedAt) return;
  await db.apiKey.update({
    where: { id: keyId },
    data: { revokedAt: new Date(), revokedBy: `${actor.type}:${actor.id}` },
  });
  await audit(db, actor, { action: 'api_key.revoked', entityType: 'API_KEY', entityId: keyId });
}
