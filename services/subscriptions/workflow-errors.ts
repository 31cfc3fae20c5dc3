import { AppError, isErrorCode } from '../../domain/errors';

/**
 * A workflow update refused by a business rule carries an ApplicationFailure typed with one of our error
 * codes: turn it back into the AppError the API answers with. `missing` is the answer when no workflow runs.
 */
export function toAppError(error: unknown, missing: AppError): unknown {
  const e = error as {
    name?: string;
    code?: number;
    cause?: { type?: string; message?: string; details?: unknown[] };
  };
  if (e?.name === 'WorkflowNotFoundError' || e?.code === 5) return missing;
  const cause = e?.cause;
  if (e?.name === 'WorkflowUpdateFailedError' && cause && isErrorCode(cause.type)) {
    return new AppError(cause.type, cause.message ?? cause.type, cause.details?.[0] ?? undefined);
  }
  return error;
}
