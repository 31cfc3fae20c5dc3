/**
 * Side effects of emailCodeWorkflow: the challenge record, issuing (generate, store hashed, mail) and
 * checking codes, and applying the purpose's effect once the right code came back.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ChallengePurpose } from '../domain/email-code';
import { generateNumericCode, hmac, safeEqualHex } from '../infra/crypto';
import type { Mailer } from '../infra/mailer';
import type { PrismaClient } from '../infra/prisma';
import { systemActor } from '../services/actor';
import { activateAccount } from '../services/accounts/activate-account';
import { linkInstallationToAccount } from '../services/installations/link-installation';
import { audit } from '../services/audit';
import { codeMail } from './email-templates';
import { classifyFailures } from './failures';

export interface EmailCodeActivityDeps {
  prisma: PrismaClient;
  mailer: Mailer;
  /** HMAC key for codes at rest */
  secret: string;
}

export interface OpenChallengeInput {
  challengeId: string;
  workflowId: string;
  purpose: ChallengePurpose;
  email: string;
  accountId?: number;
  installationId?: string;
  baseId?: string;
  machineName?: string;
}

export function createEmailCodeActivities({ prisma, mailer, secret }: EmailCodeActivityDeps) {
  const actor = systemActor('emailCodeWorkflow');
  return {
    async openChallenge(input: OpenChallengeInput): Promise<void> {
      const { challengeId, ...fields } = input;
      await prisma.emailChallenge.upsert({
        where: { id: challengeId },
        create: { id: challengeId, ...fields },
        update: {},
      });
    },

    /**
     * Generates a code, stores its HMAC (voiding earlier codes of the challenge) and mails it. A retry
     * of the same issue number replaces the row's code: only the last mailed code is valid.
     */
    async issueCode(input: { challengeId: string; issueNumber: number; ttlSeconds: number }): Promise<void> {
      const challenge = await prisma.emailChallenge.findUniqueOrThrow({ where: { id: input.challengeId } });
      const code = generateNumericCode();
      const codeHash = hmac(secret, input.challengeId, code);
      const now = new Date();
      const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000);
      const idempotencyKey = `${input.challengeId}:${input.issueNumber}`;
      await prisma.$transaction([
        prisma.emailCode.updateMany({
          where: { challengeId: input.challengeId, voidedAt: null, idempotencyKey: { not: idempotencyKey } },
          data: { voidedAt: now },
        }),
        prisma.emailCode.upsert({
          where: { idempotencyKey },
          create: { challengeId: input.challengeId, idempotencyKey, codeHash, expiresAt, issuedAt: now },
          update: { codeHash, expiresAt, issuedAt: now },
        }),
      ]);
      try {
        await mailer.send(codeMail(challenge.purpose, challenge.email, code, input.ttlSeconds));
      } catch (error) {
        // the mail server refuses the address for good (SMTP 5xx): retrying forever would leave the
        // challenge, and every submission waiting on it, stuck; fail it instead
        const responseCode = (error as { responseCode?: number }).responseCode ?? 0;
        if (responseCode >= 500 && responseCode < 600) {
          throw ApplicationFailure.create({
            type: 'EMAIL_UNDELIVERABLE',
            message: `The mail server refuses ${challenge.email}: ${(error as Error).message}`,
            nonRetryable: true,
          });
        }
        throw error;
      }
    },

    /** Whether `code` is the challenge's current (last issued, not voided) code. */
    async verifyCode(input: { challengeId: string; code: string }): Promise<boolean> {
      const current = await prisma.emailCode.findFirst({
        where: { challengeId: input.challengeId, voidedAt: null },
        orderBy: { issuedAt: 'desc' },
      });
      return current !== null && safeEqualHex(current.codeHash, hmac(secret, input.challengeId, input.code));
    },

    /** Applies the purpose's effect and marks the challenge VERIFIED, in one transaction; idempotent. */
    async completeChallenge(input: { challengeId: string }): Promise<void> {
      await classifyFailures(() =>
        prisma.$transaction(async (tx) => {
          const challenge = await tx.emailChallenge.findUniqueOrThrow({ where: { id: input.challengeId } });
          if (challenge.status !== 'PENDING') return;
          if (challenge.purpose === 'ACCOUNT_CONFIRMATION' && challenge.accountId !== null) {
            await activateAccount(tx, actor, {
              accountId: challenge.accountId,
              installationId: challenge.installationId,
            });
          }
          if (
            challenge.purpose === 'MACHINE_LINK' &&
            challenge.accountId !== null &&
            challenge.installationId
          ) {
            await linkInstallationToAccount(tx, actor, {
              installationId: challenge.installationId,
              accountId: challenge.accountId,
            });
          }
          await tx.emailChallenge.update({
            where: { id: challenge.id },
            data: { status: 'VERIFIED', verifiedAt: new Date() },
          });
          await audit(tx, actor, {
            action: 'challenge.verified',
            entityType: 'CHALLENGE',
            entityId: challenge.id,
            data: { purpose: challenge.purpose },
          });
        }),
      );
    },

    async closeChallenge(input: {
      challengeId: string;
      status: 'EXPIRED' | 'LOCKED' | 'REJECTED';
      attempts: number;
    }): Promise<void> {
      await prisma.emailChallenge.updateMany({
        where: { id: input.challengeId, status: 'PENDING' },
        data: { status: input.status, attempts: input.attempts, closedAt: new Date() },
      });
      await prisma.emailCode.updateMany({
        where: { challengeId: input.challengeId, voidedAt: null },
        data: { voidedAt: new Date() },
      });
    },
  };
}

export type EmailCodeActivities = ReturnType<typeof createEmailCodeActivities>;
