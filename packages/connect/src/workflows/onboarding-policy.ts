import { checkOffsets, checkPolicy } from '@stripe-flows/core/workflow';

/** Business timings of onboarding: passed as workflow input, defaults below. */
export interface OnboardingPolicy {
  /** Reminders (each with a fresh link), in days after something became currently due. */
  reminderDays: number[];
  /** After the listed reminders, one more every this many days... */
  repeatEveryDays: number;
  /** ...up to this many reminders in all, while something stays due. */
  maxReminders: number;
  /** Escalations before `requirements.current_deadline`, in days before it, largest first. */
  escalateDaysBeforeDeadline: number[];
  /** Also tell the operator when escalating and when Stripe disables the account. */
  notifyOperator: boolean;
  /** Requirements the hosted onboarding collects: Stripe recommends eventually_due up front. */
  collect: 'currently_due' | 'eventually_due';
  /**
   * Link type once details were submitted. account_update only works where the platform collects
   * requirements (Custom accounts); account_onboarding works for every account type.
   */
  linkTypeAfterDetailsSubmitted: 'account_onboarding' | 'account_update';
  /** Continue-as-new after this many events, to keep history small. */
  maxEventsPerRun: number;
}

/** Remind at once, then after 2, 5 and 10 days, then weekly (12 in all); escalate 7, 3 and 1 day before the deadline. */
export const defaultOnboardingPolicy: OnboardingPolicy = {
  reminderDays: [0, 2, 5, 10],
  repeatEveryDays: 7,
  maxReminders: 12,
  escalateDaysBeforeDeadline: [7, 3, 1],
  notifyOperator: true,
  collect: 'eventually_due',
  linkTypeAfterDetailsSubmitted: 'account_onboarding',
  maxEventsPerRun: 200,
};

/** Merge overrides on the defaults and check the result; throws a message naming the bad field. */
export function resolveOnboardingPolicy(overrides: Partial<OnboardingPolicy> = {}): OnboardingPolicy {
  const policy = { ...defaultOnboardingPolicy, ...overrides };
  const problems = [
    ...checkOffsets('reminderDays', policy.reminderDays, 'ascending'),
    ...checkOffsets('escalateDaysBeforeDeadline', policy.escalateDaysBeforeDeadline, 'descending'),
  ];
  if (!(policy.repeatEveryDays > 0)) problems.push('repeatEveryDays must be > 0');
  if (!(Number.isInteger(policy.maxReminders) && policy.maxReminders >= 0)) problems.push('maxReminders must be an integer >= 0');
  if (!['currently_due', 'eventually_due'].includes(policy.collect)) problems.push('collect must be currently_due or eventually_due');
  if (!['account_onboarding', 'account_update'].includes(policy.linkTypeAfterDetailsSubmitted)) {
    problems.push('linkTypeAfterDetailsSubmitted must be account_onboarding or account_update');
  }
  if (!(policy.maxEventsPerRun >= 10)) problems.push('maxEventsPerRun must be >= 10');
  checkPolicy('onboarding', problems);
  return policy;
}
