import type { DomainDefinition } from '@stripe-flows/core';
import { billing } from '@stripe-flows/billing';
import type { ActivityDeps } from './workers.js';

/** Domains built into this worker image; DOMAINS selects among them. */
export const builtInDomains: ReadonlyArray<DomainDefinition<ActivityDeps, object>> = [billing];
