import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Timeout and retry profiles for billing activities. Stripe writes stop retrying well inside
 * Stripe's 24 h idempotency-key window, so a retry never becomes a second side effect.
 */
export const activityProfiles = {
  stripeRead: {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
  },
  stripeWrite: {
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '12 hours',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' },
  },
  notify: {
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '1 day',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
  },
} as const satisfies Record<string, ActivityOptions>;
