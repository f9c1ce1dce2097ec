import type Stripe from 'stripe';
import type { Notification, Notifier } from '@stripe-flows/core';
import type { ChargesSource } from '../charges.js';

/** What billing activities are built from. */
export interface BillingActivityDeps {
  stripe: Stripe;
  notifier: Notifier;
  /** Your charges sources for draft-invoice assembly, besides the customer's unassigned invoice items. */
  chargesSources?: readonly ChargesSource[];
}

/** Stripe request options: act as a connected account, and/or with an idempotency key. */
export function requestOptions(call: { account?: string; idempotencyKey?: string }): Stripe.RequestOptions {
  return {
    ...(call.account ? { stripeAccount: call.account } : {}),
    ...(call.idempotencyKey ? { idempotencyKey: call.idempotencyKey } : {}),
  };
}

/** The one notification activity every billing flow uses. */
export function createNotifyActivity({ notifier }: Pick<BillingActivityDeps, 'notifier'>) {
  return {
    /** Tell someone something through the notifier port. */
    async notify(notification: Notification): Promise<void> {
      await notifier.notify(notification);
    },
  };
}
