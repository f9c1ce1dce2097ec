// @stripe-flows/testing: what tests (and the CLI's trigger) need to act like Stripe.
export * from './events.js';
export * from './signer.js';
export * from './temporal-env.js';
export * from './paths.js';
export * from './stripe-double/index.js';
export * from './stripe-mock.js';
