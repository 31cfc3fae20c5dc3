import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from '../../domain/sessions';
import type { ServiceDeps } from '../deps';

/** Session settings (from config: SESSION_HEARTBEAT_TIMEOUT_SECONDS). */
export interface SessionSettings {
  /** a session silent for longer than this is expired and no longer counts */
  heartbeatTimeoutSeconds: number;
}

export const defaultSessionSettings: SessionSettings = {
  heartbeatTimeoutSeconds: DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
};

export function sessionSettingsOf(deps: Pick<ServiceDeps, 'sessions'>): SessionSettings {
  return deps.sessions ?? defaultSessionSettings;
}
