// Fault injection on real processes: each scenario starts what it needs, runs, stops everything
// (always), and returns its figures.
export * from './shared.js';
export * from './temporal-outage.js';
export * from './stack.js';
export * from './worker-kill.js';
export * from './response-proxy.js';
export * from './stripe-faults.js';
export * from './all.js';
