// Every workflow the worker registers.
export { emailCodeWorkflow } from './email-code';
export { subscriptionWorkflow } from './subscription';
export { licenceMigrationWorkflow } from './licence-migration';
