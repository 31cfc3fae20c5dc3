/**
 * Concurrent sessions (SPEC §4): how many a base may have open, what a full base answers, and the words of
 * the session journal. Pure: the admission itself (exact under concurrency) is a database concern, in
 * services/sessions/admission.ts, which applies the same rule in SQL.
 */

/** STANDARD + LOCAL, the free edition every base has without a paid licence, allows one connection. */
export const FREE_EDITION_CONNECTIONS = 1;

/** The reason the eviction screen pre-fills (seed 002, "Ajouter une connexion"). */
export const DEFAULT_EVICTION_REASON = 'Dépassement connexions autorisées';

/** A session not heard from for this long is expired and no longer counts (configurable). */
export const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 300;

export type SessionEndKind = 'CLOSED' | 'EVICTED' | 'EXPIRED' | 'TRIMMED';
export type SessionEventKind = 'OPENED' | SessionEndKind;

/** The base's newest licence that decides its connections (A1; ACTIVE, PAST_DUE, SUSPENDED or ENDED). */
export interface DecidingLicence {
  status: 'ACTIVE' | 'PAST_DUE' | 'SUSPENDED' | 'ENDED';
  connections: number;
}

export type SeatSource = 'LICENCE' | 'FREE_EDITION' | 'SUSPENDED';

/**
 * How many sessions a base may have at once:
 * - a usable paid licence (ACTIVE, or PAST_DUE during the dunning grace period): its connections;
 * - a SUSPENDED licence (CLOUD after the last failed payment, SPEC §3 "CLOUD: access suspended"): none —
 *   the hosted base is closed until a new licence is bought; the free fallback does not apply, since
 *   STANDARD + LOCAL runs on the customer's own machines, not on our cloud;
 * - otherwise (no paid licence, or it ENDED): the free edition's connections.
 */
export function seatLimit(licence: DecidingLicence | null): { maxConnections: number; source: SeatSource } {
  if (licence && (licence.status === 'ACTIVE' || licence.status === 'PAST_DUE')) {
    return { maxConnections: licence.connections, source: 'LICENCE' };
  }
  if (licence?.status === 'SUSPENDED') return { maxConnections: 0, source: 'SUSPENDED' };
  return { maxConnections: FREE_EDITION_CONNECTIONS, source: 'FREE_EDITION' };
}

/** Whole seconds between two instants, never negative (the "Durée" column of the sessions screen). */
export function durationSeconds(from: Date, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));
}

/** The sessions to close when a base has more than it may: the oldest first, so the newest stay. */
export function sessionsToTrim<T extends { openedAt: Date; id: bigint }>(
  active: T[],
  maxConnections: number,
): T[] {
  const extra = active.length - Math.max(0, maxConnections);
  if (extra <= 0) return [];
  return [...active]
    .sort((a, b) => a.openedAt.getTime() - b.openedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, extra);
}

export interface FullBaseChoice {
  choice: 'DISCONNECT_SESSION' | 'ORDER_CONNECTION' | 'QUIT';
  label: string;
  method?: 'POST';
  href?: string;
  body?: Record<string, unknown>;
}

/**
 * The three choices of a full base (seed 002): disconnect one session and take its place, order one more
 * connection (the add-connection operation of a paid licence; without one, buying a licence), or quit.
 */
export function fullBaseChoices(
  baseId: string,
  maxConnections: number,
  source: SeatSource,
): FullBaseChoice[] {
  const order: FullBaseChoice =
    source === 'LICENCE'
      ? {
          choice: 'ORDER_CONNECTION',
          label: 'Commander une nouvelle connexion',
          method: 'POST',
          href: `/bases/${baseId}/licence/changes`,
          body: { connections: maxConnections + 1 },
        }
      : {
          choice: 'ORDER_CONNECTION',
          label: 'Commander une nouvelle connexion',
          method: 'POST',
          href: `/bases/${baseId}/subscriptions`,
          body: { connections: maxConnections + 1 },
        };
  return [
    {
      choice: 'DISCONNECT_SESSION',
      label: 'Déconnecter une session',
      method: 'POST',
      href: `/bases/${baseId}/sessions`,
      body: { evict: { sessionId: '<id of the session to disconnect>', reason: DEFAULT_EVICTION_REASON } },
    },
    order,
    { choice: 'QUIT', label: 'Quitter Gestan' },
  ];
}
