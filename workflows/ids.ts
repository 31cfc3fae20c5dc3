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
// ---- support time and credits wallet
/** One creditPurchaseWorkflow per credit purchase (support pack or wallet recharge). */
export const creditPurchaseWorkflowId = (purchaseId: string) => `credit-purchase:${purchaseId}`;
/** The report email of one support call, sent once. */
export const supportCallReportWorkflowId = (supportCallId: string) => `support-call-report:${supportCallId}`;
/** The Temporal Schedule that charges monthly app fees on the 1st of each month. */
export const MONTHLY_FEES_SCHEDULE_ID = 'monthly-app-fees';
/** A monthly fees run for one month started by hand (ops, catch-up): the same month never runs twice at once. */
export const monthlyFeesWorkflowId = (month: string) => `monthly-app-fees:${month}`;
/** The Temporal Schedule expiring silent sessions, one per task queue (so test workers don't share one). */
export const sessionExpiryScheduleId = (taskQueue: string) => `session-expiry:${taskQueue}`;
/** A month's wallet consumption invoices run by hand (ops): one run per month at a time. */
export const consumptionInvoicesWorkflowId = (month: string) => `consumption-invoices:${month}`;
/** One refundWorkflow per refund asked: the client's key makes a retried request the same refund. */
export const refundWorkflowId = (creditPurchaseId: string, clientKey: string) =>
  `refund:${creditPurchaseId}:${clientKey}`;
/** The Temporal Schedule sending the e-invoicing outbox, one per task queue (so test workers don't share one). */
export const eInvoiceOutboxScheduleId = (taskQueue: string) => `e-invoice-outbox:${taskQueue}`;
