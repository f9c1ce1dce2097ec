export { StripeApiDouble } from './server.js';
export { RESOURCES, type DoubleResource, type ResourceSpec, type CrudOp } from './resources.js';
export { decodeForm, type Form, type FormValue } from './form.js';
export { MAX_INVOICE_ITEMS } from './invoices.js';
export { ACCOUNT_LINK_TTL_SECONDS } from './connect.js';
export { findFixturesPath } from './fixtures.js';
export type { StripeErrorBody, StripeErrorType } from './errors.js';
export type { StripeDoubleOptions, RecordedRequest, FaultRule, Fault } from './types.js';
export { WEBHOOK_EVENT_TYPES, isWebhookEventType } from './event-types.js';
