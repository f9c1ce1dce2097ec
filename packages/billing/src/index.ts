import { fileURLToPath } from 'node:url';
import { defineDomain } from '@stripe-flows/core';
import { createBillingActivities, type BillingActivityDeps } from './activities/index.js';
import { billingRoutes } from './routes.js';
import type { DunningPolicy } from './workflows/dunning-policy.js';

export interface BillingOptions {
  /** Overrides of the dunning policy defaults for flows this deployment starts. */
  dunning?: Partial<DunningPolicy>;
}

/** The billing domain with the given policies. */
export function createBillingDomain(options: BillingOptions = {}) {
  return defineDomain({
    name: 'billing',
    routes: billingRoutes(options),
    workflowsPath: fileURLToPath(import.meta.resolve('@stripe-flows/billing/workflows')),
    createActivities: (deps: BillingActivityDeps) => createBillingActivities(deps),
  });
}

/** The billing domain with default policies. */
export const billing = createBillingDomain();

export { createBillingActivities, type BillingActivities, type BillingActivityDeps } from './activities/index.js';
export { billingRoutes } from './routes.js';
export * from './schemas.js';
export { defaultDunningPolicy, resolveDunningPolicy, type DunningPolicy, type DunningFinalAction } from './workflows/dunning-policy.js';
export type { DunningInput, DunningResult, DunningOutcome, DunningDetails, DunningStep } from './workflows/collect-invoice-payment.js';
