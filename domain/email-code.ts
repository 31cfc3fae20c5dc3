/** Types and rules of the "we mail you a code, you type it back" exchange (emailCodeWorkflow). */

export type ChallengePurpose =
  'ACCOUNT_CONFIRMATION' | 'MACHINE_LINK' | 'INSTALLATION_CLAIM' | 'PASSWORD_RESET';

export const CODE_PATTERN = /^\d{6}$/;

export interface EmailCodeSettings {
  ttlSeconds: number;
  maxAttempts: number;
  resendCooldownSeconds: number;
  maxResends: number;
  verifiedGraceSeconds: number;
}

/**
 * Limits across challenges (docs/security.md), counted by the API in PostgreSQL: a challenge's own tries and
 * re-sends (EmailCodeSettings) reset when the challenge is opened again, these do not.
 */
export interface EmailCodeLimits {
  /** the window of the two limits below */
  windowSeconds: number;
  /** codes mailed to one address (new challenges and re-sends, every purpose) per window */
  maxCodesPerWindow: number;
}

export const DEFAULT_EMAIL_CODE_LIMITS: EmailCodeLimits = { windowSeconds: 3600, maxCodesPerWindow: 6 };

/** How the customer gets a new code once a challenge is locked or expired: the request that sent it, again. */
export const NEW_CODE_REQUEST: Record<ChallengePurpose, string> = {
  ACCOUNT_CONFIRMATION: 'POST /accounts again with the same details',
  MACHINE_LINK: 'POST /installations/me/account-link again',
  INSTALLATION_CLAIM: 'POST /installations again for this base and machine',
  PASSWORD_RESET: 'POST /password-resets again',
};

export type ChallengeState = 'PENDING' | 'VERIFIED' | 'EXPIRED' | 'LOCKED';

export type SubmitCodeResult =
  | { status: 'ok'; challengeId: string }
  | { status: 'wrong'; triesLeft: number }
  | { status: 'expired' }
  | { status: 'locked' };

export interface ResendDecision {
  allowed: boolean;
  reason?: 'TOO_SOON' | 'LIMIT_REACHED' | 'NOT_PENDING';
  retryAfterSeconds?: number;
}

/** Whether a new code may be sent now (pure: used by the workflow and by the API before it signals). */
export function decideResend(
  state: { status: ChallengeState; resends: number; lastIssuedAtMs: number },
  settings: Pick<EmailCodeSettings, 'resendCooldownSeconds' | 'maxResends'>,
  nowMs: number,
): ResendDecision {
  if (state.status !== 'PENDING') return { allowed: false, reason: 'NOT_PENDING' };
  if (state.resends >= settings.maxResends) return { allowed: false, reason: 'LIMIT_REACHED' };
  const readyAt = state.lastIssuedAtMs + settings.resendCooldownSeconds * 1000;
  if (nowMs < readyAt)
    return { allowed: false, reason: 'TOO_SOON', retryAfterSeconds: Math.ceil((readyAt - nowMs) / 1000) };
  return { allowed: true };
}
