// The CLI's configuration: the only file of this process that reads process.env.
import { z } from 'zod';
import { parseEnv } from '@stripe-flows/core';

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
  TEMPORAL_ADDRESS: z.string().optional(),
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

/** The environment child processes start from (the CLI passes it on, plus its own settings). */
export function inheritedEnv(): Record<string, string | undefined> {
  return { ...process.env };
}
