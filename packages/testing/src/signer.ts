import Stripe from 'stripe';

const stripe = new Stripe('sk_test_signer_only');

/**
 * A `Stripe-Signature` header for a payload, made by stripe-node itself
 * (`webhooks.generateTestHeaderString`), exactly as Stripe would send it.
 */
export function signPayload(payload: string, secret: string, options: { timestamp?: number } = {}): string {
  return stripe.webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
}

/** Headers for POSTing a signed event to the receiver. */
export function signedHeaders(payload: string, secret: string, options: { timestamp?: number } = {}): Record<string, string> {
  return { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, secret, options) };
}
