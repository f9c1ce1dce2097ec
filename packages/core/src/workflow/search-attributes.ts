import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes every flow carries, so Temporal UI finds a flow by any Stripe id. */
export const StripeObjectIdKey = defineSearchAttributeKey('StripeObjectId', SearchAttributeType.KEYWORD);
export const StripeCustomerIdKey = defineSearchAttributeKey('StripeCustomerId', SearchAttributeType.KEYWORD);
export const StripeAccountIdKey = defineSearchAttributeKey('StripeAccountId', SearchAttributeType.KEYWORD);
/** Type of the latest event the flow applied. */
export const StripeEventTypeKey = defineSearchAttributeKey('StripeEventType', SearchAttributeType.KEYWORD);
export const FlowDomainKey = defineSearchAttributeKey('FlowDomain', SearchAttributeType.KEYWORD);
/** Lifecycle of the flow: see {@link FlowStatus}. */
export const FlowStatusKey = defineSearchAttributeKey('FlowStatus', SearchAttributeType.KEYWORD);

/** Every search attribute the project registers (dev server start, infra). */
export const searchAttributeKeys = [
  StripeObjectIdKey,
  StripeCustomerIdKey,
  StripeAccountIdKey,
  StripeEventTypeKey,
  FlowDomainKey,
  FlowStatusKey,
] as const;

/** Values of the `FlowStatus` search attribute. */
export type FlowStatus = 'running' | 'waiting' | 'acting' | 'completed' | 'failed' | 'quarantined';
