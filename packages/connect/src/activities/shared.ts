import type Stripe from 'stripe';
import type { Notification, Notifier } from '@stripe-flows/core';

/** Where Connect Onboarding sends the account back to (account links require both). */
export interface OnboardingLinkUrls {
  /** Your page that mints a new link when one expired or was already used. */
  refreshUrl: string;
  /** Your page the account returns to. Reaching it does not mean onboarding is done. */
  returnUrl: string;
}

/** What Connect activities are built from. */
export interface ConnectActivityDeps {
  stripe: Stripe;
  notifier: Notifier;
  /** Needed to mint onboarding links; without them reminders go out without a link. */
  onboardingLinks?: OnboardingLinkUrls;
}

/**
 * Stripe request options. `account` acts as the connected account (`Stripe-Account` header):
 * only for objects that live on it (its payouts, a direct charge and its refunds). Platform
 * objects (account links, transfers and their reversals, application fees) take no account.
 */
export function requestOptions(call: { account?: string | undefined; idempotencyKey?: string }): Stripe.RequestOptions {
  return {
    ...(call.account ? { stripeAccount: call.account } : {}),
    ...(call.idempotencyKey ? { idempotencyKey: call.idempotencyKey } : {}),
  };
}

/** The one notification activity every Connect flow uses. */
export function createNotifyActivity({ notifier }: Pick<ConnectActivityDeps, 'notifier'>) {
  return {
    /** Tell someone something through the notifier port. */
    async notify(notification: Notification): Promise<void> {
      await notifier.notify(notification);
    },
  };
}
export type NotifyActivity = ReturnType<typeof createNotifyActivity>;
