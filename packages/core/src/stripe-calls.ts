import { ApplicationFailure } from '@temporalio/common';
import { redactText } from './redact.js';

/** Shape of stripe-node's errors that matters here (avoids depending on its class identity). */
interface StripeLikeError {
  type?: string;
  statusCode?: number;
  code?: string;
  param?: string;
  decline_code?: string;
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
 * are rethrown, same class (Temporal retries the activity with the same idempotency key);
 * invalid requests and other 4xx become a non-retryable ApplicationFailure of type
 * `stripe.<code>` that names the call and Stripe's message.
 *
 * Stripe's messages echo what they refuse ("Invalid email address: ..."), and they travel on into
 * SDK log lines and workflow failures: they leave here through `redactText`, while the code,
 * param and request id (safe, and what support asks for) are kept.
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
  if (!nonRetryable) return redactError(error);
  const code = e.code ?? (status === 404 ? 'resource_missing' : 'invalid_request');
  const param = e.param ? ` (param ${e.param})` : '';
  return ApplicationFailure.create({
    type: `stripe.${code}`,
    message: `Stripe rejected ${what} (HTTP ${status ?? '4xx'}, ${code}): ${redactText(e.message ?? 'no message')}${param}. This will not be retried; fix the cause, then retry the flow step.`,
    nonRetryable: true,
    details: [{ status, code, param: e.param, declineCode: e.decline_code, requestId: e.requestId }],
  });
}

/** A retried error keeps its class (and retry semantics); only its message and stack are masked. */
function redactError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const e = error as Error & StripeLikeError;
  try {
    e.message = redactText(e.message);
    if (e.stack) e.stack = redactText(e.stack);
  } catch {
    // A frozen error stays as it is.
  }
  return error;
}
