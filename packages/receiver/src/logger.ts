import pino, { type Logger } from 'pino';
import { redactingLoggerOptions } from '@stripe-flows/core';

/**
 * JSON logs that never carry secrets, signatures, payloads or personal data: the receiver logs
 * ids, types and outcomes, and every line also goes through core's redaction (messages masked,
 * sensitive keys censored at any depth) in case an error message or object carries more.
 */
export function createLogger(level: string, name = 'stripe-flows-receiver'): Logger {
  return pino({ name, level, ...redactingLoggerOptions() });
}
