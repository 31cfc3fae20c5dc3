/**
 * Brute-force limits on password-checked routes (docs/security.md). Wrong passwords (INVALID_PASSWORD)
 * are counted in PostgreSQL per account (the parsed id, so `/accounts/057` is account 57), per calling
 * machine and per client address, over a sliding window; past a limit the route answers 429
 * TOO_MANY_ATTEMPTS with Retry-After before the password is checked. Only requests that authenticated and
 * may act on the account are counted: a request without a key, with an unknown key or with a key of
 * another account never counts, so nobody can lock an account they do not hold a key of.
 */
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { AppError } from '../domain/errors';
import type { PrismaClient } from '../infra/prisma';
import { canAccessAccount } from '../services/auth/principal';
import { RateLimitExceeded, reserveAttempt } from '../services/limits/rate-limits';
import type { AttemptGuard } from './route-kit';

/** The client address as a limit key (an IPv6 address by its /56 network: one host holds many addresses). */
const addressOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');

export interface AttemptLimits {
  windowSeconds: number;
  perAccount: number;
  /** per calling machine (installation) and per client address */
  perCaller: number;
}

export const defaultPasswordLimits: AttemptLimits = { windowSeconds: 15 * 60, perAccount: 5, perCaller: 20 };

export function passwordAttempts(
  limits: AttemptLimits = defaultPasswordLimits,
): AttemptGuard<{ accountId: number }> {
  const rule = (key: string, limit: number) => ({ key, limit, windowSeconds: limits.windowSeconds });
  return {
    rules: ({ params, principal, req }) => {
      // a caller that may not act on the account is refused by the handler (FORBIDDEN) and counts nothing
      if (!canAccessAccount(principal, params.accountId)) return [];
      const caller = principal.kind === 'installation' ? principal.installationId : principal.tokenId;
      return [
        rule(`password:account:${params.accountId}`, limits.perAccount),
        rule(`password:caller:${caller}`, limits.perCaller),
        rule(`password:address:${addressOf(req)}`, limits.perCaller),
      ];
    },
    countedErrors: ['INVALID_PASSWORD'],
    refusal: (retryAfterSeconds) =>
      new AppError('TOO_MANY_ATTEMPTS', `Too many wrong passwords; try again in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
      }),
  };
}

/**
 * Registrations (`POST /installations`, `/installations/claims`) per client address per hour, counted in
 * PostgreSQL so the limit holds across API processes. Every request counts, whatever its answer.
 */
export function registrationLimit(prisma: PrismaClient, perHour: number): RequestHandler {
  return (req, _res, next) => {
    reserveAttempt(prisma, [
      { key: `registration:address:${addressOf(req)}`, limit: perHour, windowSeconds: 3600 },
    ])
      .then(() => next())
      .catch((error: unknown) =>
        next(
          error instanceof RateLimitExceeded
            ? new AppError('RATE_LIMITED', 'Too many registrations from this address; try again later', {
                retryAfterSeconds: error.retryAfterSeconds,
              })
            : error,
        ),
      );
  };
}
