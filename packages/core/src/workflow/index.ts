// Sandbox-safe helpers for workflow code: import from '@stripe-flows/core/workflow'.
export * from './events.js';
export * from './inbox.js';
export * from './ids.js';
export * from './search-attributes.js';
export * from './flow.js';
export * from './profiles.js';
