// Every workflow the worker registers.
export { emailCodeWorkflow } from './email-code';
export { subscriptionWorkflow } from './subscription';
export { licenceMigrationWorkflow } from './licence-migration';
export { supportCallReportWorkflow } from './support-call-report';
export { creditPurchaseWorkflow } from './credit-purchase';
export { consumptionInvoicesWorkflow, monthlyFeesWorkflow } from './monthly-fees';
export { sessionExpiryWorkflow } from './session-expiry';
export { refundWorkflow } from './refund';
export { eInvoiceOutboxWorkflow } from './einvoice-outbox';
