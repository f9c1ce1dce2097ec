import type Stripe from 'stripe';
import { stripeCall, type Notification, type Notifier } from '@stripe-flows/core';
import { invoiceProjection, subscriptionProjection, type InvoiceSnapshot, type SubscriptionSnapshot } from '../schemas.js';

export interface BillingActivityDeps {
  stripe: Stripe;
  notifier: Notifier;
}

/** Which Stripe object, as which account, with which idempotency key. */
export interface InvoiceCall {
  invoiceId: string;
  /** Connected account the invoice lives on (Connect). */
  account?: string;
}
export interface InvoiceWrite extends InvoiceCall {
  idempotencyKey: string;
}

function options(call: { account?: string; idempotencyKey?: string }): Stripe.RequestOptions {
  return {
    ...(call.account ? { stripeAccount: call.account } : {}),
    ...(call.idempotencyKey ? { idempotencyKey: call.idempotencyKey } : {}),
  };
}

/** Billing activities: one Stripe call or one notification each. */
export function createBillingActivities({ stripe, notifier }: BillingActivityDeps) {
  return {
    /** Current invoice, read before any irreversible step. */
    async retrieveInvoice(call: InvoiceCall): Promise<InvoiceSnapshot> {
      const invoice = await stripeCall(`GET /v1/invoices/${call.invoiceId}`, () =>
        stripe.invoices.retrieve(call.invoiceId, {}, options(call)),
      );
      return invoiceProjection.parse(invoice);
    },

    async markInvoiceUncollectible(call: InvoiceWrite): Promise<InvoiceSnapshot> {
      const invoice = await stripeCall(`POST /v1/invoices/${call.invoiceId}/mark_uncollectible`, () =>
        stripe.invoices.markUncollectible(call.invoiceId, {}, options(call)),
      );
      return invoiceProjection.parse(invoice);
    },

    async voidInvoice(call: InvoiceWrite): Promise<InvoiceSnapshot> {
      const invoice = await stripeCall(`POST /v1/invoices/${call.invoiceId}/void`, () =>
        stripe.invoices.voidInvoice(call.invoiceId, {}, options(call)),
      );
      return invoiceProjection.parse(invoice);
    },

    async cancelSubscription(call: { subscriptionId: string; account?: string; idempotencyKey: string }): Promise<SubscriptionSnapshot> {
      const subscription = await stripeCall(`DELETE /v1/subscriptions/${call.subscriptionId}`, () =>
        stripe.subscriptions.cancel(call.subscriptionId, {}, options(call)),
      );
      return subscriptionProjection.parse(subscription);
    },

    /** Tell someone something through the notifier port. */
    async notify(notification: Notification): Promise<void> {
      await notifier.notify(notification);
    },
  };
}

export type BillingActivities = ReturnType<typeof createBillingActivities>;
