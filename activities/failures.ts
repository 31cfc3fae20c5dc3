import { ApplicationFailure } from '@temporalio/common';
import { AppError } from '../domain/errors';

/**
 * Business refusals become non-retryable failures typed with their error code; anything else is left
 * to Temporal's retry policy (database or network hiccups).
 */
export async function classifyFailures<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) {
      throw ApplicationFailure.create({
        message: error.message,
        type: error.code,
        nonRetryable: true,
        details: [error.details ?? null],
      });
    }
    throw error;
  }
}
