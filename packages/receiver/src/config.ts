// The receiver's configuration: the only file of this process that reads process.env.
import { z } from 'zod';
import { commaList, parseEnv, temporalConfigSchema } from '@stripe-flows/core';

export const receiverConfigSchema = temporalConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4242),
  HOST: z.string().default('127.0.0.1'),
  /** Signing secrets, comma separated: platform endpoint, Connect endpoint, secrets being rolled. */
  STRIPE_WEBHOOK_SECRETS: commaList.pipe(
    z.array(z.string().startsWith('whsec_', "each secret must start with whsec_ (the endpoint's signing secret)")).min(1, 'set at least one signing secret'),
  ),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  STRIPE_MODE: z.enum(['test', 'live']).default('test'),
  WEBHOOK_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'use a size like 1mb or 512kb').default('1mb'),
  DISPATCH_DEADLINE_MS: z.coerce.number().int().positive().default(5000),
  /** Time a client has to send a whole request (headers and body); slower ones get 408. */
  WEBHOOK_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  DOMAINS: commaList.optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});
export type ReceiverConfig = z.infer<typeof receiverConfigSchema>;

export function loadReceiverConfig(env: Record<string, string | undefined> = process.env): ReceiverConfig {
  return parseEnv(receiverConfigSchema, env);
}
