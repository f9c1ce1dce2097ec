// Node-side API of @stripe-flows/core. Workflow code imports '@stripe-flows/core/workflow'.
export * from './envelope.js';
export * from './routes.js';
export * from './registry.js';
export * from './dispatcher.js';
export * from './notifier.js';
export * from './stripe-calls.js';
export * from './config.js';
export * from './temporal.js';
export * from './codec.js';
export * from './workflow/events.js';
export * from './workflow/ids.js';
export * from './workflow/search-attributes.js';
export type { QuarantineInput, QuarantineState } from './workflow/quarantine.js';
export { quarantineStateQuery, discardQuarantinedSignal, quarantineDeliveredSignal } from './workflow/quarantine.js';
import { fileURLToPath } from 'node:url';
/** Path of the quarantine workflow module, for the worker that runs it. */
export const quarantineWorkflowsPath = fileURLToPath(new URL('./workflow/quarantine-entry.js', import.meta.url));
export * from './redact.js';
export * from './money.js';
export * from './replay.js';
