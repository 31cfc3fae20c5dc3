import type { Licence } from '../../generated/prisma/client';
import { addDays, type LocalDate } from '../../domain/periods';
import type { ScheduledChange } from '../../domain/scheduled-change';
import { pgPoolOf, type Db, type PrismaClient } from '../../infra/prisma';

export const CURRENT_VERSION = 'A1';

type LicenceFields = Pick<
  Licence,
  | 'id'
  | 'version'
  | 'edition'
  | 'mode'
  | 'connections'
  | 'period'
  | 'extensions'
  | 'scheduledChange'
  | 'status'
  | 'periodStart'
  | 'periodEnd'
  | 'autoRenew'
  | 'paymentMethod'
  | 'holderName'
  | 'holderAccountId'
  | 'createdAt'
>;

function view(l: LicenceFields) {
  return {
    licenceId: l.id,
    version: l.version,
    edition: l.edition,
    mode: l.mode,
    connections: l.connections,
    period: l.period,
    extensions: l.extensions,
    /** the change recorded for the period end (applied by the next renewal), or null */
    scheduledChange: (l.scheduledChange ?? null) as ScheduledChange | null,
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
export async function getLicenceScreen(prisma: PrismaClient, baseId: string) {
  // every ERP checks this at start-up: one prepared statement straight on the pg pool (through Prisma, its
  // two reads and the key lookup were most of the route's CPU, docs/benchmarks.md)
  const { rows } = await pgPoolOf(prisma).query<{
    licence: (Omit<LicenceFields, 'createdAt'> & { createdAt: string }) | null;
    pending: { id: string; status: string; paymentMethod: string } | null;
    toPay: InvoiceToPayFields | null;
  }>({ name: 'licence-screen', text: LICENCE_SCREEN_SQL, values: [baseId] });
  const row = rows[0]!;
  const current = row.licence && { ...row.licence, createdAt: new Date(row.licence.createdAt) };
  const pending = row.pending;
  const licence = current
    ? view(current)
    : {
        licenceId: null,
        version: CURRENT_VERSION,
        edition: 'STANDARD',
        mode: 'LOCAL',
        connections: 1,
        period: null,
        extensions: [],
        scheduledChange: null,
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
    /** cheque/transfer: the renewal's invoice to pay, while it is out (docs/offline-renewals.md) */
    invoiceToPay: current && row.toPay ? row.toPay : null,
  };
}

interface InvoiceToPayFields {
  amountCents: number;
  dueOn: string;
  periodStart: string;
  periodEnd: string;
  remindersSent: number;
}

const LICENCE_SCREEN_SQL = `
  SELECT
    (SELECT json_build_object(
        'id', l.id, 'version', l.version, 'edition', l.edition, 'mode', l.mode,
        'connections', l.connections, 'period', l.period, 'status', l.status,
        'extensions', l.extensions, 'scheduledChange', l."scheduledChange",
        'periodStart', l."periodStart", 'periodEnd', l."periodEnd", 'autoRenew', l."autoRenew",
        'paymentMethod', l."paymentMethod", 'holderName', l."holderName",
        'holderAccountId', l."holderAccountId",
        'createdAt', to_char(l."createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
     FROM "Licence" l
     WHERE l."baseId" = $1 AND l.status IN ('ACTIVE', 'PAST_DUE', 'SUSPENDED')
     ORDER BY l."createdAt" DESC LIMIT 1) AS licence,
    (SELECT json_build_object('id', p.id, 'status', p.status, 'paymentMethod', p."paymentMethod")
     FROM "Purchase" p
     WHERE p."baseId" = $1 AND p.status IN ('AWAITING_PAYMENT', 'AWAITING_OPS')
     ORDER BY p."createdAt" DESC LIMIT 1) AS pending,
    (SELECT json_build_object('amountCents', t."amountCents", 'dueOn', t."dueOn",
        'periodStart', t."periodStart", 'periodEnd', t."periodEnd", 'remindersSent', t."remindersSent")
     FROM "InvoiceToPay" t
     WHERE t."baseId" = $1 AND t.status = 'OPEN'
     ORDER BY t."issuedAt" DESC LIMIT 1) AS "toPay"`;

/** Every licence the base ever had, newest first. */
export async function getLicenceHistory(db: Db, baseId: string) {
  const rows = await db.licence.findMany({ where: { baseId }, orderBy: { createdAt: 'desc' } });
  return rows.map(view);
}
