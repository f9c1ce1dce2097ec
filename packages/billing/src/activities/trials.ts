import { stripeCall } from '@stripe-flows/core';
import {
  customerPaymentDefaultsProjection,
  trialSubscriptionProjection,
  type TrialSubscriptionSnapshot,
} from '../schemas.js';
import { project } from './project.js';
import { requestOptions, type BillingActivityDeps, type createNotifyActivity } from './shared.js';

/** Which subscription, as which account. */
export interface TrialCall {
  subscriptionId: string;
  /** Connected account the subscription lives on (Connect). */
  account?: string;
}

/** Whether Stripe will find a payment method when it invoices at trial end (presence only). */
export interface PaymentMethodCheck {
  onFile: boolean;
  /** Where Stripe finds it, in the order Stripe looks: the subscription's default, then the customer's. */
  via: 'subscription_default' | 'customer_invoice_settings' | 'customer_default_source' | null;
  /** The customer has payment methods attached but none set as a default, so Stripe will not use them. */
  attachedButNotDefault: boolean;
  customerDeleted: boolean;
}

/** The subscription as it is now, and whether a payment method is on file for it. */
export interface TrialCheck {
  subscription: TrialSubscriptionSnapshot;
  paymentMethod: PaymentMethodCheck;
}

/** The trial ending flow's Stripe calls (reads only: the flow never changes the subscription). */
export function createTrialActivities({ stripe }: Pick<BillingActivityDeps, 'stripe'>) {
  return {
    /**
     * Read the subscription (customer expanded, so one consistent read) and decide whether a
     * payment method is on file: subscription `default_payment_method`/`default_source`, else the
     * customer's `invoice_settings.default_payment_method`, else the customer's `default_source`.
     * Only when none is set, list the customer's payment methods to tell "none at all" from
     * "attached but not default".
     */
    async checkTrialPaymentMethod(call: TrialCall): Promise<TrialCheck> {
      const what = `GET /v1/subscriptions/${call.subscriptionId}?expand[]=customer`;
      const raw = await stripeCall(what, () =>
        stripe.subscriptions.retrieve(call.subscriptionId, { expand: ['customer'] }, requestOptions(call)),
      );
      const subscription = project(trialSubscriptionProjection, raw, what);
      const none: PaymentMethodCheck = { onFile: false, via: null, attachedButNotDefault: false, customerDeleted: false };
      if (subscription.hasSubscriptionPaymentMethod) {
        return { subscription, paymentMethod: { ...none, onFile: true, via: 'subscription_default' } };
      }
      const customer = project(customerPaymentDefaultsProjection, raw.customer, `${what} (customer)`);
      if (customer.deleted) return { subscription, paymentMethod: { ...none, customerDeleted: true } };
      if (customer.hasInvoiceDefaultPaymentMethod) {
        return { subscription, paymentMethod: { ...none, onFile: true, via: 'customer_invoice_settings' } };
      }
      if (customer.hasDefaultSource) return { subscription, paymentMethod: { ...none, onFile: true, via: 'customer_default_source' } };
      const attached = await stripeCall(`GET /v1/customers/${customer.customerId}/payment_methods`, () =>
        stripe.customers.listPaymentMethods(customer.customerId, { limit: 1 }, requestOptions(call)),
      );
      return { subscription, paymentMethod: { ...none, attachedButNotDefault: attached.data.length > 0 } };
    },
  };
}

/** What the trial ending workflow may call: its Stripe reads and the shared notifier. */
export type TrialActivities = ReturnType<typeof createTrialActivities> & ReturnType<typeof createNotifyActivity>;
