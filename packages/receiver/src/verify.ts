import Stripe from 'stripe';
import { WebhookRequestError } from './errors.js';

export interface VerifyOptions {
  /** Every configured signing secret (platform, Connect, secrets being rolled). */
  secrets: readonly string[];
  /** Maximum age of the signature timestamp, seconds. */
  toleranceSeconds: number;
}

/**
 * Deepest JSON nesting a signed body may have. Stripe's events nest a few levels (expanded
 * objects a few more); anything deeper is refused before parsing, because walking it later
 * (JSON.stringify when the event is handed to Temporal) would overflow the stack.
 */
export const MAX_JSON_DEPTH = 64;

// Fatal: invalid bytes are an error, not U+FFFD. ignoreBOM keeps a leading BOM in the text, so the
// signature is checked over exactly the bytes received.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Verify `Stripe-Signature` on the raw body with stripe-node against every secret, then parse.
 * `header` is every value of the header as received (Node would join duplicates with ", ").
 * Throws a {@link WebhookRequestError} that says which check failed.
 */
export function verifyStripeEvent(rawBody: Buffer, header: string | readonly string[] | undefined, options: VerifyOptions): unknown {
  const values = typeof header === 'string' ? [header] : (header ?? []);
  if (values.every((v) => v.trim() === '')) {
    throw new WebhookRequestError(400, 'missing_signature_header', 'The Stripe-Signature header is missing: only Stripe (or a client signing with your endpoint secret) may post here.');
  }
  if (values.length > 1) {
    throw new WebhookRequestError(400, 'duplicate_signature_header', `The request carries ${values.length} Stripe-Signature headers; Stripe sends exactly one (with a v1= signature per active secret). Check that no proxy between Stripe and this receiver adds or repeats it.`);
  }
  const signatureHeader = values[0] as string;
  if (!isSignatureHeader(signatureHeader)) {
    throw new WebhookRequestError(400, 'malformed_signature_header', 'The Stripe-Signature header is malformed: expected "t=<unix time>,v1=<hex signature>" (one t, at least one v1, comma separated).');
  }
  if (rawBody.length === 0) {
    throw new WebhookRequestError(400, 'empty_body', 'The request body is empty: a Stripe event was expected.');
  }
  // stripe-node signs text: decode strictly first, or different invalid bytes would verify alike.
  let text: string;
  try {
    text = utf8.decode(rawBody);
  } catch {
    throw new WebhookRequestError(400, 'invalid_utf8', 'The body is not valid UTF-8. Stripe sends UTF-8 JSON: something between Stripe and this receiver changed the bytes, or the request is not from Stripe.');
  }
  const signature = Stripe.webhooks.signature;
  if (!signature) throw new Error('stripe-node has no webhook signature helper; check the stripe package installation.');
  const failures: string[] = [];
  for (const secret of options.secrets) {
    try {
      signature.verifyHeader(text, signatureHeader, secret, options.toleranceSeconds);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
      continue;
    }
    // stripe-node checks the age of the timestamp; a timestamp from the future is just as suspect.
    if (signatureTimestamp(signatureHeader) - Math.floor(Date.now() / 1000) > options.toleranceSeconds) {
      throw new WebhookRequestError(400, 'timestamp_outside_tolerance', `The Stripe-Signature timestamp is more than ${options.toleranceSeconds} s in the future; check this server's clock.`);
    }
    return parseSignedJson(rawBody, text);
  }
  if (failures.some((m) => m.includes('Timestamp outside the tolerance zone'))) {
    throw new WebhookRequestError(400, 'timestamp_outside_tolerance', `The signature matches but its timestamp is more than ${options.toleranceSeconds} s old: a replayed or delayed request. Stripe retries with a fresh signature.`);
  }
  throw new WebhookRequestError(400, 'no_valid_signature', `No signature in Stripe-Signature matches the raw body for any of the ${options.secrets.length} configured secret(s). Check STRIPE_WEBHOOK_SECRETS holds this endpoint's whsec_ secret, and that nothing re-serializes the body before it reaches the receiver.`);
}

/**
 * The header's shape, before stripe-node reads it: exactly one `t=<digits>` and at least one
 * non-empty `v1=`. stripe-node would read `t=abc` as NaN and report a signature mismatch.
 */
function isSignatureHeader(header: string): boolean {
  const items = header.split(',').map((item) => item.split('='));
  const timestamps = items.filter(([key]) => key === 't');
  return timestamps.length === 1 && /^\d+$/.test(timestamps[0]?.[1] ?? '') && items.some(([key, value]) => key === 'v1' && !!value);
}

/** The header's one `t=` (checked by {@link isSignatureHeader}). */
function signatureTimestamp(header: string): number {
  return Number(header.split(',').find((item) => item.startsWith('t='))?.slice(2));
}

function parseSignedJson(rawBody: Buffer, text: string): unknown {
  if (jsonDepthExceeds(rawBody, MAX_JSON_DEPTH)) {
    throw new WebhookRequestError(400, 'too_deeply_nested', `The signed body nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep; no Stripe event does. Nothing was done.`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new WebhookRequestError(400, 'invalid_json', 'The signature is valid but the body is not JSON; nothing was done.');
  }
}

/**
 * True when `[`/`{` nest deeper than `limit` outside strings. Scans bytes: in UTF-8 no byte of a
 * multi-byte character is ASCII, so brackets and quotes are found exactly.
 */
export function jsonDepthExceeds(body: Uint8Array, limit: number): boolean {
  let depth = 0;
  const length = body.length;
  for (let i = 0; i < length; i++) {
    const byte = body[i];
    if (byte === 0x22) {
      // A string: run to its closing quote in a tight loop (most of a Stripe body is strings).
      for (i++; i < length; i++) {
        const inner = body[i];
        if (inner === 0x22) break;
        if (inner === 0x5c) i++; // backslash: skip the escaped character
      }
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > limit) return true;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return false;
}
