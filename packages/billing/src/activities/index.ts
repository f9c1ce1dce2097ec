// Billing activities: one Stripe call or one notification each, grouped by flow.
import { createUsageAlertActivities } from './alerts.js';
import { createAssemblyActivities } from './assembly.js';
import { createDunningActivities } from './dunning.js';
import { createNotifyActivity, type BillingActivityDeps } from './shared.js';
import { createTrialActivities } from './trials.js';
import { createUsageActivities } from './usage.js';

export type { BillingActivityDeps } from './shared.js';
export type { InvoiceCall, InvoiceWrite, DunningActivities } from './dunning.js';
export type { AssemblyActivities, LinesResult, RejectedCharge } from './assembly.js';
export type { UsageAlertActivities, UsageLimitWrite, CustomerSubscriptionsCall } from './alerts.js';
export type { TrialActivities, TrialCall, TrialCheck, PaymentMethodCheck } from './trials.js';

/** Every billing activity, for the `stripe-flows.billing` worker. */
export function createBillingActivities(deps: BillingActivityDeps) {
  return {
    ...createNotifyActivity(deps),
    ...createDunningActivities(deps),
    ...createAssemblyActivities(deps),
    ...createUsageAlertActivities(deps),
    ...createTrialActivities(deps),
    ...createUsageActivities(deps),
  };
}

export type BillingActivities = ReturnType<typeof createBillingActivities>;
export type { UsageActivities, MeterEventBatch, MeterEventToSend, MeterEventOutcome, MeterEventCancellation } from './usage.js';
