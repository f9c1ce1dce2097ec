import { ApplicationFailure } from '@temporalio/common';
import { stripeCall, type Notification } from '@stripe-flows/core';
import { accountProjection, type AccountSnapshot } from '../schemas.js';
import type { ConnectActivityDeps, NotifyActivity } from './shared.js';

/** A reminder that carries a freshly minted onboarding link. */
export interface OnboardingLinkNotice {
  accountId: string;
  /** account_onboarding for accounts that never finished, account_update to edit submitted details. */
  linkType: 'account_onboarding' | 'account_update';
  /** Which requirements the hosted flow collects. */
  collect: 'currently_due' | 'eventually_due';
  /** The notification to send; the link is added to its data as `onboardingUrl`. */
  notification: Notification;
}

/** Onboarding's Stripe calls: read the account, and remind with a fresh link. */
export function createOnboardingActivities({ stripe, notifier, onboardingLinks }: ConnectActivityDeps) {
  return {
    /** The account as Stripe has it now (platform call: the account id is in the path). */
    async retrieveAccount(call: { accountId: string }): Promise<AccountSnapshot> {
      const account = await stripeCall(`GET /v1/accounts/${call.accountId}`, () => stripe.accounts.retrieve(call.accountId));
      return accountProjection.parse(account);
    },

    /**
     * Mint an account link and send it in one step, so the link (single-use, valid for minutes)
     * never lands in workflow history. A retry mints a new link; the notification's idempotency
     * key stays the same. Returns when the link expires, or null when no link could be minted.
     */
    async sendOnboardingLink(notice: OnboardingLinkNotice): Promise<{ linkExpiresAt: number | null }> {
      if (!onboardingLinks) {
        // Still remind: the account can continue from its Stripe Dashboard.
        await notifier.notify({
          ...notice.notification,
          data: { ...notice.notification.data, onboardingUrl: null, linkUnavailable: 'onboardingLinks (refreshUrl, returnUrl) not configured' },
        });
        return { linkExpiresAt: null };
      }
      // Created by the platform for the account: `account` param, no Stripe-Account header.
      const link = await stripeCall('POST /v1/account_links', () =>
        stripe.accountLinks.create({
          account: notice.accountId,
          type: notice.linkType,
          refresh_url: onboardingLinks.refreshUrl,
          return_url: onboardingLinks.returnUrl,
          collection_options: { fields: notice.collect },
        }),
      );
      if (!link.url) throw ApplicationFailure.retryable(`Stripe returned an account link without a url for ${notice.accountId}.`, 'connect.account_link_without_url');
      await notifier.notify({ ...notice.notification, data: { ...notice.notification.data, onboardingUrl: link.url, linkExpiresAt: link.expires_at } });
      return { linkExpiresAt: link.expires_at };
    },
  };
}

export type OnboardingActivities = ReturnType<typeof createOnboardingActivities> & NotifyActivity;
