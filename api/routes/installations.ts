import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { actorOf } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import {
  confirmInstallationClaim,
  registerInstallation,
} from '../../services/installations/register-installation';
import {
  confirmMachineLink,
  requestMachineLink,
  unlinkMachine,
} from '../../services/installations/machine-link';
import type { RouteKit } from '../route-kit';
import { accountId, baseId, code, codeSent, machineName } from '../schemas';

const registered = z.object({
  status: z.literal('REGISTERED'),
  installationId: z.string(),
  baseId: z.string(),
  machineName: z.string(),
  apiKey: z.string().openapi({ description: 'shown once; store it in the ERP' }),
  keyId: z.string(),
});

export function installationRoutes(
  kit: RouteKit,
  deps: ServiceDeps,
  registrationLimiter: RequestHandler,
): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'post',
      path: '/installations',
      summary: 'Register an ERP machine and get its API key',
      tag: 'installations',
      auth: 'none',
      body: z.object({
        baseId,
        machineName,
        accountId: accountId
          .optional()
          .openapi({ description: 'owner account of an already registered base' }),
      }),
      responses: {
        201: { description: 'first machine of the base: key issued', schema: registered },
        202: {
          description: 'base already registered: a code was mailed to its owner account',
          schema: codeSent.extend({
            status: z.literal('CODE_SENT'),
            baseId: z.string(),
            machineName: z.string(),
          }),
        },
      },
      errors: ['BASE_ALREADY_CLAIMED', 'RATE_LIMITED', 'RESEND_TOO_SOON', 'RESEND_LIMIT_REACHED'],
      middlewares: [registrationLimiter],
    },
    async ({ body, req }) => {
      const result = await registerInstallation(deps, {
        actor: { type: 'SYSTEM', id: `registration from ${req.ip ?? 'unknown'}` },
        ...body,
      });
      return { status: result.status === 'REGISTERED' ? 201 : 202, body: result };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/installations/claims',
      summary: "Confirm a new machine of a registered base with the code mailed to the base's owner",
      tag: 'installations',
      auth: 'none',
      body: z.object({ baseId, machineName, code }),
      responses: { 201: { description: 'key issued', schema: registered } },
      errors: [
        'CODE_INVALID',
        'CODE_EXPIRED',
        'CODE_LOCKED',
        'CHALLENGE_NOT_FOUND',
        'CHALLENGE_ALREADY_USED',
        'RATE_LIMITED',
      ],
      middlewares: [registrationLimiter],
    },
    async ({ body, req }) => {
      const created = await confirmInstallationClaim(deps, {
        actor: { type: 'SYSTEM', id: `claim from ${req.ip ?? 'unknown'}` },
        ...body,
      });
      return { status: 201, body: { status: 'REGISTERED', ...created } };
    },
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/installations/me',
      summary: 'The calling machine: its base, its account link and the bases its key covers',
      tag: 'installations',
      auth: 'installation',
      responses: {
        200: {
          description: 'this installation',
          schema: z.object({
            installationId: z.string(),
            baseId: z.string(),
            machineName: z.string(),
            accountId: z.number().nullable(),
            bases: z.array(z.string()),
          }),
        },
      },
    },
    async ({ principal }) => {
      const installation = await deps.prisma.installation.findUniqueOrThrow({
        where: { id: principal.installationId },
      });
      const accountBases = installation.accountId
        ? await deps.prisma.base.findMany({
            where: { accountId: installation.accountId },
            select: { id: true },
          })
        : [];
      const bases = [...new Set([installation.baseId, ...accountBases.map((b) => b.id)])].sort();
      return {
        status: 200,
        body: {
          installationId: installation.id,
          baseId: installation.baseId,
          machineName: installation.machineName,
          accountId: installation.accountId,
          bases,
        },
      };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/installations/me/account-link',
      summary: 'Register an existing account on this machine: mails a personal code to the account',
      tag: 'installations',
      auth: 'installation',
      body: z.object({ accountId }),
      responses: {
        202: {
          description: 'code sent',
          schema: codeSent.extend({ status: z.literal('CODE_SENT'), accountId: z.number() }),
        },
        200: {
          description: 'already linked to this account',
          schema: z.object({ status: z.literal('LINKED'), accountId: z.number() }),
        },
      },
      errors: ['ACCOUNT_NOT_FOUND', 'RESEND_TOO_SOON', 'RESEND_LIMIT_REACHED'],
    },
    async ({ body, principal }) => {
      const result = await requestMachineLink(deps, {
        installationId: principal.installationId,
        accountId: body.accountId,
      });
      return { status: result.status === 'CODE_SENT' ? 202 : 200, body: result };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/installations/me/account-link/confirmation',
      summary: 'Type back the code: the machine is linked to the account',
      tag: 'installations',
      auth: 'installation',
      body: z.object({ accountId, code }),
      responses: {
        200: {
          description: 'linked',
          schema: z.object({
            status: z.literal('LINKED'),
            accountId: z.number().nullable(),
            linkedAt: z.string().nullable(),
          }),
        },
      },
      errors: [
        'CODE_INVALID',
        'CODE_EXPIRED',
        'CODE_LOCKED',
        'CHALLENGE_NOT_FOUND',
        'CHALLENGE_ALREADY_USED',
        'BASE_OWNED_BY_OTHER_ACCOUNT',
      ],
    },
    async ({ body, principal }) => ({
      status: 200,
      body: await confirmMachineLink(deps, { installationId: principal.installationId, ...body }),
    }),
  );

  kit.route(
    router,
    {
      method: 'delete',
      path: '/installations/me/account-link',
      summary: 'Unlink this machine from its account',
      tag: 'installations',
      auth: 'installation',
      responses: { 204: { description: 'unlinked' } },
      errors: ['NOT_LINKED'],
    },
    async ({ principal }) => {
      await unlinkMachine(deps, { actor: actorOf(principal), installationId: principal.installationId });
      return { status: 204 };
    },
  );

  return router;
}
