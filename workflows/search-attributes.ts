/**
 * The project's custom search attributes (defined in domain/search-attributes.ts). A workflow that starts
 * waiting on a human (ops decision) or on a payment sets them, and clears them when the wait ends, so ops can
 * list what has been waiting too long from Temporal visibility (`GET /ops/workflows/stuck`).
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import { WAITING_ON_ATTRIBUTE, WAITING_SINCE_ATTRIBUTE, type WaitingOn } from '../domain/search-attributes';

export type { WaitingOn } from '../domain/search-attributes';
export const WAITING_ON = defineSearchAttributeKey(WAITING_ON_ATTRIBUTE.name, WAITING_ON_ATTRIBUTE.type);
export const WAITING_SINCE = defineSearchAttributeKey(
  WAITING_SINCE_ATTRIBUTE.name,
  WAITING_SINCE_ATTRIBUTE.type,
);

/**
 * Marks the running workflow as waiting on `on` since now (undefined: not waiting).
 */
export function markWaiting(on: WaitingOn | undefined): void {
  upsertSearchAttributes(
    on
      ? [
          { key: WAITING_ON, value: on },
          { key: WAITING_SINCE, value: new Date() },
        ]
      : [
          { key: WAITING_ON, value: null },
          { key: WAITING_SINCE, value: null },
        ],
  );
}
