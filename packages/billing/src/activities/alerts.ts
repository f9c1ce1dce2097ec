import { stripeCall } from '@stripe-flows/core';
import { meteredSubscriptionProjection, type MeteredSubscription } from '../schemas.js';
import type { PauseCollectionBehavior } from '../workflows/usage-alert-policy.js';
import { project } from './project.js';
import { requestOptions, type BillingActivityDeps, type createNotifyActivity } from './shared.js';

/** Whose subscriptions, as which account. */
export interface CustomerSubscriptionsCall {
  customerId: string;
  /** Connected account the customer lives on (Connect). */
  account?: string;
}

/** One limit action on one subscription: a single `POST /v1/subscriptions/:id`. */
export type UsageLimitWrite = {
  subscriptionId: string;
  account?: string;
  idempotencyKey: string;
} & ({ action: 'cancel_at_period_end' } | { action: 'pause_collection'; behavior: PauseCollectionBehavior });

/** Most subscriptions a customer can have that the limit action looks at (Stripe lists 100 a page). */
const MAX_SUBSCRIPTIONS = 1000;

/** The usage alert flow's Stripe calls: read the customer's subscriptions, apply a limit action. */
export function createUsageAlertActivities({ stripe }: Pick<BillingActivityDeps, 'stripe'>) {
  return {
    /**
     * The customer's subscriptions that have not been canceled (Stripe's default list), with the
     * meters their prices bill. Read right before a limit action, never from an old snapshot.
     */
    async listCustomerSubscriptionsForUsage(call: CustomerSubscriptionsCall): Promise<MeteredSubscription[]> {
      const what = `GET /v1/subscriptions?customer=${call.customerId}`;
      const subscriptions = await stripeCall(what, () =>
        stripe.subscriptions.list({ customer: call.customerId, limit: 100 }, requestOptions(call)).autoPagingToArray({ limit: MAX_SUBSCRIPTIONS }),
      );
      return subscriptions.map((s) => project(meteredSubscriptionProjection, s, what));
    },

    /** Cancel at period end, or pause collection: reversible by the operator until the period ends. */
    async applyUsageLimit(call: UsageLimitWrite): Promise<MeteredSubscription> {
      const what = `POST /v1/subscriptions/${call.subscriptionId} (${call.action})`;
      const params =
        call.action === 'cancel_at_period_end' ? { cancel_at_period_end: true } : { pause_collection: { behavior: call.behavior } };
      const subscription = await stripeCall(what, () => stripe.subscriptions.update(call.subscriptionId, params, requestOptions(call)));
      return project(meteredSubscriptionProjection, subscription, what);
    },
  };
}

/** What the usage alert workflow may call: its Stripe calls and the shared notifier. */
export type UsageAlertActivities = ReturnType<typeof createUsageAlertActivities> & ReturnType<typeof createNotifyActivity>;
