/**
 * Brute-force limits on password-checked routes (see docs/security.md): wrong passwords (401 answers) are
 * counted per account and per client address over a window; past the limit the route answers 429
 * TOO_MANY_ATTEMPTS with Retry-After, before the password is even checked. Right passwords and other
 * refusals do not count. Counters live in the API process (one window per replica).
 */
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import { AppError } from '../domain/errors';

export interface AttemptLimits {
  windowSeconds: number;
  perAccount: number;
  perAddress: number;
}

export const defaultPasswordLimits: AttemptLimits = { windowSeconds: 15 * 60, perAccount: 5, perAddress: 20 };

export function passwordAttemptLimiters(limits: AttemptLimits = defaultPasswordLimits): RequestHandler[] {
  const windowMs = limits.windowSeconds * 1000;
  const common: Partial<Options> = {
    windowMs,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skipSuccessfulRequests: true,
    // only a wrong password counts as an attempt
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    handler: (req, _res, next) => {
      const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfterSeconds = Math.max(
        1,
        Math.ceil(((resetTime?.getTime() ?? Date.now() + windowMs) - Date.now()) / 1000),
      );
      next(
        new AppError('TOO_MANY_ATTEMPTS', 'Too many wrong passwords; try again later', { retryAfterSeconds }),
      );
    },
  };
  return [
    rateLimit({
      ...common,
      limit: limits.perAccount,
      keyGenerator: (req) => `account:${String(req.params.accountId)}`,
    }),
    rateLimit({
      ...common,
      limit: limits.perAddress,
      keyGenerator: (req) => `address:${ipKeyGenerator(req.ip ?? 'unknown')}`,
    }),
  ];
}
