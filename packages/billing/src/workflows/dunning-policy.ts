/** What to do when reminders did not bring the money in and Stripe has stopped retrying. */
export type DunningFinalAction = 'mark_uncollectible' | 'void' | 'cancel_subscription' | 'none';

/** Business timings of dunning: passed as workflow input, defaults below. */
export interface DunningPolicy {
  /** Customer notices, in days after the first failed payment. Last one is the final notice. */
  reminders: Array<{ afterDays: number; kind: 'payment_failed' | 'reminder' | 'final_notice' }>;
  /** When (days after the first failure) the final action is due. */
  finalActionAfterDays: number;
  finalAction: DunningFinalAction;
  /**
   * If Stripe still has a retry scheduled when the final action is due, wait for it (never act
   * while Stripe may still collect), but at most this many extra days.
   */
  maxWaitForStripeRetriesDays: number;
  /** Tell the operator when the final action was taken. */
  notifyOperator: boolean;
  /** Continue-as-new after this many events, to keep history small. */
  maxEventsPerRun: number;
}

/**
 * Defaults follow Stripe's Smart Retries (8 tries within 2 weeks): notices at once, after 3 and 7
 * days, a final notice at 14, and mark uncollectible at 21 days once retries are over.
 */
export const defaultDunningPolicy: DunningPolicy = {
  reminders: [
    { afterDays: 0, kind: 'payment_failed' },
    { afterDays: 3, kind: 'reminder' },
    { afterDays: 7, kind: 'reminder' },
    { afterDays: 14, kind: 'final_notice' },
  ],
  finalActionAfterDays: 21,
  finalAction: 'mark_uncollectible',
  maxWaitForStripeRetriesDays: 7,
  notifyOperator: true,
  maxEventsPerRun: 500,
};

/** Merge overrides on the defaults and check the result; throws a message naming the bad field. */
export function resolveDunningPolicy(overrides: Partial<DunningPolicy> = {}): DunningPolicy {
  const policy = { ...defaultDunningPolicy, ...overrides };
  const problems: string[] = [];
  let previous = -1;
  policy.reminders.forEach((r, i) => {
    if (!Number.isFinite(r.afterDays) || r.afterDays < 0) problems.push(`reminders[${i}].afterDays must be a number >= 0`);
    if (r.afterDays < previous) problems.push(`reminders[${i}].afterDays must not be earlier than reminders[${i - 1}]`);
    previous = r.afterDays;
  });
  if (!(policy.finalActionAfterDays >= previous)) {
    problems.push('finalActionAfterDays must be on or after the last reminder');
  }
  if (!['mark_uncollectible', 'void', 'cancel_subscription', 'none'].includes(policy.finalAction)) {
    problems.push('finalAction must be one of mark_uncollectible, void, cancel_subscription, none');
  }
  if (!(policy.maxWaitForStripeRetriesDays >= 0)) problems.push('maxWaitForStripeRetriesDays must be >= 0');
  if (!(policy.maxEventsPerRun >= 10)) problems.push('maxEventsPerRun must be >= 10');
  if (problems.length) throw new Error(`Invalid dunning policy: ${problems.join('; ')}.`);
  return policy;
}
