import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import { accountView as toAccountView } from '../../services/accounts/account-view';
import { confirmAccount, resendAccountCode } from '../../services/accounts/confirm-account';
import { createAccount } from '../../services/accounts/create-account';
import { exportAccount } from '../../services/accounts/export-account';
import { confirmPasswordReset, requestPasswordReset } from '../../services/accounts/password-reset';
import { updateAccount } from '../../services/accounts/update-account';
import { actorOf, canAccessAccount, type Principal } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import { passwordAttempts } from '../attempt-limiter';
import type { RouteKit } from '../route-kit';
import { accountDetails, accountId, accountView, code, codeSent, email, password } from '../schemas';

const accountParams = z.object({ accountId });
const codeErrors = [
  'CODE_INVALID',
  'CODE_EXPIRED',
  'CODE_LOCKED',
  'CHALLENGE_NOT_FOUND',
  'CHALLENGE_ALREADY_USED',
] as const;

function requireAccountAccess(principal: Principal, id: number): void {
  if (!canAccessAccount(principal, id))
    throw new AppError('FORBIDDEN', 'This key is not linked to this account');
}

export function accountRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();
  // one set of counters for both password-checked routes
  const passwordLimits = passwordAttempts();

  kit.route(
    router,
    {
      method: 'post',
      path: '/accounts',
      summary: 'Create a customer account; a confirmation code is mailed',
      tag: 'accounts',
      auth: 'installation',
      body: accountDetails.extend({ email }),
      responses: {
        202: {
          description: 'pending; code sent (the same answer while a confirmation for this email runs)',
          schema: codeSent.extend({ accountId: z.number(), status: z.enum(['PENDING', 'ACTIVE']) }),
        },
      },
      errors: ['ACCOUNT_EXISTS', 'RESEND_TOO_SOON', 'RESEND_LIMIT_REACHED', 'EMAIL_UNDELIVERABLE'],
    },
    async ({ body, principal }) => {
      const { email: address, ...details } = body;
      const result = await createAccount(deps, {
        actor: actorOf(principal),
        installationId: principal.installationId,
        email: address,
        details,
      });
      return { status: 202, body: result };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/accounts/:accountId/confirmation',
      summary: 'Type back the emailed code and choose the password: the account becomes active',
      tag: 'accounts',
      auth: 'installation',
      params: accountParams,
      body: z.object({ code, password }),
      responses: { 200: { description: 'account active', schema: accountView } },
      errors: ['ACCOUNT_NOT_FOUND', 'ALREADY_CONFIRMED', 'ACCOUNT_EXISTS', ...codeErrors],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await confirmAccount(deps, {
        actor: actorOf(principal),
        machine: principal,
        accountId: params.accountId,
        ...body,
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/accounts/:accountId/confirmation/resend',
      summary: 'Mail a new confirmation code (the previous one stops working)',
      tag: 'accounts',
      auth: 'installation',
      params: accountParams,
      responses: {
        202: { description: 'new code sent', schema: z.object({ retryAfterSeconds: z.number() }) },
      },
      errors: [
        'ACCOUNT_NOT_FOUND',
        'ALREADY_CONFIRMED',
        'RESEND_TOO_SOON',
        'RESEND_LIMIT_REACHED',
        ...codeErrors,
      ],
    },
    async ({ params, principal }) => ({
      status: 202,
      body: await resendAccountCode(deps, params.accountId, principal),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/accounts/:accountId',
      summary: 'The account linked to this machine',
      tag: 'accounts',
      auth: 'any',
      params: accountParams,
      responses: { 200: { description: 'the account', schema: accountView } },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND'],
    },
    async ({ params, principal }) => {
      requireAccountAccess(principal, params.accountId);
      const account = await deps.prisma.account.findUnique({ where: { id: params.accountId } });
      if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `Account ${params.accountId} does not exist`);
      return { status: 200, body: toAccountView(account) };
    },
  );

  kit.route(
    router,
    {
      method: 'patch',
      path: '/accounts/:accountId',
      summary: 'Change the account details (takes effect at once; the password is required)',
      tag: 'accounts',
      auth: 'installation',
      params: accountParams,
      body: z.object({
        password: z.string().min(1).max(200),
        changes: accountDetails.partial().refine((c) => Object.keys(c).length > 0, 'nothing to change'),
      }),
      responses: { 200: { description: 'updated account', schema: accountView } },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND', 'INVALID_PASSWORD', 'ACCOUNT_EXISTS', 'TOO_MANY_ATTEMPTS'],
      attempts: passwordLimits,
    },
    async ({ params, body, principal }) => {
      requireAccountAccess(principal, params.accountId);
      return {
        status: 200,
        body: await updateAccount(deps, { actor: actorOf(principal), accountId: params.accountId, ...body }),
      };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/accounts/:accountId/export',
      summary: 'Everything held about the account (GDPR); the password is required',
      tag: 'accounts',
      auth: 'installation',
      params: accountParams,
      body: z.object({ password: z.string().min(1).max(200) }),
      responses: {
        200: {
          description: 'the export',
          schema: z.object({
            exportedAt: z.string(),
            account: accountView,
            bases: z.array(z.unknown()),
            machines: z.array(z.unknown()),
            auditLog: z.array(z.unknown()),
          }),
        },
      },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND', 'INVALID_PASSWORD', 'TOO_MANY_ATTEMPTS'],
      attempts: passwordLimits,
    },
    async ({ params, body, principal }) => {
      requireAccountAccess(principal, params.accountId);
      return {
        status: 200,
        body: await exportAccount(deps, {
          actor: actorOf(principal),
          accountId: params.accountId,
          password: body.password,
        }),
      };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/password-resets',
      summary: 'Mail a password reset code (same answer whether or not the address has an account)',
      tag: 'accounts',
      auth: 'installation',
      body: z.object({ email }),
      responses: {
        202: { description: 'a code was sent if the address belongs to an active account', schema: codeSent },
      },
    },
    async ({ body }) => ({ status: 202, body: await requestPasswordReset(deps, body) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/password-resets/confirmation',
      summary: 'Type back the reset code with the new password',
      tag: 'accounts',
      auth: 'installation',
      body: z.object({ email, code, newPassword: password }),
      responses: { 200: { description: 'password changed', schema: z.object({ accountId: z.number() }) } },
      errors: [...codeErrors],
    },
    async ({ body, principal }) => ({
      status: 200,
      body: await confirmPasswordReset(deps, { actor: actorOf(principal), ...body }),
    }),
  );

  return router;
}
