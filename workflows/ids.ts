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

/** The one v15 → A1 licence migration of a base. */
export const licenceMigrationWorkflowId = (baseId: string) => `licence-migration:${baseId}`;
