import { ApplicationFailure } from '@temporalio/common';
import { describeIssues } from '@stripe-flows/core';
import type { z } from 'zod';

/**
 * Project a Stripe API answer for workflow history. A shape the projection does not accept will
 * not change on retry (an API version or a new enum value), so it fails the activity for good,
 * naming the call and the fields.
 */
export function project<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.create({
    type: 'ProjectionMismatch',
    message: `Stripe's answer to ${what} does not fit the flow's projection (${describeIssues(parsed.error).join('; ')}). Check the account's API version and the projection in schemas.ts; retrying will not help.`,
    nonRetryable: true,
  });
}
