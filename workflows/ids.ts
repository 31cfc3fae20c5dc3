/**
 * Every workflow id, built from business keys, in one place. Starting with one of these ids is idempotent
 * (the same business key never runs two workflows at once).
 */
export const workflowIds = {
  accountConfirmation: (email: string) => `account-confirmation:${email.toLowerCase()}`,
  passwordReset: (accountId: number) => `password-reset:${accountId}`,
  machineLink: (installationId: string, accountId: number) => `machine-link:${installationId}:${accountId}`,
  installationClaim: (baseId: string, machineName: string) =>
    `installation-claim:${baseId}:${machineName.toLowerCase()}`,
} as const;

/** The one subscriptionWorkflow of a base. */
export const subscriptionWorkflowId = (baseId: string) => `subscription:${baseId}`;

/** The Temporal Schedule expiring silent sessions, one per task queue (so test workers don't share one). */
export const sessionExpiryScheduleId = (taskQueue: string) => `session-expiry:${taskQueue}`;
