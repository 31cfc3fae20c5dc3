import { catalogSchema, DEFAULT_CATALOG, type Catalog } from '../../domain/catalog';
import type { Db } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';

/** The catalogue in force: the newest version saved by ops, or the default one. */
export async function getCatalog(db: Db): Promise<Catalog> {
  const newest = await db.catalogVersion.findFirst({ orderBy: { id: 'desc' } });
  return newest ? catalogSchema.parse(newest.data) : DEFAULT_CATALOG;
}

/** Ops change prices: a new version, effective for purchases and renewals priced from now on. */
export async function saveCatalog(db: Db, actor: Actor, catalog: Catalog): Promise<{ version: number }> {
  const row = await db.catalogVersion.create({
    data: { data: JSON.parse(JSON.stringify(catalog)) as object, createdBy: `${actor.type}:${actor.id}` },
  });
  await audit(db, actor, {
    action: 'catalog.changed',
    entityType: 'CATALOG',
    entityId: row.id,
    data: { version: row.id },
  });
  return { version: row.id };
}
