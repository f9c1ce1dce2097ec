import Stripe from 'stripe';
import { WebhookRequestError } from './errors.js';

export interface VerifyOptions {
  /** Every configured signing secret (platform, Connect, secrets being rolled). */
  secrets: readonly string[];
  /** Maximum age of the signature timestamp, seconds. */
  toleranceSeconds: number;
}

/**
 * Verify `Stripe-Signature` on the raw body with stripe-node against every secret, then parse.
 * Throws a {@link WebhookRequestError} that says which check failed.
 */
export function verifyStripeEvent(rawBody: Buffer, header: string | undefined, options: VerifyOptions): unknown {
  if (header === undefined || header.trim() === '') {
    throw new WebhookRequestError(400, 'missing_signature_header', 'The Stripe-Signature header is missing: only Stripe (or a client signing with your endpoint secret) may post here.');
  }
  if (rawBody.length === 0) {
    throw new WebhookRequestError(400, 'empty_body', 'The request body is empty: a Stripe event was expected.');
  }
  const failures: string[] = [];
  for (const secret of options.secrets) {
    let event: unknown;
    try {
      event = Stripe.webhooks.constructEvent(rawBody, header, secret, options.toleranceSeconds);
    } catch (error) {
      if (error instanceof SyntaxError) {
        throw new WebhookRequestError(400, 'invalid_json', 'The signature is valid but the body is not JSON; nothing was done.');
      }
      failures.push(error instanceof Error ? error.message : String(error));
      continue;
    }
    // stripe-node checks the age of the timestamp; a timestamp from the future is just as suspect.
    const timestamp = Number(/(?:^|,)\s*t=(\d+)/.exec(header)?.[1]);
    if (timestamp - Math.floor(Date.now() / 1000) > options.toleranceSeconds) {
      throw new WebhookRequestError(400, 'timestamp_outside_tolerance', `The Stripe-Signature timestamp is more than ${options.toleranceSeconds} s in the future; check this server's clock.`);
    }
    return event;
  }
  if (failures.some((m) => m.includes('Timestamp outside the tolerance zone'))) {
    throw new WebhookRequestError(400, 'timestamp_outside_tolerance', `The signature matches but its timestamp is more than ${options.toleranceSeconds} s old: a replayed or delayed request. Stripe retries with a fresh signature.`);
  }
  if (failures.some((m) => m.includes('Unable to extract timestamp') || m.includes('No signatures found with expected scheme'))) {
    throw new WebhookRequestError(400, 'malformed_signature_header', 'The Stripe-Signature header is malformed: expected "t=<unix time>,v1=<hex signature>".');
  }
  throw new WebhookRequestError(400, 'no_valid_signature', `No signature in Stripe-Signature matches the raw body for any of the ${options.secrets.length} configured secret(s). Check STRIPE_WEBHOOK_SECRETS holds this endpoint's whsec_ secret, and that nothing re-serializes the body before it reaches the receiver.`);
}
