import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../domain/errors';
import { isDatabaseUnavailable } from '../infra/database-errors';
import type { Logger } from '../infra/logger';

/** How long a client waits before retrying while PostgreSQL is unreachable (the pool reconnects in ~3 s). */
const DATABASE_RETRY_AFTER_SECONDS = 5;

export const notFound: RequestHandler = (req) => {
  throw new AppError('NOT_FOUND', `No route ${req.method} ${req.path}`);
};

/** The one place errors become HTTP answers: `{ error: { code, message, details } }`. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let appError: AppError;
    if (error instanceof AppError) {
      appError = error;
    } else if (isDatabaseUnavailable(error)) {
      logger.warn({ err: error, method: req.method, path: req.path }, 'database unavailable');
      appError = new AppError('DATABASE_UNAVAILABLE', 'The database is unavailable; retry later', {
        retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
      });
    } else {
      logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
      appError = new AppError('INTERNAL', 'Internal error; it has been logged');
    }
    if (res.headersSent) return;
    // a 429 or 503 says when to come back (RFC 9110 Retry-After), the same figure as details.retryAfterSeconds
    const retryAfter = (appError.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof retryAfter === 'number' && (appError.status === 429 || appError.status === 503))
      res.setHeader('Retry-After', String(retryAfter));
    res.status(appError.status).json({
      error: {
        code: appError.code,
        message: appError.message,
        ...(appError.details === undefined ? {} : { details: appError.details }),
      },
    });
  };
}
