import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../domain/errors';
import type { Logger } from '../infra/logger';

export const notFound: RequestHandler = (req) => {
  throw new AppError('NOT_FOUND', `No route ${req.method} ${req.path}`);
};

/** The one place errors become HTTP answers: `{ error: { code, message, details } }`. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let appError: AppError;
    if (error instanceof AppError) {
      appError = error;
    } else {
      logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
      appError = new AppError('INTERNAL', 'Internal error; it has been logged');
    }
    if (res.headersSent) return;
    res.status(appError.status).json({
      error: {
        code: appError.code,
        message: appError.message,
        ...(appError.details === undefined ? {} : { details: appError.details }),
      },
    });
  };
}
