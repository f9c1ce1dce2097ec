import { stripeCall } from '@stripe-flows/core';
import { externalAccountProjection, payoutProjection, type ExternalAccountSnapshot, type PayoutSnapshot } from '../schemas.js';
import { requestOptions, type ConnectActivityDeps, type NotifyActivity } from './shared.js';

/** Payout failure's Stripe calls. Payouts live on the connected account: read them as it. */
export function createPayoutActivities({ stripe }: Pick<ConnectActivityDeps, 'stripe'>) {
  return {
    /** The payout as the connected account sees it (`Stripe-Account`). */
    async retrievePayout(call: { payoutId: string; account: string }): Promise<PayoutSnapshot> {
      const payout = await stripeCall(`GET /v1/payouts/${call.payoutId}`, () =>
        stripe.payouts.retrieve(call.payoutId, {}, requestOptions(call)),
      );
      return payoutProjection.parse(payout);
    },

    /** Paid payouts of the account created after `createdAfter` (unix seconds), newest first. */
    async listPaidPayoutsSince(call: { account: string; createdAfter: number }): Promise<PayoutSnapshot[]> {
      const payouts = await stripeCall('GET /v1/payouts?status=paid', () =>
        stripe.payouts.list({ status: 'paid', created: { gt: call.createdAfter }, limit: 10 }, requestOptions(call)),
      );
      return payouts.data.map((p) => payoutProjection.parse(p));
    },

    /** The account's external accounts (platform call: the account id is in the path). Last4 and status only. */
    async listExternalAccounts(call: { account: string }): Promise<ExternalAccountSnapshot[]> {
      const list = await stripeCall(`GET /v1/accounts/${call.account}/external_accounts`, () =>
        stripe.accounts.listExternalAccounts(call.account, { limit: 100 }),
      );
      return list.data.map((e) => externalAccountProjection.parse(e));
    },
  };
}

export type PayoutActivities = ReturnType<typeof createPayoutActivities> & NotifyActivity;
