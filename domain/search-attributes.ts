/**
 * The project's custom search attributes, as data (name and indexed type): the workflows set them
 * (workflows/search-attributes.ts), the embedded Temporal servers register them (infra/embedded/temporal.ts),
 * ops list what waits too long through them. On a production cluster: `temporal operator search-attribute
 * create --name LicensingWaitingOn --type Keyword` and `--name LicensingWaitingSince --type Datetime`.
 */
export const WAITING_ON_ATTRIBUTE = { name: 'LicensingWaitingOn', type: 'KEYWORD' } as const;
export const WAITING_SINCE_ATTRIBUTE = { name: 'LicensingWaitingSince', type: 'DATETIME' } as const;
export const PROJECT_SEARCH_ATTRIBUTES = [WAITING_ON_ATTRIBUTE, WAITING_SINCE_ATTRIBUTE] as const;

/** what a workflow is waiting on, when it waits on someone */
export type WaitingOn = 'PAYMENT' | 'OPS';
