// Replay and reconciliation, Node side: the replay engine (`replayStripeEvents`, used by
// `stripe-flows replay`) and what the reconcile schedule runs on it.
export * from './replay-engine.js';
export * from './replay-reconcile.js';
