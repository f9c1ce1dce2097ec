import { ApplicationFailure } from '@temporalio/common';

/** Shape of stripe-node's errors that matters here (avoids depending on its class identity). */
interface StripeLikeError {
  type?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  requestId?: string;
}

const NON_RETRYABLE_TYPES = new Set([
  'StripeInvalidRequestError',
  'StripeCardError',
  'StripeAuthenticationError',
  'StripePermissionError',
  'StripeIdempotencyError',
]);

/**
 * Run one Stripe call inside an activity. Rate limits, 5xx, 409 lock timeouts and network errors
 * are rethrown as they are (Temporal retries the activity with the same idempotency key);
 * invalid requests and other 4xx become a non-retryable ApplicationFailure of type
 * `stripe.<code>` that names the call and Stripe's message.
 */
export async function stripeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toActivityFailure(what, error);
  }
}

export function toActivityFailure(what: string, error: unknown): unknown {
  const e = error as StripeLikeError;
  const status = e?.statusCode;
  const nonRetryable =
    (e?.type !== undefined && NON_RETRYABLE_TYPES.has(e.type) && status !== 409 && status !== 429) ||
    (status !== undefined && status >= 400 && status < 500 && status !== 409 && status !== 429);
  if (!nonRetryable) return error;
  const code = e.code ?? (status === 404 ? 'resource_missing' : 'invalid_request');
  return ApplicationFailure.create({
    type: `stripe.${code}`,
    message: `Stripe rejected ${what} (HTTP ${status ?? '4xx'}, ${code}): ${e.message ?? 'no message'}. This will not be retried; fix the cause, then retry the flow step.`,
    nonRetryable: true,
    details: [{ status, code, requestId: e.requestId }],
  });
}
