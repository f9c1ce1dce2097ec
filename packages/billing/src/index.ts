import { fileURLToPath } from 'node:url';
import { defineDomain } from '@stripe-flows/core';
import { createBillingActivities, type BillingActivityDeps } from './activities/index.js';
import { billingRoutes } from './routes.js';
import type { ChargesSource } from './charges.js';
import type { AssemblyPolicy } from './workflows/assembly-policy.js';
import type { DunningPolicy } from './workflows/dunning-policy.js';
import type { TrialEndingPolicy } from './workflows/trial-ending-policy.js';
import type { UsageAlertPolicy } from './workflows/usage-alert-policy.js';

export interface BillingOptions {
  /** Overrides of the dunning policy defaults for flows this deployment starts. */
  dunning?: Partial<DunningPolicy>;
  /** Overrides of the draft-invoice assembly policy defaults. */
  assembly?: Partial<AssemblyPolicy>;
  /** Overrides of the usage alert policy defaults (notify, optional limit action). */
  usageAlert?: Partial<UsageAlertPolicy>;
  /** Overrides of the trial ending policy defaults (reminder schedule, escalation, outcome check). */
  trialEnding?: Partial<TrialEndingPolicy>;
  /** Where draft-invoice assembly finds pending charges, besides the customer's unassigned invoice items. */
  chargesSources?: readonly ChargesSource[];
}

/** The billing domain with the given policies. */
export function createBillingDomain(options: BillingOptions = {}) {
  return defineDomain({
    name: 'billing',
    routes: billingRoutes(options),
    workflowsPath: fileURLToPath(import.meta.resolve('@stripe-flows/billing/workflows')),
    createActivities: (deps: BillingActivityDeps) =>
      createBillingActivities({ ...deps, chargesSources: [...(deps.chargesSources ?? []), ...(options.chargesSources ?? [])] }),
  });
}

/** The billing domain with default policies. */
export const billing = createBillingDomain();

export { createAssemblyActivities } from './activities/assembly.js';
export { createDunningActivities } from './activities/dunning.js';
export { createBillingActivities, type BillingActivities, type BillingActivityDeps, type DunningActivities, type AssemblyActivities, type LinesResult, type RejectedCharge, type UsageAlertActivities, type UsageLimitWrite, type CustomerSubscriptionsCall, type TrialActivities, type TrialCall, type TrialCheck, type PaymentMethodCheck } from './activities/index.js';
export { billingRoutes } from './routes.js';
export * from './schemas.js';
export { defaultDunningPolicy, resolveDunningPolicy, type DunningPolicy, type DunningFinalAction } from './workflows/dunning-policy.js';
export type { DunningInput, DunningResult, DunningOutcome, DunningDetails, DunningStep } from './workflows/collect-invoice-payment.js';
export { defaultAssemblyPolicy, resolveAssemblyPolicy, type AssemblyPolicy } from './workflows/assembly-policy.js';
export type { AssemblyInput, AssemblyResult, AssemblyOutcome, AssemblyDetails, AssemblyStep } from './workflows/assemble-draft-invoice.js';
export { MAX_INVOICE_ITEMS, CHARGE_TAG } from './workflows/assemble-draft-invoice.js';
export { unassignedInvoiceItems, suppliedCharges, type ChargesSource, type PendingCharge, type AssemblyContext } from './charges.js';
export * from './invoice-lines.js';
export { createUsageAlertActivities } from './activities/alerts.js';
export { createTrialActivities } from './activities/trials.js';
export { defaultUsageAlertPolicy, resolveUsageAlertPolicy, type UsageAlertPolicy, type UsageLimitAction, type PauseCollectionBehavior } from './workflows/usage-alert-policy.js';
export type { UsageAlertInput, UsageAlertResult, UsageAlertOutcome, UsageAlertDetails, UsageAlertStep, SubscriptionLimitResult } from './workflows/handle-usage-alert.js';
export { defaultTrialEndingPolicy, resolveTrialEndingPolicy, type TrialEndingPolicy } from './workflows/trial-ending-policy.js';
export type { TrialEndingInput, TrialEndingResult, TrialOutcome, TrialDetails, TrialStep } from './workflows/remind-trial-ending.js';
export { createUsageReporter, usageWorkflowId, UsageValidationError, type UsageReporter, type UsageReporterOptions, type UsageDispatch, type UsageCancellationRequest } from './usage.js';
export { defaultUsagePolicy, resolveUsagePolicy, meterEventLimits, type UsagePolicy } from './workflows/usage-policy.js';
export { usageRecordsSignal, cancelUsageSignal, type UsageRecord, type UsageState, type UsageDetails, type UsageCounts, type UsageFailure, type UsageCancellation, type UsageStep, type ReportUsageInput } from './workflows/report-usage.js';
export { createUsageActivities } from './activities/usage.js';
