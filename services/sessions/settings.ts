import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from '../../domain/sessions';
import type { ServiceDeps } from '../deps';

/** Session settings (from config: SESSION_HEARTBEAT_TIMEOUT_SECONDS, SESSION_SYNCHRONOUS_COMMIT). */
export interface SessionSettings {
  /** a session silent for longer than this is expired and no longer counts */
  heartbeatTimeoutSeconds: number;
  /** whether an admission's commit waits for its WAL flush (false when absent) */
  synchronousCommit?: boolean;
}

export const defaultSessionSettings: SessionSettings = {
  heartbeatTimeoutSeconds: DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
  synchronousCommit: false,
};

export function sessionSettingsOf(deps: Pick<ServiceDeps, 'sessions'>): SessionSettings {
  return deps.sessions ?? defaultSessionSettings;
}
