import { z } from 'zod';

/**
 * A Stripe API version: its release date, then the release name from 2024-09-30.acacia on
 * (`2024-06-20`, `2025-03-31.basil`, `2025-04-30.preview`), and any beta flags
 * (`; feature_beta=v1`). A version newer than this code knows is accepted: each route's
 * projection still checks the fields its flow reads.
 */
export const stripeApiVersion = z
  .string()
  .regex(
    /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(\.[a-z][a-z0-9_]*)?(;\s*[a-z0-9_]+=[a-z0-9_]+)*$/,
    'must be a Stripe API version like 2024-06-20 or 2025-03-31.basil',
  );

/**
 * The Stripe event envelope, as the receiver accepts it after signature verification. Only the
 * envelope is checked here; each route checks the fields of `data.object` its flow reads.
 */
/**
 * A JSON object, checked without copying it: each route's projection reads the fields it needs,
 * so walking every field of `data.object` here (as z.record does) only cost time per event.
 */
const jsonObject = z.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), {
  message: 'expected an object',
});

export const stripeEventEnvelopeSchema = z.object({
  id: z.string().regex(/^evt_[A-Za-z0-9_]+$/, 'must be a Stripe event id (evt_...)'),
  object: z.literal('event'),
  type: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'must be a dotted Stripe event type'),
  created: z.number().int().positive(),
  livemode: z.boolean(),
  api_version: stripeApiVersion.nullable().optional(),
  account: z.string().regex(/^acct_[A-Za-z0-9]+$/, 'must be a connected account id (acct_...)').optional(),
  pending_webhooks: z.number().int().nonnegative().optional(),
  request: z
    .union([
      z.object({ id: z.string().nullable().optional(), idempotency_key: z.string().nullable().optional() }),
      // API versions before 2017-05-25 send the request id as a plain string.
      z.string(),
    ])
    .nullable()
    .optional(),
  data: z.object({
    object: jsonObject,
    previous_attributes: jsonObject.optional(),
  }),
});

export type StripeEventEnvelope = z.infer<typeof stripeEventEnvelopeSchema>;

/** Human-readable list of what failed in a zod parse: `path: message`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
}

/**
 * A reference to another Stripe object in a projection: its id, or the expanded object carrying
 * it. Ids are opaque (Stripe may change their format), so only non-empty is required.
 */
export const stripeIdRef = () => z.union([z.string().min(1), z.object({ id: z.string().min(1) }).transform((o) => o.id)]);
