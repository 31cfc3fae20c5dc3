/**
 * The project's custom search attributes (registered with the dev server by infra/embedded/temporal.ts;
 * on a production cluster: `temporal operator search-attribute create --name LicensingWaitingOn --type
 * Keyword` and `--name LicensingWaitingSince --type Datetime`). A workflow that starts waiting on a human
 * (ops decision) or on a payment sets them, and clears them when the wait ends, so ops can list what has
 * been waiting too long from Temporal visibility (`GET /ops/workflows/stuck`).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { patched, upsertSearchAttributes } from '@temporalio/workflow';

export const WAITING_ON = defineSearchAttributeKey('LicensingWaitingOn', SearchAttributeType.KEYWORD);
export const WAITING_SINCE = defineSearchAttributeKey('LicensingWaitingSince', SearchAttributeType.DATETIME);
export const PROJECT_SEARCH_ATTRIBUTES = [WAITING_ON, WAITING_SINCE];

export type WaitingOn = 'PAYMENT' | 'OPS';

/**
 * Marks the running workflow as waiting on `on` since now (undefined: not waiting). The upsert is a new
 * workflow command: histories recorded before it replay without it (patch `search-attributes`).
 */
export function markWaiting(on: WaitingOn | undefined): void {
  if (!patched('search-attributes')) return;
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
