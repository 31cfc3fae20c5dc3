// Every workflow the worker registers.
export { emailCodeWorkflow } from './email-code';
export { subscriptionWorkflow } from './subscription';
export { sessionExpiryWorkflow } from './session-expiry';
