// The worker process's configuration: the only file of this process that reads process.env.
import { z } from 'zod';
import { commaList, parseDurationMs, parseEnv, STRIPE_EVENT_RETENTION_DAYS, stripeApiConfigSchema, temporalConfigSchema } from '@stripe-flows/core';

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
  /** Time between reconciliation runs (`15m`, `1h`), or `off` to pause the schedule. */
  RECONCILE_INTERVAL: z
    .string()
    .default('15m')
    .transform((text, ctx): number | null => {
      if (text.trim() === 'off') return null;
      const ms = duration(text, ctx);
      if (ms !== undefined && ms < 60_000) ctx.addIssue({ code: 'custom', message: `must be at least 1m (each run lists Stripe's event log), or off` });
      return ms ?? z.NEVER;
    }),
  /** How far back the first reconciliation run reaches, at most Stripe's 30 days. */
  RECONCILE_LOOKBACK: z
    .string()
    .default('3d')
    .transform((text, ctx): number => {
      const ms = duration(text, ctx);
      if (ms !== undefined && ms > STRIPE_EVENT_RETENTION_DAYS * 86_400_000) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${STRIPE_EVENT_RETENTION_DAYS}d: Stripe keeps events for ${STRIPE_EVENT_RETENTION_DAYS} days` });
      }
      return ms ?? z.NEVER;
    }),
  /**
   * Connected accounts whose event logs reconciliation lists besides the platform's: `all`
   * (every account from GET /v1/accounts), `none`, or `acct_...` ids. Default: `all` when an
   * enabled route arrives on the Connect endpoint, else `none`.
   */
  RECONCILE_CONNECT_ACCOUNTS: z
    .string()
    .optional()
    .transform((text, ctx): 'all' | 'none' | string[] | undefined => {
      const value = text?.trim();
      if (value === undefined || value === '') return undefined;
      if (value === 'all' || value === 'none') return value;
      const ids = value.split(',').map((v) => v.trim()).filter(Boolean);
      const bad = ids.filter((id) => !/^acct_[A-Za-z0-9]+$/.test(id));
      if (bad.length) {
        ctx.addIssue({ code: 'custom', message: `must be all, none, or comma-separated connected account ids (acct_...); not ${bad.join(', ')}` });
        return z.NEVER;
      }
      return ids;
    }),
});

function duration(text: string, ctx: z.RefinementCtx): number | undefined {
  try {
    return parseDurationMs(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return undefined;
  }
}
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  return parseEnv(workerConfigSchema, env);
}
