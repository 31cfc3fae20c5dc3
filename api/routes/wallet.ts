import { Router } from 'express';
import { invoiceList, invoicePageQuery } from './invoices';
import { z } from 'zod';
import { MONTH_PATTERN } from '../../domain/credits';
import { AppError } from '../../domain/errors';
import { actorOf, canAccessAccount, type Principal } from '../../services/auth/principal';
import {
  listCreditEntries,
  getWalletBalance,
  requireActiveAccount,
} from '../../services/credits/read-ledger';
import { listInvoices } from '../../services/invoices/list-invoices';
import { setOverdraftLimit } from '../../services/credits/set-overdraft-limit';
import type { ServiceDeps } from '../../services/deps';
import { listAppSubscriptions, subscribeApp, unsubscribeApp } from '../../services/wallet/app-subscriptions';
import { chargeWallet } from '../../services/wallet/charge-wallet';
import type { RouteKit } from '../route-kit';
import { accountId, baseId } from '../schemas';

export const accountParams = z.object({ accountId });

export function requireAccountAccess(principal: Principal, id: number): void {
  if (!canAccessAccount(principal, id))
    throw new AppError('FORBIDDEN', 'This key is not linked to this account');
}

export const entriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
});

export const entryView = z.object({
  id: z.string(),
  at: z.string(),
  type: z.string(),
  description: z.string().nullable(),
  site: z.string().nullable(),
  staff: z.string().nullable(),
  baseId: z.string().nullable(),
  amount: z.number().int().openapi({ description: 'signed: cents (wallet) or seconds (support time)' }),
  value: z.string().openapi({ example: '-0.15' }),
  balanceAfter: z.number().int(),
  creditPurchaseId: z.string().nullable(),
  supportCallId: z.string().nullable(),
});

export const entriesPage = z.object({
  total: z.number().int(),
  items: z.array(entryView),
  nextCursor: z.string().nullable(),
});

const label = (max: number) => z.string().trim().min(1).max(max);
const month = z.string().regex(MONTH_PATTERN, 'a month, YYYY-MM').openapi({ example: '2026-03' });

const walletView = z.object({
  accountId: z.number().int(),
  balanceCents: z.number().int(),
  credits: z.string().openapi({ example: '279.50' }),
  overdraftLimitCents: z.number().int(),
  currency: z.literal('EUR'),
});

const appSubscription = z.object({
  id: z.string(),
  accountId: z.number().int(),
  app: z.string(),
  label: z.string(),
  monthlyFeeCents: z.number().int(),
  site: z.string().nullable(),
  staff: z.string().nullable(),
  sinceMonth: z.string(),
  untilMonth: z.string().nullable(),
});

const walletCharge = z
  .object({ created: z.boolean(), entry: entryView, balanceCents: z.number().int(), credits: z.string() })
  .openapi('WalletCharge');

/** A ledger's movements of an account, newest first, by pages: the support-time and wallet listings. */
export function ledgerEntriesRoute(
  kit: RouteKit,
  router: Router,
  deps: ServiceDeps,
  spec: { ledger: 'SUPPORT_TIME' | 'WALLET'; path: string; summary: string; tag: 'support' | 'wallet' },
): void {
  kit.route(
    router,
    {
      method: 'get',
      path: spec.path,
      summary: spec.summary,
      tag: spec.tag,
      auth: 'any',
      params: accountParams,
      query: entriesQuery,
      responses: { 200: { description: 'one page of movements', schema: entriesPage } },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND'],
    },
    async ({ params, query, principal }) => {
      requireAccountAccess(principal, params.accountId);
      return {
        status: 200,
        body: await listCreditEntries(deps.prisma, {
          accountId: params.accountId,
          ledger: spec.ledger,
          ...query,
        }),
      };
    },
  );
}

export function walletRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'get',
      path: '/accounts/:accountId/wallet',
      summary: 'Credits left in the wallet (1 credit = 1 EUR)',
      tag: 'wallet',
      auth: 'any',
      params: accountParams,
      responses: { 200: { description: 'the balance', schema: walletView } },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND'],
    },
    async ({ params, principal }) => {
      requireAccountAccess(principal, params.accountId);
      return { status: 200, body: await getWalletBalance(deps.prisma, params.accountId) };
    },
  );

  ledgerEntriesRoute(kit, router, deps, {
    ledger: 'WALLET',
    path: '/accounts/:accountId/wallet/entries',
    summary: 'What the credits were spent on (and recharges), newest first, by pages',
    tag: 'wallet',
  });

  kit.route(
    router,
    {
      method: 'post',
      path: '/accounts/:accountId/wallet/charges',
      summary: 'Spend credits (SMS, APF request...): refused when the balance does not cover it',
      tag: 'wallet',
      auth: 'any',
      params: accountParams,
      body: z.object({
        idempotencyKey: z
          .string()
          .min(8)
          .max(100)
          .openapi({ description: 'chosen by the client; a retry with the same key gets the first answer' }),
        type: label(100).openapi({ example: 'sms' }),
        amountCents: z.number().int().positive().max(100_000_000).openapi({ example: 15 }),
        description: label(300).optional(),
        site: label(100).optional(),
        staff: label(100).optional(),
        baseId: baseId.optional(),
        occurredAt: z.iso.datetime({ offset: true }).optional(),
      }),
      responses: {
        201: { description: 'charged', schema: walletCharge },
        200: { description: 'the same request again: the first answer', schema: walletCharge },
      },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND', 'INSUFFICIENT_CREDIT', 'IDEMPOTENCY_KEY_REUSED'],
    },
    async ({ params, body, principal }) => {
      requireAccountAccess(principal, params.accountId);
      const result = await chargeWallet(deps.prisma, actorOf(principal), {
        accountId: params.accountId,
        request: body,
      });
      return { status: result.created ? 201 : 200, body: result };
    },
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/accounts/:accountId/apps',
      summary: 'Apps the account subscribes to (charged monthly on the wallet)',
      tag: 'wallet',
      auth: 'any',
      params: accountParams,
      responses: { 200: { description: 'subscriptions', schema: z.array(appSubscription) } },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND'],
    },
    async ({ params, principal }) => {
      requireAccountAccess(principal, params.accountId);
      return { status: 200, body: await listAppSubscriptions(deps.prisma, params.accountId) };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/accounts/:accountId/apps',
      summary: 'Subscribe an account to an app: its fee is charged on the wallet on the 1st of each month',
      tag: 'wallet',
      auth: 'ops',
      params: accountParams,
      body: z.object({
        app: label(50).openapi({ example: 'inspector' }),
        label: label(100).openapi({ example: "App d'inspecteur frais mensuels" }),
        monthlyFeeCents: z.number().int().positive().max(10_000_000).openapi({ example: 250 }),
        site: label(100).optional(),
        staff: label(100).optional(),
        sinceMonth: month,
      }),
      responses: { 201: { description: 'subscribed', schema: appSubscription } },
      errors: ['ACCOUNT_NOT_FOUND'],
    },
    async ({ params, body, principal }) => ({
      status: 201,
      body: await subscribeApp(deps.prisma, actorOf(principal), {
        accountId: params.accountId,
        request: body,
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/accounts/:accountId/apps/:appSubscriptionId/end',
      summary: 'Stop an app subscription after its last charged month',
      tag: 'wallet',
      auth: 'ops',
      params: accountParams.extend({ appSubscriptionId: z.uuid() }),
      body: z.object({ untilMonth: month }),
      responses: { 200: { description: 'ended', schema: appSubscription } },
      errors: ['APP_SUBSCRIPTION_NOT_FOUND'],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await unsubscribeApp(deps.prisma, actorOf(principal), { ...params, untilMonth: body.untilMonth }),
    }),
  );

  kit.route(
    router,
    {
      method: 'put',
      path: '/ops/accounts/:accountId/overdraft-limits/:ledger',
      summary:
        'Allow an account below zero, down to a limit (cents for the wallet, seconds for support time)',
      tag: 'wallet',
      auth: 'ops',
      params: accountParams.extend({ ledger: z.enum(['WALLET', 'SUPPORT_TIME']) }),
      body: z.object({ limit: z.number().int().min(0).max(100_000_000) }),
      responses: {
        200: {
          description: 'the limit in force',
          schema: z.object({
            accountId: z.number().int(),
            ledger: z.string(),
            balance: z.number().int(),
            overdraftLimit: z.number().int(),
          }),
        },
      },
      errors: ['ACCOUNT_NOT_FOUND'],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await setOverdraftLimit(deps.prisma, actorOf(principal), { ...params, limit: body.limit }),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/accounts/:accountId/invoices',
      summary:
        "The account's own invoices (monthly wallet consumption, support packs), newest first, with their PDF URLs",
      tag: 'invoices',
      auth: 'any',
      params: accountParams,
      query: invoicePageQuery,
      responses: { 200: { description: 'one page of invoices', schema: invoiceList } },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND'],
    },
    async ({ params, query, principal }) => {
      requireAccountAccess(principal, params.accountId);
      await requireActiveAccount(deps.prisma, params.accountId);
      return {
        status: 200,
        body: await listInvoices(deps.prisma, { accountId: params.accountId }, query),
      };
    },
  );

  return router;
}
