// Log redaction: secrets, signatures, contact and card data never reach a log line. Free text is
// masked by pattern (Stripe's error messages echo what they refuse, SDK errors carry those
// messages on); structured fields are censored by key, at any depth.

type Rule = readonly [pattern: RegExp, replace: string | ((match: string, ...groups: string[]) => string)];

const TEXT_RULES: readonly Rule[] = [
  // Capability links: whoever has a hosted invoice or onboarding link can open it.
  [/\bhttps?:\/\/(invoice|pay|checkout|billing|connect|dashboard)\.stripe\.com\/[^\s"'<>]*/gi, (_m, host: string) => `https://${host}.stripe.com/[redacted]`],
  // Credentials in URLs: userinfo and token-like query parameters.
  [/\b(https?:\/\/)[^\s/:@"']+:[^\s/@"']+@/gi, '$1[redacted]@'],
  [/([?&](?:[a-z_]*token|key|api_key|secret|sig|signature|password|auth)=)[^&#\s"']+/gi, '$1[redacted]'],
  // Stripe API keys and webhook signing secrets.
  [/\b(sk|rk|pk)_(test|live)_[A-Za-z0-9]{4,}/g, '$1_$2_[redacted]'],
  [/\bwhsec_[A-Za-z0-9_+/=-]{4,}/g, 'whsec_[redacted]'],
  // Authorization header values.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/gi, '$1 [redacted]'],
  // Stripe-Signature schemes (v1=<hex>, v0=...).
  [/\b(v\d)=[0-9a-f]{16,}/gi, '$1=[redacted]'],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, '[email]'],
  [/\+\d[\d ().-]{6,}\d/g, '[phone]'],
  // Card numbers (grouped or not) and other long digit runs: bank accounts, routing numbers,
  // national ids. Digits inside Stripe ids (`acct_1Nuh...`) and Unix times (in workflow ids) stay.
  [/(?<![\w.-])\d{4}(?:[ -]\d{4}){2}[ -]\d{1,7}(?![\w])/g, '[number]'],
  [/(?<![\w.-])\d{9,}(?![\w])/g, (digits) => (isUnixTime(digits) ? digits : '[number]')],
];

/** Unix seconds or milliseconds between 2001 and 2033 (10 or 13 digits starting with 1). */
function isUnixTime(digits: string): boolean {
  return (digits.length === 10 || digits.length === 13) && digits.startsWith('1');
}

/**
 * Mask what a log line must never carry in free text: emails, phone numbers, card and bank
 * numbers (digit runs of 9 or more, Unix times excepted), Stripe keys (`sk_`/`rk_`/`pk_`),
 * webhook secrets (`whsec_`), bearer tokens, `Stripe-Signature` values, and capability links
 * (hosted invoice, onboarding). Ids, codes and HTTP methods/paths stay readable.
 *
 * @example redactText('Invalid email address: jenny@example.com') // 'Invalid email address: [email]'
 */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replace] of TEXT_RULES) {
    pattern.lastIndex = 0;
    out = typeof replace === 'string' ? out.replace(pattern, replace) : out.replace(pattern, replace as (match: string, ...rest: string[]) => string);
  }
  return out;
}

/** Keys whose values are censored wherever they appear (compared lowercase, without `_` and `-`). */
const CENSORED_KEYS = new Set(
  [
    // credentials
    'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'stripe-signature', 'signature', 'secret', 'secrets',
    'webhook_secret', 'webhook_secrets', 'stripe_webhook_secrets', 'client_secret', 'api_key', 'secret_key', 'stripe_secret_key',
    'temporal_api_key', 'token', 'bearer_token', 'access_token', 'refresh_token', 'notify_webhook_token', 'password',
    'passphrase', 'private_key', 'payload_encryption_keys', 'encryption_key',
    // payloads
    'body', 'raw_body', 'payload',
    // contact, card and bank data (Stripe's field names)
    'email', 'customer_email', 'receipt_email', 'phone', 'customer_phone', 'customer_name', 'address', 'customer_address',
    'shipping', 'customer_shipping', 'billing_details', 'individual', 'company', 'representative', 'dob', 'id_number',
    'ssn_last_4', 'tax_id', 'tax_ids', 'card', 'bank_account', 'account_number', 'routing_number', 'account_holder_name',
    'last4', 'fingerprint', 'exp_month', 'exp_year', 'iin', 'hosted_invoice_url', 'invoice_pdf', 'receipt_url',
    'metadata', 'description', 'statement_descriptor',
  ].map(normalizeKey),
);

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** True when a field of this name is censored in logs. */
export function isCensoredLogKey(key: string): boolean {
  return CENSORED_KEYS.has(normalizeKey(key));
}

const MAX_DEPTH = 8;

/**
 * A log-safe deep copy: strings through {@link redactText}, censored keys (credentials, payloads,
 * contact/card/bank fields) replaced by `[redacted]`, byte arrays by their length, and errors
 * turned into plain `{ type, message, stack, ...fields, cause }` (redacted), so they still say
 * what failed where.
 */
export function redactForLog(value: unknown): unknown {
  return copy(value, 0, new WeakSet());
}

function copy(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[nested]';
  if (value instanceof Date) return value.toISOString();
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => copy(v, depth + 1, seen));
    const out: Record<string, unknown> = {};
    if (value instanceof Error) {
      out.type = value.name;
      out.message = redactText(value.message);
    }
    for (const [key, v] of Object.entries(value)) {
      out[key] = isCensoredLogKey(key) && v !== null && v !== undefined ? '[redacted]' : copy(v, depth + 1, seen);
    }
    if (value instanceof Error) {
      if (value.stack) out.stack = redactText(value.stack);
      if (value.cause !== undefined) out.cause = copy(value.cause, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** pino paths censored by pino itself too (a second net under {@link redactingLoggerOptions}). */
export const logRedactPaths: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["stripe-signature"]',
  'headers.authorization',
  'headers["stripe-signature"]',
  '*.headers.authorization',
  '*.headers["stripe-signature"]',
  'body',
  'rawBody',
  'payload',
  'secret',
  'secrets',
  '*.secret',
  '*.secrets',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
];

/**
 * pino options every stripe-flows process logs with: messages through {@link redactText}, the
 * logged object and the root bindings through {@link redactForLog}, and {@link logRedactPaths}.
 * Spread into `pino({ name, level, ...redactingLoggerOptions() })`. pino does not format a
 * `child()`'s bindings: bind only values safe by construction (ids checked for shape).
 */
export function redactingLoggerOptions() {
  return {
    redact: { paths: [...logRedactPaths], censor: '[redacted]' },
    // Errors are already plain, redacted objects by the time pino's serializers run.
    serializers: { err: (value: unknown) => value },
    formatters: {
      log: (object: Record<string, unknown>) => redactForLog(object) as Record<string, unknown>,
      bindings: (bindings: Record<string, unknown>) => redactForLog(bindings) as Record<string, unknown>,
    },
    hooks: {
      // Runs before pino formats the call: an Error first argument and the message are redacted here.
      logMethod(this: unknown, args: unknown[], method: (...args: never[]) => unknown): void {
        const [first, ...rest] = args;
        const redacted =
          first instanceof Error
            ? [{ err: redactForLog(first) }, ...(rest.length ? rest : [first.message]).map((a) => (typeof a === 'string' ? redactText(a) : a))]
            : args.map((a) => (typeof a === 'string' ? redactText(a) : a));
        Reflect.apply(method, this, redacted);
      },
    },
  };
}
