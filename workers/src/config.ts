// The worker process's configuration: the only file of this process that reads process.env.
import { z } from 'zod';
import { commaList, parseEnv, stripeApiConfigSchema, temporalConfigSchema } from '@stripe-flows/core';

export const workerConfigSchema = temporalConfigSchema.extend(stripeApiConfigSchema.shape).extend({
  DOMAINS: commaList.optional(),
  /** Per-request timeout of Stripe API calls; a timed-out call fails the activity attempt and Temporal retries it with the same idempotency key. */
  STRIPE_TIMEOUT_MS: z.coerce.number().int().positive().default(20_000),
  /** Optional outbound webhook for notifications (besides the structured log line). */
  NOTIFY_WEBHOOK_URL: z.url().optional(),
  NOTIFY_WEBHOOK_TOKEN: z.string().optional(),
  /** Where Connect onboarding links send the account back to (both, or reminders go without a link). */
  CONNECT_ONBOARDING_REFRESH_URL: z.url().optional(),
  CONNECT_ONBOARDING_RETURN_URL: z.url().optional(),
  /** Folder with prebuilt workflow bundles (default: the ones `pnpm build` made). */
  WORKFLOW_BUNDLE_DIR: z.string().optional(),
  /** Sticky cache size: workflows kept in memory between tasks. */
  MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  return parseEnv(workerConfigSchema, env);
}
