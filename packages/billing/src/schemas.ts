import { z } from 'zod';
import { stripeIdRef } from '@stripe-flows/core';


/**
 * The part of a Stripe invoice the billing flows read. Customer contact details (name, email,
 * address) are deliberately left out: they never enter workflow history.
 */
export const invoiceProjection = z
  .object({
    id: z.string().startsWith('in_', 'must be an invoice id (in_...)'),
    status: z.enum(['draft', 'open', 'paid', 'uncollectible', 'void']),
    customer: stripeIdRef().nullable(),
    // API versions from 2025-03-31 carry the subscription under parent; older ones at the top level.
    subscription: stripeIdRef().nullable().optional(),
    parent: z
      .object({ subscription_details: z.object({ subscription: stripeIdRef().nullable() }).nullable().optional() })
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
  customer: stripeIdRef().nullable().optional(),
});

/** The part of a subscription the flows read. */
export const subscriptionProjection = z.object({
  id: z.string().min(1),
  status: z.enum(['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused']),
});
export type SubscriptionSnapshot = z.output<typeof subscriptionProjection>;

// Usage alerts and trial ending: only ids, amounts, times and the presence of a payment method
// enter workflow history, never contact details or card data.

/**
 * `billing.alert_triggered`, the object of a `billing.alert.triggered` event: which alert fired
 * for which customer, with the metered value that crossed the threshold. It has no id of its own.
 */
export const usageAlertTriggeredProjection = z
  .object({
    object: z.literal('billing.alert_triggered'),
    alert: z.object({
      id: z.string().min(1),
      title: z.string().nullable().optional(),
      alert_type: z.string().min(1),
      usage_threshold: z
        .object({
          gte: z.number(),
          meter: stripeIdRef(),
          recurrence: z.string().nullable().optional(),
        })
        .nullable()
        .optional(),
    }),
    customer: z.string().min(1),
    value: z.number(),
    created: z.number().int().positive(),
  })
  .transform((t) => ({
    alertId: t.alert.id,
    // Written by the merchant when creating the alert; capped so a long title cannot bloat history.
    alertTitle: t.alert.title?.slice(0, 256) ?? null,
    alertType: t.alert.alert_type,
    meterId: t.alert.usage_threshold?.meter ?? null,
    threshold: t.alert.usage_threshold?.gte ?? null,
    recurrence: t.alert.usage_threshold?.recurrence ?? null,
    customerId: t.customer,
    value: t.value,
    /** Unix seconds: when Stripe saw the threshold crossed. */
    triggeredAt: t.created,
  }));

/** What the usage alert flow knows of one trigger. */
export type UsageAlertTrigger = z.output<typeof usageAlertTriggeredProjection>;

/** Subscription statuses (closed set, as in billing's other projections). */
export const subscriptionStatus = z.enum([
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'canceled',
  'unpaid',
  'paused',
]);
export type SubscriptionStatus = z.output<typeof subscriptionStatus>;

/** What Stripe does at trial end when no payment method is on file (`trial_settings.end_behavior`). */
export const missingPaymentMethodBehavior = z.enum(['cancel', 'pause', 'create_invoice']);
export type MissingPaymentMethodBehavior = z.output<typeof missingPaymentMethodBehavior>;

/**
 * The part of a subscription the trial ending flow reads: its trial, how it collects, and whether
 * the subscription itself names a default payment method or source (presence only, never the id).
 */
export const trialSubscriptionProjection = z
  .object({
    id: z.string().min(1),
    status: subscriptionStatus,
    customer: stripeIdRef(),
    collection_method: z.enum(['charge_automatically', 'send_invoice']),
    trial_end: z.number().int().nullable(),
    default_payment_method: stripeIdRef().nullable().optional(),
    default_source: stripeIdRef().nullable().optional(),
    trial_settings: z
      .object({ end_behavior: z.object({ missing_payment_method: missingPaymentMethodBehavior }).nullable().optional() })
      .nullable()
      .optional(),
  })
  .transform((s) => ({
    id: s.id,
    status: s.status,
    customerId: s.customer,
    collectionMethod: s.collection_method,
    /** Unix seconds; null when the subscription has no trial. */
    trialEnd: s.trial_end,
    hasSubscriptionPaymentMethod: Boolean(s.default_payment_method ?? s.default_source),
    /** Null when the subscription does not say (older API versions omit trial_settings). */
    missingPaymentMethodBehavior: s.trial_settings?.end_behavior?.missing_payment_method ?? null,
  }));

/** What the trial ending flow knows of a subscription. */
export type TrialSubscriptionSnapshot = z.output<typeof trialSubscriptionProjection>;

/**
 * The customer's payment defaults (presence only). A deleted customer has none. Stripe charges a
 * subscription invoice with the subscription's default payment method or source, else the
 * customer's `invoice_settings.default_payment_method`, else the customer's `default_source`.
 */
export const customerPaymentDefaultsProjection = z.union([
  z.object({ id: z.string().min(1), deleted: z.literal(true) }).transform((c) => ({
    customerId: c.id,
    deleted: true,
    hasInvoiceDefaultPaymentMethod: false,
    hasDefaultSource: false,
  })),
  z
    .object({
      id: z.string().min(1),
      deleted: z.literal(false).optional(),
      default_source: stripeIdRef().nullable().optional(),
      invoice_settings: z.object({ default_payment_method: stripeIdRef().nullable().optional() }).nullable().optional(),
    })
    .transform((c) => ({
      customerId: c.id,
      deleted: false,
      hasInvoiceDefaultPaymentMethod: Boolean(c.invoice_settings?.default_payment_method),
      hasDefaultSource: Boolean(c.default_source),
    })),
]);
export type CustomerPaymentDefaults = z.output<typeof customerPaymentDefaultsProjection>;

/**
 * The part of a subscription the usage limit action reads: status, whether it is already set to
 * cancel or paused, and the meters its prices bill.
 */
export const meteredSubscriptionProjection = z
  .object({
    id: z.string().min(1),
    status: subscriptionStatus,
    cancel_at_period_end: z.boolean(),
    pause_collection: z.object({ behavior: z.enum(['keep_as_draft', 'mark_uncollectible', 'void']) }).nullable().optional(),
    items: z.object({
      data: z.array(
        z.object({
          price: z
            .object({ recurring: z.object({ meter: z.string().nullable().optional() }).nullable().optional() })
            .nullable()
            .optional(),
        }),
      ),
      has_more: z.boolean(),
    }),
  })
  .transform((s) => ({
    id: s.id,
    status: s.status,
    cancelAtPeriodEnd: s.cancel_at_period_end,
    pauseCollectionBehavior: s.pause_collection?.behavior ?? null,
    meterIds: [...new Set(s.items.data.flatMap((item) => (item.price?.recurring?.meter ? [item.price.recurring.meter] : [])))],
    /** Stripe embeds at most 10 items; more exist when true. */
    itemsTruncated: s.items.has_more,
  }));
export type MeteredSubscription = z.output<typeof meteredSubscriptionProjection>;
