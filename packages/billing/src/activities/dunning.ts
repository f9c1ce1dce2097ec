import { stripeCall } from '@stripe-flows/core';
import { invoiceProjection, subscriptionProjection, type InvoiceSnapshot, type SubscriptionSnapshot } from '../schemas.js';
import { project } from './project.js';
import { requestOptions, type BillingActivityDeps, type createNotifyActivity } from './shared.js';

/** Which Stripe object, as which account, with which idempotency key. */
export interface InvoiceCall {
  invoiceId: string;
  /** Connected account the invoice lives on (Connect). */
  account?: string;
}
export interface InvoiceWrite extends InvoiceCall {
  idempotencyKey: string;
}

/** Dunning's Stripe calls: read the invoice, and the irreversible final actions. */
export function createDunningActivities({ stripe }: Pick<BillingActivityDeps, 'stripe'>) {
  return {
    /** Current invoice, read before any irreversible step. */
    async retrieveInvoice(call: InvoiceCall): Promise<InvoiceSnapshot> {
      const invoice = await stripeCall(`GET /v1/invoices/${call.invoiceId}`, () =>
        stripe.invoices.retrieve(call.invoiceId, {}, requestOptions(call)),
      );
      return project(invoiceProjection, invoice, `invoice ${call.invoiceId}`);
    },

    async markInvoiceUncollectible(call: InvoiceWrite): Promise<InvoiceSnapshot> {
      const invoice = await stripeCall(`POST /v1/invoices/${call.invoiceId}/mark_uncollectible`, () =>
        stripe.invoices.markUncollectible(call.invoiceId, {}, requestOptions(call)),
      );
      return project(invoiceProjection, invoice, `invoice ${call.invoiceId}`);
    },

    async voidInvoice(call: InvoiceWrite): Promise<InvoiceSnapshot> {
      const invoice = await stripeCall(`POST /v1/invoices/${call.invoiceId}/void`, () =>
        stripe.invoices.voidInvoice(call.invoiceId, {}, requestOptions(call)),
      );
      return project(invoiceProjection, invoice, `invoice ${call.invoiceId}`);
    },

    async cancelSubscription(call: { subscriptionId: string; account?: string; idempotencyKey: string }): Promise<SubscriptionSnapshot> {
      const subscription = await stripeCall(`DELETE /v1/subscriptions/${call.subscriptionId}`, () =>
        stripe.subscriptions.cancel(call.subscriptionId, {}, requestOptions(call)),
      );
      return project(subscriptionProjection, subscription, `subscription ${call.subscriptionId}`);
    },
  };
}

/** What the dunning flow calls: its Stripe calls and notify. */
export type DunningActivities = ReturnType<typeof createDunningActivities> & ReturnType<typeof createNotifyActivity>;
