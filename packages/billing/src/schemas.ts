import { z } from 'zod';

/**
 * A reference to another Stripe object: its id, or the expanded object carrying it. Ids are
 * opaque to us (Stripe may change their format), so only non-empty is required.
 */
const stripeRef = () => z.union([z.string().min(1), z.object({ id: z.string().min(1) }).transform((o) => o.id)]);

/**
 * The part of a Stripe invoice the billing flows read. Customer contact details (name, email,
 * address) are deliberately left out: they never enter workflow history.
 */
export const invoiceProjection = z
  .object({
    id: z.string().startsWith('in_', 'must be an invoice id (in_...)'),
    status: z.enum(['draft', 'open', 'paid', 'uncollectible', 'void']),
    customer: stripeRef().nullable(),
    // API versions from 2025-03-31 carry the subscription under parent; older ones at the top level.
    subscription: stripeRef().nullable().optional(),
    parent: z
      .object({ subscription_details: z.object({ subscription: stripeRef().nullable() }).nullable().optional() })
      .nullable()
      .optional(),
    collection_method: z.enum(['charge_automatically', 'send_invoice']),
    attempt_count: z.number().int().nonnegative(),
    next_payment_attempt: z.number().int().nullable(),
    amount_due: z.number().int(),
    amount_remaining: z.number().int(),
    currency: z.string().length(3),
    hosted_invoice_url: z.string().nullable().optional(),
  })
  .transform((invoice) => ({
    id: invoice.id,
    status: invoice.status,
    customerId: invoice.customer,
    subscriptionId: invoice.parent?.subscription_details?.subscription ?? invoice.subscription ?? null,
    collectionMethod: invoice.collection_method,
    attemptCount: invoice.attempt_count,
    nextPaymentAttempt: invoice.next_payment_attempt,
    amountDue: invoice.amount_due,
    amountRemaining: invoice.amount_remaining,
    currency: invoice.currency,
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
  }));

/** What billing flows know of an invoice. */
export type InvoiceSnapshot = z.output<typeof invoiceProjection>;
export type InvoiceStatus = InvoiceSnapshot['status'];

/** What the assembly flow needs from an invoice event: which invoice, and whether it is for it. */
export const invoiceEventProjection = z.object({
  id: z.string().startsWith('in_', 'must be an invoice id (in_...)'),
  status: z.enum(['draft', 'open', 'paid', 'uncollectible', 'void']).nullable().optional(),
  billing_reason: z.string().nullable().optional(),
  customer: stripeRef().nullable().optional(),
});

/** The part of a subscription the flows read. */
export const subscriptionProjection = z.object({
  id: z.string().min(1),
  status: z.enum(['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused']),
});
export type SubscriptionSnapshot = z.output<typeof subscriptionProjection>;
