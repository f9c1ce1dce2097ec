import { checkOffsets, checkPolicy } from '@stripe-flows/core/workflow';

/** Business timings of following a failed payout: passed as workflow input, defaults below. */
export interface PayoutFailurePolicy {
  /** How often to look for a new external account and a later paid payout. */
  checkEveryHours: number;
  /** Reminders to the account, in days after the failure, while it has added no new external account. */
  remindAfterDays: number[];
  /** Tell the operator when nothing was resolved after this many days. */
  escalateAfterDays: number;
  /** Stop following after this many days (the operator is told). */
  giveUpAfterDays: number;
  /** Also tell the operator at the failure itself. */
  notifyOperator: boolean;
}

/** Look daily; remind after 3 and 7 days; escalate at 14; stop at 30. */
export const defaultPayoutFailurePolicy: PayoutFailurePolicy = {
  checkEveryHours: 24,
  remindAfterDays: [3, 7],
  escalateAfterDays: 14,
  giveUpAfterDays: 30,
  notifyOperator: true,
};

export function resolvePayoutFailurePolicy(overrides: Partial<PayoutFailurePolicy> = {}): PayoutFailurePolicy {
  const policy = { ...defaultPayoutFailurePolicy, ...overrides };
  const problems = checkOffsets('remindAfterDays', policy.remindAfterDays, 'ascending');
  if (!(policy.checkEveryHours > 0)) problems.push('checkEveryHours must be > 0');
  if (!(policy.escalateAfterDays > 0)) problems.push('escalateAfterDays must be > 0');
  if (!(policy.giveUpAfterDays >= policy.escalateAfterDays)) problems.push('giveUpAfterDays must be on or after escalateAfterDays');
  checkPolicy('payout failure', problems);
  return policy;
}
