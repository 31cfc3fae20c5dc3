/**
 * Starting, answering and re-sending email-code challenges from the API side. The workflow is the
 * authority on one challenge's tries, expiry and re-sends; when it has already closed, the challenge record
 * says why. Limits across challenges (a challenge opened again, re-sent, another purpose) are counted here,
 * in PostgreSQL (services/limits/rate-limits.ts), per address: the wrong codes checked and the codes mailed.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import {
  decideResend,
  DEFAULT_EMAIL_CODE_LIMITS,
  NEW_CODE_REQUEST,
  type ChallengePurpose,
} from '../../domain/email-code';
import { AppError } from '../../domain/errors';
import {
  emailCodeWorkflow,
  getEmailCodeStateQuery,
  resendCodeSignal,
  submitCodeUpdate,
  type EmailCodeWorkflowInput,
} from '../../workflows/email-code';
import type { ServiceDeps } from '../deps';
import { RateLimitExceeded, reserveAttempt, retryAfterOf, type RateRule } from '../limits/rate-limits';

const limitsOf = (deps: ServiceDeps) => deps.emailCodeLimits ?? DEFAULT_EMAIL_CODE_LIMITS;

/** Wrong codes checked for one address, whatever the challenge: EMAIL_CODE_MAX_ATTEMPTS per window. */
function guessRules(deps: ServiceDeps, email: string): RateRule[] {
  const { windowSeconds } = limitsOf(deps);
  return [
    { key: `email-code:guess:${email.toLowerCase()}`, limit: deps.emailCode.maxAttempts, windowSeconds },
  ];
}

/** A code mailed: the re-send cool-down per challenge key (re-creations included), and a cap per address. */
function mailRules(deps: ServiceDeps, workflowId: string, email: string): RateRule[] {
  const { windowSeconds, maxCodesPerWindow } = limitsOf(deps);
  const rules: RateRule[] = [
    { key: `email-code:mailed:${email.toLowerCase()}`, limit: maxCodesPerWindow, windowSeconds },
  ];
  if (deps.emailCode.resendCooldownSeconds > 0) {
    rules.push({
      key: `email-code:cool-down:${workflowId}`,
      limit: 1,
      windowSeconds: deps.emailCode.resendCooldownSeconds,
    });
  }
  return rules;
}

/** Counts a code about to be mailed, or refuses with RESEND_TOO_SOON / RESEND_LIMIT_REACHED. */
async function reserveMail(deps: ServiceDeps, workflowId: string, email: string) {
  try {
    return await reserveAttempt(deps.prisma, mailRules(deps, workflowId, email));
  } catch (error) {
    if (!(error instanceof RateLimitExceeded)) throw error;
    const retryAfterSeconds = error.retryAfterSeconds;
    if (error.rule.key.startsWith('email-code:cool-down:')) {
      throw new AppError('RESEND_TOO_SOON', `Wait ${retryAfterSeconds} s before asking for another code`, {
        retryAfterSeconds,
      });
    }
    throw new AppError(
      'RESEND_LIMIT_REACHED',
      `Too many codes were sent to this address: ask again in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}

/** The message of a locked challenge: what actually gives a new code, and from when. */
async function lockedError(deps: ServiceDeps, purpose: ChallengePurpose, email: string): Promise<AppError> {
  const retryAfterSeconds = await retryAfterOf(deps.prisma, guessRules(deps, email));
  const when = retryAfterSeconds > 0 ? ` in ${retryAfterSeconds} s` : '';
  return new AppError(
    'CODE_LOCKED',
    `Too many wrong codes: this code no longer works. For a new one, ${NEW_CODE_REQUEST[purpose]}${when}`,
    { triesLeft: 0, retryAfterSeconds, newCode: NEW_CODE_REQUEST[purpose] },
  );
}

/** The latest challenge opened under this workflow id (its address and purpose). */
function latestChallenge(deps: ServiceDeps, workflowId: string) {
  return deps.prisma.emailChallenge.findFirst({ where: { workflowId }, orderBy: { createdAt: 'desc' } });
}

/**
 * Starts the challenge (mailing its first code), or returns the one already running under the same id
 * (nothing mailed). A new challenge counts as a code mailed: cool-down and cap (RESEND_TOO_SOON,
 * RESEND_LIMIT_REACHED).
 */
export async function startEmailCode(
  deps: ServiceDeps,
  workflowId: string,
  input: Omit<EmailCodeWorkflowInput, 'settings'>,
): Promise<WorkflowHandle<typeof emailCodeWorkflow>> {
  const running = deps.temporal.workflow.getHandle<typeof emailCodeWorkflow>(workflowId);
  const statusOf = () =>
    running.describe().then(
      (d) => d.status.name,
      (error: unknown) => {
        if (isClosedOrMissing(error)) return 'NOT_FOUND';
        throw error;
      },
    );
  if ((await statusOf()) === 'RUNNING') return running;
  try {
    await reserveMail(deps, workflowId, input.email);
  } catch (error) {
    // a concurrent identical request reserved the code and is starting this very challenge: join it (as a
    // request arriving a moment later would), rather than refuse the cool-down it set itself
    if (!(error instanceof AppError && error.code === 'RESEND_TOO_SOON')) throw error;
    for (let pause = 20; pause <= 640; pause *= 2) {
      if ((await statusOf()) === 'RUNNING') return running;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    throw error;
  }
  return deps.temporal.workflow.start(emailCodeWorkflow, {
    workflowId,
    taskQueue: deps.taskQueue,
    args: [{ ...input, settings: deps.emailCode }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
}

/**
 * Starts the challenge (or joins the one running under the same id) and returns once its first code is
 * mailed, so the caller names a challenge that a submission or a re-send finds at once. It asks the run's
 * state (a query: unlike updates, any number of callers may wait at once), backing off up to 200 ms, for at
 * most `waitMs`. A code the mail server refuses for good ends the run: EMAIL_UNDELIVERABLE.
 */
export async function startEmailCodeWhenSent(
  deps: ServiceDeps,
  workflowId: string,
  input: Omit<EmailCodeWorkflowInput, 'settings'>,
  waitMs = 15_000,
): Promise<void> {
  const handle = await startEmailCode(deps, workflowId, input);
  const deadline = Date.now() + waitMs;
  for (let pause = 10; Date.now() < deadline; pause = Math.min(pause * 2, 200)) {
    // a query needs a worker: with none running, the challenge is still recorded durably and its code
    // goes out once a worker is back, so the answer does not wait for it
    const state = await handle.query(getEmailCodeStateQuery).catch(() => undefined);
    if (!state || state.codesSent > 0 || state.status !== 'PENDING') return;
    // a query still answers a run that failed (its state frozen before the first code): ask how it ended
    const { status } = await handle.describe();
    if (status.name === 'FAILED') {
      throw new AppError(
        'EMAIL_UNDELIVERABLE',
        `The mail server refuses ${input.email}: no code could be sent`,
      );
    }
    if (status.name !== 'RUNNING') return;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

function isClosedOrMissing(error: unknown): boolean {
  const e = error as { name?: string; code?: number; cause?: { code?: number } };
  return e?.name === 'WorkflowNotFoundError' || e?.code === 5 || e?.cause?.code === 5;
}

/** Why a challenge that no longer runs can't take a code. */
async function closedChallengeError(deps: ServiceDeps, workflowId: string): Promise<AppError> {
  const last = await latestChallenge(deps, workflowId);
  switch (last?.status) {
    case 'LOCKED':
      return lockedError(deps, last.purpose, last.email);
    case 'VERIFIED':
    case 'CONSUMED':
      return new AppError('CHALLENGE_ALREADY_USED', 'This code was already used');
    case 'REJECTED':
      return new AppError('CHALLENGE_ALREADY_USED', 'This request was refused; start again');
    case 'EXPIRED':
    case 'PENDING':
      return new AppError('CODE_EXPIRED', 'The code has expired: ask for a new code');
    default:
      return new AppError('CHALLENGE_NOT_FOUND', 'No code was requested for this; ask for one first');
  }
}

/**
 * Submits a code; resolves with the challenge id when right, throws the matching AppError otherwise. A
 * code is checked only within the address's guess limit (reserved first, so parallel submissions can't
 * overshoot it); only wrong codes count.
 */
export async function submitEmailCode(deps: ServiceDeps, workflowId: string, code: string): Promise<string> {
  // no challenge recorded yet: no code was mailed, so none can be right (and none is checked)
  const challenge = await latestChallenge(deps, workflowId);
  if (!challenge) throw await closedChallengeError(deps, workflowId);
  const reservation = await reserveAttempt(deps.prisma, guessRules(deps, challenge.email)).catch(
    async (error: unknown) => {
      if (error instanceof RateLimitExceeded)
        throw await lockedError(deps, challenge.purpose, challenge.email);
      throw error;
    },
  );
  let answer;
  try {
    answer = await deps.temporal.workflow
      .getHandle(workflowId)
      .executeUpdate(submitCodeUpdate, { args: [code] });
  } catch (error) {
    await reservation.release();
    if (isClosedOrMissing(error)) throw await closedChallengeError(deps, workflowId);
    throw error;
  }
  if (answer.status !== 'wrong' && answer.status !== 'locked') await reservation.release();
  switch (answer.status) {
    case 'ok':
      return answer.challengeId;
    case 'wrong':
      return Promise.reject(
        new AppError(
          'CODE_INVALID',
          `Wrong code: ${answer.triesLeft} tr${answer.triesLeft > 1 ? 'ies' : 'y'} left`,
          {
            triesLeft: answer.triesLeft,
          },
        ),
      );
    case 'expired':
      throw new AppError(
        'CODE_EXPIRED',
        `The code has expired: ask for a new one (${NEW_CODE_REQUEST[challenge.purpose]})`,
      );
    case 'locked':
      throw await lockedError(deps, challenge.purpose, challenge.email);
    case 'rejected':
      throw new AppError(answer.code as never, answer.message);
  }
}

/** Asks for a new code (voiding the previous one), within the re-send limits. */
export async function resendEmailCode(
  deps: ServiceDeps,
  workflowId: string,
): Promise<{ retryAfterSeconds: number }> {
  const handle = deps.temporal.workflow.getHandle(workflowId);
  let state;
  try {
    state = await handle.query(getEmailCodeStateQuery);
  } catch (error) {
    if (isClosedOrMissing(error)) throw await closedChallengeError(deps, workflowId);
    throw error;
  }
  const decision = decideResend(
    {
      status: state.status === 'REJECTED' ? 'EXPIRED' : state.status,
      resends: state.resends,
      lastIssuedAtMs: state.lastIssuedAtMs,
    },
    deps.emailCode,
    Date.now(),
  );
  if (!decision.allowed) {
    if (decision.reason === 'TOO_SOON') {
      throw new AppError(
        'RESEND_TOO_SOON',
        `Wait ${decision.retryAfterSeconds} s before asking for another code`,
        {
          retryAfterSeconds: decision.retryAfterSeconds,
        },
      );
    }
    if (decision.reason === 'LIMIT_REACHED')
      throw new AppError('RESEND_LIMIT_REACHED', 'No more codes can be sent for this request');
    throw await closedChallengeError(deps, workflowId);
  }
  const challenge = await latestChallenge(deps, workflowId);
  const reservation = challenge ? await reserveMail(deps, workflowId, challenge.email) : undefined;
  try {
    await handle.signal(resendCodeSignal);
  } catch (error) {
    await reservation?.release();
    // closed between the query and the signal (or failed: a query still answers a failed run)
    if (isClosedOrMissing(error)) throw await closedChallengeError(deps, workflowId);
    throw error;
  }
  return { retryAfterSeconds: deps.emailCode.resendCooldownSeconds };
}

/** Marks a VERIFIED challenge CONSUMED inside the caller's transaction; refuses a second use. */
export async function consumeChallenge(
  tx: Pick<ServiceDeps['prisma'], 'emailChallenge'>,
  challengeId: string,
): Promise<void> {
  const { count } = await tx.emailChallenge.updateMany({
    where: { id: challengeId, status: 'VERIFIED' },
    data: { status: 'CONSUMED', consumedAt: new Date() },
  });
  if (count === 0) throw new AppError('CHALLENGE_ALREADY_USED', 'This code was already used');
}
