/** Codes of the receiver's 4xx answers, each with its own meaning (documented in the README). */
export type WebhookErrorCode =
  | 'missing_signature_header'
  | 'malformed_signature_header'
  | 'no_valid_signature'
  | 'timestamp_outside_tolerance'
  | 'empty_body'
  | 'unsupported_content_type'
  | 'body_too_large'
  | 'invalid_json'
  | 'invalid_event'
  | 'livemode_mismatch'
  | 'duplicate_signature_header'
  | 'invalid_utf8'
  | 'too_deeply_nested'
  | 'unsupported_content_encoding'
  | 'request_timeout'
  | 'headers_too_large'
  | 'bad_request';

/** A request the receiver refuses: the status and a JSON body naming why and what to do. */
export class WebhookRequestError extends Error {
  override readonly name = 'WebhookRequestError';
  constructor(
    readonly status: number,
    readonly code: WebhookErrorCode,
    message: string,
    readonly details?: string[],
  ) {
    super(message);
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}
