import type { DomainDefinition } from '@stripe-flows/core';
import { billing } from '@stripe-flows/billing';
import { connect, createConnectDomain } from '@stripe-flows/connect';
import type { WorkerConfig } from './config.js';
import type { ActivityDeps } from './workers.js';

/** Domains built into this worker image; DOMAINS selects among them. */
export const builtInDomains: ReadonlyArray<DomainDefinition<ActivityDeps, object>> = [billing, connect];

/** The built-in domains configured for this deployment (e.g. Connect's onboarding link URLs). */
export function configuredDomains(config: Pick<WorkerConfig, 'CONNECT_ONBOARDING_REFRESH_URL' | 'CONNECT_ONBOARDING_RETURN_URL'>): ReadonlyArray<DomainDefinition<ActivityDeps, object>> {
  const refreshUrl = config.CONNECT_ONBOARDING_REFRESH_URL;
  const returnUrl = config.CONNECT_ONBOARDING_RETURN_URL;
  if (!refreshUrl || !returnUrl) return builtInDomains;
  return [billing, createConnectDomain({ onboardingLinks: { refreshUrl, returnUrl } })];
}
