// Bundle entry for the reconcile worker: only workflow functions live here.
export { reconcileStripeEvents } from './reconcile.js';
