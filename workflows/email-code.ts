/**
 * emailCodeWorkflow: one run per "we mail you a code, you type it back" exchange (account confirmation,
 * machine link, installation claim, password reset).
 *
 * - the code is generated, stored hashed and mailed by an activity; it never enters the history;
 * - submissions arrive through `submitCodeUpdate`, answered ok / wrong (tries left) / expired / locked;
 *   tries count across re-sent codes, so re-sending never resets them;
 * - `resendCodeSignal` issues a new code (the old one is voided), subject to a cool-down and a maximum;
 * - the code expires after `ttlSeconds` (a durable timer); the challenge is then closed as EXPIRED;
 * - on a correct code the purpose's effect is applied by an activity (activate the account, link the
 *   machine...) before "ok" is answered; for a grace period a re-submission of the right code answers ok
 *   again, so a client that lost the answer can retry and finish its own step.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { EmailCodeActivities } from '../activities/email-code';
import {
  CODE_PATTERN,
  decideResend,
  type ChallengePurpose,
  type ChallengeState,
  type EmailCodeSettings,
  type SubmitCodeResult,
} from '../domain/email-code';
import { isErrorCode } from '../domain/errors';

export interface EmailCodeWorkflowInput {
  purpose: ChallengePurpose;
  email: string;
  accountId?: number;
  installationId?: string;
  baseId?: string;
  machineName?: string;
  settings: EmailCodeSettings;
}

export type EmailCodeWorkflowState = ChallengeState | 'REJECTED';

export interface EmailCodeStateView {
  challengeId: string;
  purpose: ChallengePurpose;
  status: EmailCodeWorkflowState;
  codesSent: number;
  triesLeft: number;
  resends: number;
  lastIssuedAtMs: number;
  expiresAtMs: number;
}

export interface EmailCodeOutcome {
  challengeId: string;
  status: EmailCodeWorkflowState;
  attempts: number;
}

export type SubmitCodeAnswer = SubmitCodeResult | { status: 'rejected'; code: string; message: string };

export const submitCodeUpdate = defineUpdate<SubmitCodeAnswer, [string]>('submitCode');
export const resendCodeSignal = defineSignal('resendCode');
export const getEmailCodeStateQuery = defineQuery<EmailCodeStateView>('getEmailCodeState');

const activities = proxyActivities<EmailCodeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

export async function emailCodeWorkflow(input: EmailCodeWorkflowInput): Promise<EmailCodeOutcome> {
  const { settings } = input;
  const challengeId = uuid4();
  let status: EmailCodeWorkflowState = 'PENDING';
  let attempts = 0;
  let codesSent = 0;
  let resends = 0;
  let lastIssuedAtMs = 0;
  let expiresAtMs = Number.MAX_SAFE_INTEGER;
  let resendRequested = false;
  let busy = false; // one submission at a time, so tries are counted exactly
  let rejection: { code: string; message: string } | undefined;

  // handlers change `status` too; read it through a function so the compiler does not narrow it
  const currentStatus = (): EmailCodeWorkflowState => status;
  const resendDecision = () =>
    decideResend(
      { status: status === 'REJECTED' ? 'EXPIRED' : status, resends, lastIssuedAtMs },
      settings,
      Date.now(),
    );

  setHandler(getEmailCodeStateQuery, () => ({
    challengeId,
    purpose: input.purpose,
    status,
    codesSent,
    triesLeft: Math.max(settings.maxAttempts - attempts, 0),
    resends,
    lastIssuedAtMs,
    expiresAtMs,
  }));

  setHandler(resendCodeSignal, () => {
    if (resendDecision().allowed) resendRequested = true;
  });

  setHandler(
    submitCodeUpdate,
    async (code): Promise<SubmitCodeAnswer> => {
      await condition(() => !busy && codesSent > 0);
      busy = true;
      try {
        if (status === 'REJECTED' && rejection) return { status: 'rejected', ...rejection };
        if (status === 'LOCKED') return { status: 'locked' };
        if (status === 'EXPIRED' || (status === 'PENDING' && Date.now() >= expiresAtMs))
          return { status: 'expired' };
        if (await activities.verifyCode({ challengeId, code })) {
          if (status === 'PENDING') {
            try {
              await activities.completeChallenge({ challengeId });
            } catch (error) {
              const failure = businessFailure(error);
              if (!failure) throw error;
              status = 'REJECTED';
              rejection = failure;
              return { status: 'rejected', ...failure };
            }
            status = 'VERIFIED';
          }
          return { status: 'ok', challengeId };
        }
        attempts += 1;
        if (attempts >= settings.maxAttempts) {
          if (status === 'PENDING') status = 'LOCKED';
          return { status: 'locked' };
        }
        return { status: 'wrong', triesLeft: settings.maxAttempts - attempts };
      } finally {
        busy = false;
      }
    },
    {
      validator: (code) => {
        if (typeof code !== 'string' || !CODE_PATTERN.test(code)) throw new Error('the code is 6 digits');
      },
    },
  );

  const issueCode = async () => {
    // counted once mailed, so a submission is never checked against a code still being issued
    await activities.issueCode({ challengeId, issueNumber: codesSent + 1, ttlSeconds: settings.ttlSeconds });
    codesSent += 1;
    lastIssuedAtMs = Date.now();
    expiresAtMs = lastIssuedAtMs + settings.ttlSeconds * 1000;
  };

  await activities.openChallenge({
    challengeId,
    workflowId: workflowInfo().workflowId,
    purpose: input.purpose,
    email: input.email,
    accountId: input.accountId,
    installationId: input.installationId,
    baseId: input.baseId,
    machineName: input.machineName,
  });
  await issueCode();

  while (currentStatus() === 'PENDING') {
    const woke = await condition(
      () => status !== 'PENDING' || resendRequested,
      Math.max(expiresAtMs - Date.now(), 1),
    );
    if (!woke) {
      await condition(() => !busy); // a submission that started before the deadline finishes first
      if (status === 'PENDING') status = 'EXPIRED';
    } else if (resendRequested && status === 'PENDING') {
      resendRequested = false;
      resends += 1;
      await issueCode();
    }
  }

  const final = currentStatus();
  if (final === 'VERIFIED') {
    await sleep(settings.verifiedGraceSeconds * 1000);
  } else if (final !== 'PENDING') {
    await activities.closeChallenge({ challengeId, status: final, attempts });
  }
  await condition(allHandlersFinished);
  return { challengeId, status: final, attempts };
}

/** A business refusal raised by an activity (non-retryable, typed with one of our error codes). */
function businessFailure(error: unknown): { code: string; message: string } | undefined {
  if (
    error instanceof ActivityFailure &&
    error.cause instanceof ApplicationFailure &&
    isErrorCode(error.cause.type)
  ) {
    return { code: error.cause.type, message: error.cause.message };
  }
  return undefined;
}
