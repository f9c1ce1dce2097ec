import pino, { type Logger } from 'pino';

/**
 * JSON logs that never carry secrets, signatures or payloads: the receiver only logs ids, types
 * and outcomes, and these paths are redacted in case anything ever passes a request through.
 */
export function createLogger(level: string, name = 'stripe-flows-receiver'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["stripe-signature"]', 'headers["stripe-signature"]', 'body', 'rawBody', 'secret', 'secrets', '*.secret', '*.secrets', 'apiKey', '*.apiKey'],
      censor: '[redacted]',
    },
  });
}
