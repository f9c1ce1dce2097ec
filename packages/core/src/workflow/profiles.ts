import { ApplicationFailure, type ActivityOptions } from '@temporalio/workflow';

export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;

/**
 * Timeout and retry profiles every domain's activities use. Stripe writes stop retrying well
 * inside Stripe's 24 h idempotency-key window, so a retry never becomes a second side effect.
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

/** Throws a message naming every bad field of a policy. */
export function checkPolicy(name: string, problems: string[]): void {
  if (problems.length) throw new Error(`Invalid ${name} policy: ${problems.join('; ')}.`);
}

/** Problems with a list of offsets (days or hours): numbers >= 0, in the given order. */
export function checkOffsets(field: string, offsets: readonly number[], order: 'ascending' | 'descending'): string[] {
  const problems: string[] = [];
  offsets.forEach((d, i) => {
    if (!Number.isFinite(d) || d < 0) problems.push(`${field}[${i}] must be a number >= 0`);
    const previous = offsets[i - 1];
    if (previous !== undefined && (order === 'ascending' ? d < previous : d > previous)) {
      problems.push(`${field}[${i}] must be ${order === 'ascending' ? 'on or after' : 'on or before'} ${field}[${i - 1}]`);
    }
  });
  return problems;
}

/**
 * A flow's policy from its input: defaults merged and checked. A bad policy fails the workflow
 * for good (retrying cannot fix it), with the message naming each bad field.
 */
export function policyFromInput<P, O>(resolve: (overrides?: O) => P, overrides: O | undefined): P {
  try {
    return resolve(overrides);
  } catch (error) {
    throw ApplicationFailure.nonRetryable((error as Error).message, 'InvalidPolicy');
  }
}
