// @stripe-flows/reliability: scenarios that prove the delivery guarantees, shared by the tests
// and the report script.
export {};
export * from './processes.js';
export * from './faults/index.js';
export * from './corpus.js';
export * from './corpus-target.js';
export * from './logs.js';
