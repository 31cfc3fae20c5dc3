import { ApplicationFailure } from '@temporalio/workflow';

/**
 * A business refusal answered by an update (or thrown by its validator): non-retryable, with the documented
 * error code as its type (domain/errors.ts) and its details for the HTTP body.
 */
export function refuse(type: string, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: details === undefined ? [] : [details],
  });
}
