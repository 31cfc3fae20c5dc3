import { durationSeconds } from '../../domain/sessions';

/** A session as the sessions screen shows it (seed 002: Id, Par, Nom/Prénom, Adresse IP, Ordinateur, début, durée). */
export interface SessionView {
  sessionId: number;
  userCode: string;
  userName: string;
  ip: string;
  computerName: string;
  openedAt: string;
  durationSeconds: number;
  lastHeartbeatAt: string;
}

export function sessionView(
  row: {
    id: bigint | number;
    userCode: string;
    userName: string;
    ip: string;
    computerName: string;
    openedAt: Date | string;
    lastSeenAt: Date | string;
  },
  now: Date,
): SessionView {
  const openedAt = new Date(row.openedAt);
  return {
    sessionId: Number(row.id),
    userCode: row.userCode,
    userName: row.userName,
    ip: row.ip,
    computerName: row.computerName,
    openedAt: openedAt.toISOString(),
    durationSeconds: durationSeconds(openedAt, now),
    lastHeartbeatAt: new Date(row.lastSeenAt).toISOString(),
  };
}
