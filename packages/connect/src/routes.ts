import { defineRoute, formatAmount } from '@stripe-flows/core';
import {
  accountProjection,
  applicationProjection,
  capabilityProjection,
  chargeProjection,
  disputeProjection,
  payoutProjection,
  refundProjection,
} from './schemas.js';
import type { OnboardingPolicy } from './workflows/onboarding-policy.js';
import type { PayoutFailurePolicy } from './workflows/payout-policy.js';
import { defaultReversalPolicy, type ReversalPolicy } from './workflows/reversal-policy.js';

/** Policy overrides per Connect flow. */
export interface ConnectPolicies {
  onboarding?: Partial<OnboardingPolicy>;
  reversal?: Partial<ReversalPolicy>;
  payoutFailure?: Partial<PayoutFailurePolicy>;
}

const idOf = (ref: string | { id: string } | null | undefined): string | null => (typeof ref === 'string' ? ref : (ref?.id ?? null));
/** The object when Stripe sent it expanded; null when only its id came. */
const expanded = <T extends object>(ref: string | T | null | undefined): T | null => (ref && typeof ref === 'object' ? ref : null);

/** Connect routes; `policies` become the start input of the flows they start. */
export function connectRoutes(policies: ConnectPolicies = {}) {
  return [...onboardingRoutes(policies.onboarding), ...reversalRoutes(policies.reversal), ...payoutRoutes(policies.payoutFailure)];
}

/** Onboarding, one flow per connected account. Connect events carry the account as `event.account`. */
function onboardingRoutes(policy: Partial<OnboardingPolicy> | undefined) {
  // Connected accounts' own events: they arrive on the Connect endpoint only.
  const onboarding = { flow: 'onboarding', workflowType: 'onboardConnectedAccount', endpoints: ['connect'] } as const;
  const input = () => (policy ? { policy } : {});
  return [
    defineRoute({
      ...onboarding,
      eventType: 'account.updated',
      mode: 'start',
      projection: accountProjection,
      // data.object is the account itself (and equals event.account on the Connect endpoint).
      objectId: (e) => e.data.object.id,
      searchIds: (e) => ({ accountId: e.data.object.id }),
      input,
      summary: (e) => `Connect onboarding of ${e.data.object.id}`,
    }),
    defineRoute({
      ...onboarding,
      eventType: 'capability.updated',
      mode: 'start',
      projection: capabilityProjection,
      // The flow is about the account the capability belongs to, not the capability.
      objectId: (e) => e.account ?? idOf(e.data.object.account),
      searchIds: (e) => ({ accountId: e.account ?? idOf(e.data.object.account) }),
      input,
      summary: (e) => `Connect onboarding of ${e.account ?? idOf(e.data.object.account) ?? 'unknown account'}`,
    }),
    defineRoute({
      ...onboarding,
      eventType: 'account.application.deauthorized',
      mode: 'signal',
      projection: applicationProjection,
      // data.object is the platform's application: the account is only on the envelope.
      objectId: (e) => e.account,
    }),
  ];
}

/**
 * Transfer reversal, one flow per charge. Destination charges and separate charges and transfers
 * are platform charges (no `event.account`); a direct charge lives on the connected account.
 */
function reversalRoutes(policy: Partial<ReversalPolicy> | undefined) {
  const reversal = { flow: 'reversal', workflowType: 'reverseTransfer' } as const;
  const input = () => (policy ? { policy } : {});
  const feesOnDirect = policy?.refundApplicationFeeOnDirectCharges ?? defaultReversalPolicy.refundApplicationFeeOnDirectCharges;
  const reverseLost = (policy?.onDisputeLost ?? defaultReversalPolicy.onDisputeLost) === 'reverse';
  // Destination charges and transfer groups live on the platform; a direct charge (its refunds and
  // disputes) lives on the connected account, so it arrives on the Connect endpoint.
  const endpoints = feesOnDirect ? (['platform', 'connect'] as const) : (['platform'] as const);
  return [
    defineRoute({
      ...reversal,
      eventType: 'charge.refunded',
      endpoints,
      mode: 'start',
      projection: chargeProjection,
      objectId: (e) => e.data.object.id,
      when: (e) => {
        const charge = e.data.object;
        if (e.account) {
          if (!charge.application_fee) return 'direct charge without an application fee: nothing to give back';
          return feesOnDirect ? true : 'direct charge: application fee refunds are off (policy refundApplicationFeeOnDirectCharges)';
        }
        return charge.transfer || charge.transfer_data?.destination || charge.transfer_group ? true : 'charge funded no transfer (no transfer_data, transfer or transfer_group)';
      },
      condition: `charges that funded a transfer (destination charge or transfer_group)${feesOnDirect ? ', and direct charges with an application fee' : ''}`,
      searchIds: (e) => ({
        customerId: idOf(e.data.object.customer),
        accountId: e.account ?? idOf(e.data.object.transfer_data?.destination) ?? idOf(expanded(e.data.object.transfer)?.destination),
      }),
      input,
      summary: (e) =>
        `Transfer reversal for ${e.data.object.id}: ${formatAmount(e.data.object.amount_refunded, e.data.object.currency)} of ${formatAmount(e.data.object.amount, e.data.object.currency)} refunded`,
    }),
    defineRoute({
      ...reversal,
      eventType: 'charge.refund.updated',
      endpoints,
      mode: 'signal',
      projection: refundProjection,
      // A pending refund that succeeded later: the flow is about its charge.
      objectId: (e) => idOf(e.data.object.charge),
    }),
    defineRoute({
      ...reversal,
      eventType: 'charge.dispute.closed',
      endpoints,
      mode: 'start',
      projection: disputeProjection,
      objectId: (e) => idOf(e.data.object.charge),
      when: (e) =>
        e.data.object.status !== 'lost'
          ? `dispute ${e.data.object.status}, not lost`
          : reverseLost
            ? true
            : 'lost disputes are not reversed (policy onDisputeLost: none)',
      condition: reverseLost ? 'only lost disputes' : 'never (policy onDisputeLost: none)',
      // The charge's customer and destination are known only when Stripe sent the charge expanded.
      searchIds: (e) => ({
        customerId: idOf(expanded(e.data.object.charge)?.customer),
        accountId: e.account ?? idOf(expanded(e.data.object.charge)?.transfer_data?.destination),
      }),
      input,
      summary: (e) =>
        `Transfer reversal for ${idOf(e.data.object.charge) ?? 'unknown charge'}: dispute ${e.data.object.id} lost (${formatAmount(e.data.object.amount, e.data.object.currency)})`,
    }),
  ];
}

/** Payout failure, one flow per payout of a connected account. */
function payoutRoutes(policy: Partial<PayoutFailurePolicy> | undefined) {
  // Connected accounts' payouts: the Connect endpoint (the platform's own payouts are not followed).
  const payout = { flow: 'payout', workflowType: 'followPayoutFailure', projection: payoutProjection, endpoints: ['connect'] } as const;
  return [
    defineRoute({
      ...payout,
      eventType: 'payout.failed',
      mode: 'start',
      objectId: (e) => e.data.object.id,
      when: (e) => (e.account ? true : "platform payout: only connected accounts' payouts are followed"),
      condition: "connected accounts' payouts only (event.account set)",
      searchIds: (e) => ({ accountId: e.account ?? null }),
      input: () => (policy ? { policy } : {}),
      summary: (e) => `Failed payout ${e.data.object.id} of ${e.account ?? 'the platform'}: ${formatAmount(e.data.object.amount, e.data.object.currency)} (${e.data.object.failure_code ?? 'no failure code'})`,
    }),
    // Only meaningful to a running flow: a paid event older than the failure is stale there.
    defineRoute({ ...payout, eventType: 'payout.paid', mode: 'signal', objectId: (e) => e.data.object.id }),
  ];
}
