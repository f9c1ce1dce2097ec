import { z } from 'zod';
import { parseEncryptionKeys, type EncryptionKey } from './codec.js';

/** Temporal connection settings shared by every process (receiver, workers, CLI). */
export const temporalConfigSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** Temporal Cloud API key; implies TLS. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  /**
   * Payload encryption keys, `id:base64key` comma-separated (first encrypts, all decrypt). Every
   * process that talks to Temporal for stripe-flows needs the same list.
   */
  PAYLOAD_ENCRYPTION_KEYS: z
    .string()
    .optional()
    .transform((text, ctx): EncryptionKey[] | undefined => {
      if (text === undefined || text.trim() === '') return undefined;
      try {
        return parseEncryptionKeys(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
});
export type TemporalConfig = z.infer<typeof temporalConfigSchema>;

/** Stripe API settings for processes that call Stripe (workers). */
export const stripeApiConfigSchema = z.object({
  /** Secret or restricted key. Unset: dev and tests use the local Stripe API double. */
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_/, 'must be a Stripe secret (sk_) or restricted (rk_) key').optional(),
  /** Where the Stripe API double listens when STRIPE_SECRET_KEY is unset. */
  STRIPE_API_BASE: z.url().default('http://127.0.0.1:12111'),
});
export type StripeApiConfig = z.infer<typeof stripeApiConfigSchema>;

/** Comma-separated list → trimmed non-empty entries. */
export const commaList = z
  .string()
  .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean));

/**
 * Parse environment variables with a schema, failing with one message that names every bad
 * variable and what it must be.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
}
