/**
 * emailCodeWorkflow on the time-skipping test server, activities stubbed by type: expiry after the
 * default 30 minutes, lock after 5 wrong tries, re-send limits, the grace period after success, and a
 * business refusal of the purpose's effect.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { EmailCodeActivities } from '../../activities/email-code';
import type { EmailCodeSettings } from '../../domain/email-code';
import { startTimeSkippingServer } from '../../infra/embedded/temporal';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import {
  emailCodeWorkflow,
  getEmailCodeStateQuery,
  resendCodeSignal,
  submitCodeUpdate,
  type EmailCodeWorkflowInput,
} from '../../workflows/email-code';
import { installTestRuntime, workflowBundle } from '../helpers/harness';

const settings: EmailCodeSettings = {
  ttlSeconds: 1800,
  maxAttempts: 5,
  resendCooldownSeconds: 60,
  maxResends: 2,
  verifiedGraceSeconds: 900,
};
const input: EmailCodeWorkflowInput = {
  purpose: 'ACCOUNT_CONFIRMATION',
  email: 'a@example.fr',
  accountId: 1,
  settings,
};
const RIGHT = '123456';
const WRONG = '654321';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  installTestRuntime();
  env = await startTimeSkippingServer({ searchAttributes: PROJECT_SEARCH_ATTRIBUTES });
});
afterAll(async () => {
  await env?.teardown();
});

/** Stub activities that record calls; the "current" code is the last issued one. */
function stubActivities(overrides: Partial<EmailCodeActivities> = {}) {
  const calls: { name: string; args: unknown }[] = [];
  let issued = 0;
  const activities: EmailCodeActivities = {
    openChallenge: async (args) => void calls.push({ name: 'openChallenge', args }),
    issueCode: async (args) => {
      issued = args.issueNumber;
      calls.push({ name: 'issueCode', args });
    },
    // the code of issue n is RIGHT only for the latest issue: older codes are void
    verifyCode: async ({ code }) => code === `${RIGHT.slice(0, 5)}${issued % 10 === 1 ? RIGHT[5] : issued}`,
    completeChallenge: async (args) => void calls.push({ name: 'completeChallenge', args }),
    closeChallenge: async (args) => void calls.push({ name: 'closeChallenge', args }),
    ...overrides,
  };
  return { activities, calls, names: () => calls.map((c) => c.name) };
}

async function withWorker<T>(
  activities: EmailCodeActivities,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `email-code-${Math.random().toString(36).slice(2)}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities,
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(fn(taskQueue));
}

const start = (taskQueue: string, overrides: Partial<EmailCodeWorkflowInput> = {}) =>
  env.client.workflow.start(emailCodeWorkflow, {
    taskQueue,
    workflowId: `wf-${Math.random()}`,
    args: [{ ...input, ...overrides }],
  });

it('expires after the default 30 minutes and closes the challenge as EXPIRED', async () => {
  const stub = stubActivities();
  const outcome = await withWorker(stub.activities, async (taskQueue) => {
    const handle = await start(taskQueue);
    await env.sleep('29 minutes');
    expect((await handle.query(getEmailCodeStateQuery)).status).toBe('PENDING');
    await env.sleep('2 minutes');
    const answer = await handle.executeUpdate(submitCodeUpdate, { args: [RIGHT] }).catch((e: Error) => e);
    return { result: await handle.result(), answer };
  });
  expect(outcome.result.status).toBe('EXPIRED');
  expect(stub.names()).toEqual(['openChallenge', 'issueCode', 'closeChallenge']);
  expect(stub.calls.at(-1)!.args).toMatchObject({ status: 'EXPIRED', attempts: 0 });
});

it('locks after 5 wrong codes and then refuses the right one', async () => {
  const stub = stubActivities();
  const answers = await withWorker(stub.activities, async (taskQueue) => {
    const handle = await start(taskQueue);
    const seen: unknown[] = [];
    for (let i = 0; i < 5; i += 1) seen.push(await handle.executeUpdate(submitCodeUpdate, { args: [WRONG] }));
    seen.push(
      await handle.executeUpdate(submitCodeUpdate, { args: [RIGHT] }).catch(() => ({ status: 'closed' })),
    );
    expect((await handle.result()).status).toBe('LOCKED');
    return seen;
  });
  expect(answers).toEqual([
    { status: 'wrong', triesLeft: 4 },
    { status: 'wrong', triesLeft: 3 },
    { status: 'wrong', triesLeft: 2 },
    { status: 'wrong', triesLeft: 1 },
    { status: 'locked' },
    expect.objectContaining({ status: expect.stringMatching(/locked|closed/) }),
  ]);
  expect(stub.names()).not.toContain('completeChallenge');
});

it('re-sends only after the cool-down and up to the maximum; tries are not reset', async () => {
  const stub = stubActivities();
  await withWorker(stub.activities, async (taskQueue) => {
    const handle = await start(taskQueue);
    await handle.executeUpdate(submitCodeUpdate, { args: [WRONG] });
    await handle.signal(resendCodeSignal); // too soon: ignored
    await env.sleep('61 seconds');
    await handle.signal(resendCodeSignal);
    await env.sleep('61 seconds');
    await handle.signal(resendCodeSignal);
    await env.sleep('61 seconds');
    await handle.signal(resendCodeSignal); // over the maximum of 2: ignored
    await env.sleep('1 second');
    const state = await handle.query(getEmailCodeStateQuery);
    expect(state).toMatchObject({ codesSent: 3, resends: 2, triesLeft: 4, status: 'PENDING' });
    // the first code is void now; the third one works
    expect(await handle.executeUpdate(submitCodeUpdate, { args: [RIGHT] })).toEqual({
      status: 'wrong',
      triesLeft: 3,
    });
    expect(await handle.executeUpdate(submitCodeUpdate, { args: ['123453'] })).toMatchObject({
      status: 'ok',
    });
  });
  expect(stub.names().filter((n) => n === 'issueCode')).toHaveLength(3);
});

it('applies the effect once, answers ok again during the grace period, then completes', async () => {
  const stub = stubActivities();
  await withWorker(stub.activities, async (taskQueue) => {
    const handle = await start(taskQueue);
    expect(await handle.executeUpdate(submitCodeUpdate, { args: [RIGHT] })).toMatchObject({ status: 'ok' });
    expect(await handle.executeUpdate(submitCodeUpdate, { args: [RIGHT] })).toMatchObject({ status: 'ok' });
    await env.sleep('10 minutes');
    expect(await handle.executeUpdate(submitCodeUpdate, { args: [RIGHT] })).toMatchObject({ status: 'ok' });
    expect(await handle.result()).toMatchObject({ status: 'VERIFIED' });
  });
  expect(stub.names().filter((n) => n === 'completeChallenge')).toHaveLength(1);
  expect(stub.names()).not.toContain('closeChallenge');
});

it("answers 'rejected' when the effect is refused (e.g. the company got an account meanwhile)", async () => {
  const stub = stubActivities({
    completeChallenge: async () => {
      throw ApplicationFailure.create({
        type: 'ACCOUNT_EXISTS',
        message: 'This company already has an account',
        nonRetryable: true,
      });
    },
  });
  await withWorker(stub.activities, async (taskQueue) => {
    const handle = await start(taskQueue);
    expect(await handle.executeUpdate(submitCodeUpdate, { args: [RIGHT] })).toEqual({
      status: 'rejected',
      code: 'ACCOUNT_EXISTS',
      message: 'This company already has an account',
    });
    expect((await handle.result()).status).toBe('REJECTED');
  });
  expect(stub.calls.at(-1)).toMatchObject({ name: 'closeChallenge', args: { status: 'REJECTED' } });
});

it('refuses a malformed code in the update validator, without counting a try', async () => {
  const stub = stubActivities();
  await withWorker(stub.activities, async (taskQueue) => {
    const handle = await start(taskQueue);
    await expect(handle.executeUpdate(submitCodeUpdate, { args: ['12ab'] })).rejects.toThrow();
    expect((await handle.query(getEmailCodeStateQuery)).triesLeft).toBe(5);
    await handle.terminate('test done');
  });
});
