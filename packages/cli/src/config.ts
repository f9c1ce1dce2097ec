// The CLI's configuration: the only file of this process that reads process.env.
import { z } from 'zod';
import { commaList, parseEnv, temporalConfigSchema, type TemporalConfig } from '@stripe-flows/core';

/** Secret the dev stack signs and verifies with when none is configured. Dev only. */
export const DEV_WEBHOOK_SECRET = 'whsec_stripe_flows_local_dev_only';

/**
 * Payload encryption key the dev stack uses when PAYLOAD_ENCRYPTION_KEYS is unset, so local
 * history is ciphertext exactly as in production. Public, so dev only.
 */
export const DEV_PAYLOAD_ENCRYPTION_KEYS = 'dev-only:c3RyaXBlLWZsb3dzLWxvY2FsLWRldi1rZXktMzJieXQ=';

export const cliConfigSchema = z.object({
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRETS: z.string().optional(),
  /** The Stripe API double (dev, no STRIPE_SECRET_KEY); default http://127.0.0.1:<STRIPE_DOUBLE_PORT>. */
  STRIPE_API_BASE: z.url().optional(),
  /** Domains this deployment enables (all built ones when unset): what trigger and endpoints sync route. */
  DOMAINS: commaList.optional(),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  RECEIVER_PORT: z.coerce.number().int().positive().default(4242),
  TEMPORAL_PORT: z.coerce.number().int().positive().default(7233),
  TEMPORAL_UI_PORT: z.coerce.number().int().positive().default(8233),
  STRIPE_DOUBLE_PORT: z.coerce.number().int().positive().default(12111),
  /** The codec endpoint Temporal UI decrypts payloads through. */
  CODEC_PORT: z.coerce.number().int().positive().default(8234),
  PAYLOAD_ENCRYPTION_KEYS: z.string().optional(),
  CODEC_AUTH_TOKENS: z.string().optional(),
  /** Where the dev server keeps its SQLite file. */
  STRIPE_FLOWS_DATA_DIR: z.string().optional(),
});
export type CliConfig = z.infer<typeof cliConfigSchema>;

export function loadCliConfig(): CliConfig {
  return parseEnv(cliConfigSchema, process.env);
}

/**
 * Temporal settings for the CLI's own client (trigger's scenarios, replay): TEMPORAL_* and
 * PAYLOAD_ENCRYPTION_KEYS as the other processes read them. Only when TEMPORAL_ADDRESS is unset
 * (the dev stack) does the dev server's address and public dev payload key apply: payloads sealed
 * with a public key must never reach a real cluster.
 */
export function loadTemporalConfig(config: CliConfig): TemporalConfig {
  const dev = config.TEMPORAL_ADDRESS === undefined;
  return parseEnv(temporalConfigSchema, {
    ...process.env,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
    ...(dev && config.PAYLOAD_ENCRYPTION_KEYS === undefined ? { PAYLOAD_ENCRYPTION_KEYS: DEV_PAYLOAD_ENCRYPTION_KEYS } : {}),
  });
}

/** The environment child processes start from (the CLI passes it on, plus its own settings). */
export function inheritedEnv(): Record<string, string | undefined> {
  return { ...process.env };
}
