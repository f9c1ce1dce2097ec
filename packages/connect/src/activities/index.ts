// Connect activities: one Stripe call or one notification each, grouped by flow.
import { createOnboardingActivities } from './onboarding.js';
import { createPayoutActivities } from './payout.js';
import { createReversalActivities } from './reversal.js';
import { createNotifyActivity, type ConnectActivityDeps } from './shared.js';

export type { ConnectActivityDeps, OnboardingLinkUrls } from './shared.js';
export type { OnboardingActivities, OnboardingLinkNotice } from './onboarding.js';
export type { ReversalActivities, ReversalRequest, FeeRefundRequest, ChargeCall, ApplicationFeeSnapshot } from './reversal.js';
export type { PayoutActivities } from './payout.js';
export { REVERSED_FOR_KEY } from './reversal.js';
export { createOnboardingActivities, createPayoutActivities, createReversalActivities };

/** Every Connect activity, for the `stripe-flows.connect` worker. */
export function createConnectActivities(deps: ConnectActivityDeps) {
  return {
    ...createNotifyActivity(deps),
    ...createOnboardingActivities(deps),
    ...createReversalActivities(deps),
    ...createPayoutActivities(deps),
  };
}

export type ConnectActivities = ReturnType<typeof createConnectActivities>;
