// Stripe's error JSON (`{ error: { type, code, message, param, doc_url } }`) and the errors the
// double answers with. Handlers throw DoubleError; the server turns it into a response.

/** The `type` of a Stripe API error. */
export type StripeErrorType =
  | 'invalid_request_error'
  | 'api_error'
  | 'rate_limit_error'
  | 'card_error'
  | 'idempotency_error';

/** The `error` object of a Stripe API error response. */
export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
}

export class DoubleError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /** Keep state changes made before the error (a declined payment still counts an attempt). */
    readonly keepChanges = false,
  ) {
    super(body.message);
    this.name = 'DoubleError';
  }
}

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

function fail(status: number, type: StripeErrorType, message: string, extra: Partial<StripeErrorBody> = {}): DoubleError {
  const body: StripeErrorBody = { type, message, ...extra };
  if (body.code && !body.doc_url) body.doc_url = docUrl(body.code);
  return new DoubleError(status, body);
}

/** Unknown id in the URL: 404, like `GET /v1/invoices/in_missing`. */
export function notFound(noun: string, id: string, param = 'id'): DoubleError {
  return fail(404, 'invalid_request_error', `No such ${noun}: '${id}'`, { code: 'resource_missing', param });
}

/** Unknown id passed as a parameter (`customer=cus_missing`): 400. */
export function missingReference(noun: string, id: string, param: string): DoubleError {
  return fail(400, 'invalid_request_error', `No such ${noun}: '${id}'`, { code: 'resource_missing', param });
}

export function missingParam(param: string): DoubleError {
  return fail(400, 'invalid_request_error', `Missing required param: ${param}.`, { code: 'parameter_missing', param });
}

export function invalidParam(param: string, message: string, code?: string): DoubleError {
  return fail(400, 'invalid_request_error', message, code ? { code, param } : { param });
}

export function invalidHeader(message: string): DoubleError {
  return fail(400, 'invalid_request_error', message);
}

export function unknownParam(param: string): DoubleError {
  return fail(400, 'invalid_request_error', `Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });
}

/** A change the object's state does not allow (finalized invoice, canceled subscription, ...). */
export function invalidState(message: string, code?: string, param?: string): DoubleError {
  return fail(400, 'invalid_request_error', message, { ...(code ? { code } : {}), ...(param ? { param } : {}) });
}

export function invoiceNotEditable(message: string, param?: string): DoubleError {
  return invalidState(message, 'invoice_not_editable', param);
}

export function cardDeclined(declineCode: string, message: string): DoubleError {
  return new DoubleError(
    402,
    { type: 'card_error', code: 'card_declined', decline_code: declineCode, message, doc_url: docUrl('card_declined') },
    true,
  );
}

export function unrecognizedUrl(method: string, path: string): DoubleError {
  return fail(
    404,
    'invalid_request_error',
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  );
}

export function missingApiKey(): DoubleError {
  return fail(
    401,
    'invalid_request_error',
    "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
  );
}

export function invalidApiKey(key: string): DoubleError {
  const masked = key.length > 8 ? `${key.slice(0, 8)}${'*'.repeat(Math.max(key.length - 12, 4))}${key.slice(-4)}` : '****';
  return fail(401, 'invalid_request_error', `Invalid API Key provided: ${masked}`, { code: 'api_key_invalid' });
}

export function idempotencyMismatch(key: string): DoubleError {
  return fail(
    400,
    'idempotency_error',
    `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  );
}

/** The body an injected status fault answers with: the error type Stripe uses for that status. */
export function faultErrorBody(status: number, code?: string, message?: string): StripeErrorBody {
  const defaults: Record<number, Pick<StripeErrorBody, 'type' | 'message' | 'code'>> = {
    400: { type: 'invalid_request_error', message: 'Injected invalid request.' },
    402: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' },
    404: { type: 'invalid_request_error', code: 'resource_missing', message: 'Injected resource_missing.' },
    409: { type: 'invalid_request_error', code: 'lock_timeout', message: 'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request.' },
    429: { type: 'rate_limit_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.' },
  };
  const base = defaults[status] ?? { type: 'api_error' as const, message: 'An unknown error occurred while processing your request (injected fault).' };
  const body: StripeErrorBody = { ...base };
  if (code !== undefined) body.code = code;
  if (message !== undefined) body.message = message;
  if (body.code) body.doc_url = docUrl(body.code);
  return body;
}
