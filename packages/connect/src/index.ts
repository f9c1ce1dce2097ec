import { fileURLToPath } from 'node:url';
import { defineDomain } from '@stripe-flows/core';
import { createConnectActivities, type ConnectActivityDeps, type OnboardingLinkUrls } from './activities/index.js';
import { connectRoutes, type ConnectPolicies } from './routes.js';

export interface ConnectOptions extends ConnectPolicies {
  /** Where onboarding links send the account back to; without them reminders carry no link. */
  onboardingLinks?: OnboardingLinkUrls;
}

/** The Connect domain with the given policies. */
export function createConnectDomain(options: ConnectOptions = {}) {
  const { onboardingLinks, ...policies } = options;
  return defineDomain({
    name: 'connect',
    routes: connectRoutes(policies),
    workflowsPath: fileURLToPath(import.meta.resolve('@stripe-flows/connect/workflows')),
    createActivities: (deps: ConnectActivityDeps) =>
      createConnectActivities({ ...deps, ...(onboardingLinks && !deps.onboardingLinks ? { onboardingLinks } : {}) }),
  });
}

/** The Connect domain with default policies (reminders go out without onboarding links). */
export const connect = createConnectDomain();

export {
  createConnectActivities,
  createOnboardingActivities,
  createPayoutActivities,
  createReversalActivities,
  REVERSED_FOR_KEY,
  type ConnectActivities,
  type ConnectActivityDeps,
  type OnboardingLinkUrls,
  type OnboardingActivities,
  type OnboardingLinkNotice,
  type ReversalActivities,
  type ReversalRequest,
  type FeeRefundRequest,
  type ChargeCall,
  type ApplicationFeeSnapshot,
  type PayoutActivities,
} from './activities/index.js';
export { connectRoutes, type ConnectPolicies } from './routes.js';
export * from './schemas.js';
export { defaultOnboardingPolicy, resolveOnboardingPolicy, type OnboardingPolicy } from './workflows/onboarding-policy.js';
export { defaultReversalPolicy, resolveReversalPolicy, type ReversalPolicy } from './workflows/reversal-policy.js';
export { defaultPayoutFailurePolicy, resolvePayoutFailurePolicy, type PayoutFailurePolicy } from './workflows/payout-policy.js';
export type { OnboardingInput, OnboardingResult, OnboardingOutcome, OnboardingDetails, OnboardingStep } from './workflows/onboard-connected-account.js';
export type { ReversalInput, ReversalResult, ReversalOutcome, ReversalDetails, ReversalStep, ReversalRecord } from './workflows/reverse-transfer.js';
export type { PayoutFailureInput, PayoutFailureResult, PayoutFailureOutcome, PayoutFailureDetails, PayoutFailureStep } from './workflows/follow-payout-failure.js';
export { payoutFailureAdvice } from './workflows/follow-payout-failure.js';
