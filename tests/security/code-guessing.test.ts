/**
 * Emailed codes can't be guessed by walking around one challenge's limit (docs/security.md): re-sending,
 * opening the challenge again (`POST /accounts` with the same details once it locked), submitting in
 * parallel — an address gets at most EMAIL_CODE_MAX_ATTEMPTS wrong codes checked per window, and at most
 * EMAIL_CODE_MAX_CODES_PER_WINDOW codes mailed. The lock's message names what gives a new code.
 * The count of codes checked is read from the workflows themselves (their tries), not from the limiter.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { workflowIds } from '../../workflows/ids';
import { getEmailCodeStateQuery } from '../../workflows/email-code';
import { bearer, PASSWORD, registerMachine, waitForCode } from '../helpers/api';
import { companyDetails, createHarness, uniqueEmail, type Harness } from '../helpers/harness';

const MAX_TRIES = 5;
const MAX_CODES = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('emailed code guessing across challenges', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({
      emailCode: { maxAttempts: MAX_TRIES, resendCooldownSeconds: 1, maxResends: 5 },
      emailCodeLimits: { windowSeconds: 3600, maxCodesPerWindow: MAX_CODES },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Wrong codes the workflows actually checked for this address: closed challenges' tries + the running one's. */
  async function codesChecked(email: string): Promise<number> {
    const challenges = await h.prisma.emailChallenge.findMany({ where: { email } });
    let checked = challenges.filter((c) => c.closedAt).reduce((sum, c) => sum + c.attempts, 0);
    const running = challenges.find((c) => !c.closedAt);
    if (running) {
      const state = await h.temporal.workflow
        .getHandle(workflowIds.accountConfirmation(email))
        .query(getEmailCodeStateQuery);
      checked += MAX_TRIES - state.triesLeft;
    }
    return checked;
  }

  it('re-sends, re-creations and parallel submissions: at most the documented guesses and mails', async () => {
    const machine = await registerMachine(h);
    const email = uniqueEmail();
    const details = { ...companyDetails(), email };
    const create = () => request(h.app).post('/accounts').set(bearer(machine.apiKey)).send(details);
    const created = await create();
    expect(created.status).toBe(202);
    const accountId = created.body.accountId as number;
    const submit = (code: string) =>
      request(h.app)
        .post(`/accounts/${accountId}/confirmation`)
        .set(bearer(machine.apiKey))
        .send({ code, password: PASSWORD });
    const resend = () =>
      request(h.app).post(`/accounts/${accountId}/confirmation/resend`).set(bearer(machine.apiKey));

    let code = await waitForCode(h, email);
    const wrong = () => (code === '000000' ? '111111' : '000000');
    // two wrong, a re-send, two wrong, a re-post of the same details (the same challenge), then parallel guesses
    expect((await submit(wrong())).body.error.code).toBe('CODE_INVALID');
    expect((await submit(wrong())).body.error.code).toBe('CODE_INVALID');
    await sleep(1100);
    let lastMail = h.mail.messagesTo(email).at(-1)!.id;
    expect((await resend()).status).toBe(202);
    code = await waitForCode(h, email, lastMail);
    expect((await submit(wrong())).body.error.code).toBe('CODE_INVALID');
    expect((await submit(wrong())).body.error.code).toBe('CODE_INVALID');
    expect((await create()).status).toBe(202);
    const parallel = await Promise.all(Array.from({ length: 6 }, () => submit(wrong())));
    expect(new Set(parallel.map((r) => r.body.error.code))).toEqual(new Set(['CODE_LOCKED']));

    // the lock names what works; re-sending is not it
    const locked = parallel[0]!.body.error;
    expect(locked.message).toMatch(/POST \/accounts again/);
    expect(locked.details.retryAfterSeconds).toBeGreaterThan(0);
    const resent = await resend();
    expect(resent.body.error.code).toBe('CODE_LOCKED');
    expect(resent.body.error.message).toMatch(/POST \/accounts again/);

    // opening the challenge again mails a new code, but no code is checked until the window ends
    await sleep(1100);
    lastMail = h.mail.messagesTo(email).at(-1)!.id;
    expect((await create()).status).toBe(202);
    code = await waitForCode(h, email, lastMail);
    for (const guess of [wrong(), wrong(), code]) {
      const res = await submit(guess);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('CODE_LOCKED');
      expect(Number(res.headers['retry-after'] ?? 0)).toBe(0); // a 422, not a 429: the header is for 429/503
    }
    expect(await codesChecked(email)).toBe(MAX_TRIES);
    expect((await h.prisma.account.findUniqueOrThrow({ where: { id: accountId } })).passwordHash).toBeNull();

    // codes mailed to the address: at most MAX_CODES per window, whatever asks for them
    let refusal: { code: string; details: { retryAfterSeconds: number } } | undefined;
    for (let i = 0; i < 6 && !refusal; i += 1) {
      await sleep(1500);
      const res = await resend();
      // a re-send inside the challenge's own cool-down is just early: try again
      if (res.status !== 202 && res.body.error.code !== 'RESEND_TOO_SOON') refusal = res.body.error;
    }
    expect(refusal?.code).toBe('RESEND_LIMIT_REACHED');
    expect(refusal?.details.retryAfterSeconds).toBeGreaterThan(0);
    await sleep(500);
    expect(h.mail.messagesTo(email)).toHaveLength(MAX_CODES);
  });

  it('a re-creation inside the re-send cool-down mails nothing: 429 RESEND_TOO_SOON', async () => {
    const slow = await createHarness({ emailCode: { maxAttempts: 2, resendCooldownSeconds: 120 } });
    try {
      const machine = await registerMachine(slow);
      const email = uniqueEmail();
      const details = { ...companyDetails(), email };
      const created = await request(slow.app).post('/accounts').set(bearer(machine.apiKey)).send(details);
      const code = await waitForCode(slow, email);
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 2; i += 1) {
        await request(slow.app)
          .post(`/accounts/${created.body.accountId}/confirmation`)
          .set(bearer(machine.apiKey))
          .send({ code: wrong, password: PASSWORD });
      }
      // the challenge is locked (closed); opening it again at once is refused, nothing mailed
      await sleep(300);
      const again = await request(slow.app).post('/accounts').set(bearer(machine.apiKey)).send(details);
      expect(again.status).toBe(429);
      expect(again.body.error.code).toBe('RESEND_TOO_SOON');
      expect(Number(again.headers['retry-after'])).toBeGreaterThan(60);
      expect(slow.mail.messagesTo(email)).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });
});
