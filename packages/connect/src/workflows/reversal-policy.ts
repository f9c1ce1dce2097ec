import { checkOffsets, checkPolicy } from '@stripe-flows/core/workflow';

/** What to give back from a connected account when its charge is refunded or a dispute is lost. */
export interface ReversalPolicy {
  /** Send `refund_application_fee=true` with refund reversals: the platform's fee goes back proportionally. */
  refundApplicationFee: boolean;
  /** On `charge.dispute.closed` with status lost: reverse the disputed amount proportionally, or leave it. */
  onDisputeLost: 'reverse' | 'none';
  /** `refund_application_fee` for dispute reversals. */
  refundApplicationFeeOnDispute: boolean;
  /** Direct charges (on the connected account): refund the platform's application fee proportionally. */
  refundApplicationFeeOnDirectCharges: boolean;
  /** A reversal the connected balance cannot cover is retried after these hours, then every last one... */
  insufficientBalanceRetryHours: number[];
  /** ...until this many days after the first failure; then the operator is told it was abandoned. */
  giveUpAfterDays: number;
  /** Keep watching the charge for further refunds and disputes this many days after the last event. */
  watchDays: number;
  /** Tell the connected account about reversals its balance could not cover. */
  notifyAccount: boolean;
  /** Continue-as-new after this many events, to keep history small. */
  maxEventsPerRun: number;
}

/**
 * Stripe's own defaults where it has them (`refund_application_fee` false); retry a short balance
 * after 1 h, 6 h, 1 day, 3 days, then every 3 days for 30 days; watch the charge for 180 days.
 */
export const defaultReversalPolicy: ReversalPolicy = {
  refundApplicationFee: false,
  onDisputeLost: 'reverse',
  refundApplicationFeeOnDispute: false,
  refundApplicationFeeOnDirectCharges: false,
  insufficientBalanceRetryHours: [1, 6, 24, 72],
  giveUpAfterDays: 30,
  watchDays: 180,
  notifyAccount: true,
  maxEventsPerRun: 200,
};

export function resolveReversalPolicy(overrides: Partial<ReversalPolicy> = {}): ReversalPolicy {
  const policy = { ...defaultReversalPolicy, ...overrides };
  const problems = checkOffsets('insufficientBalanceRetryHours', policy.insufficientBalanceRetryHours, 'ascending');
  if (policy.insufficientBalanceRetryHours.length === 0 || policy.insufficientBalanceRetryHours.some((h) => h <= 0)) {
    problems.push('insufficientBalanceRetryHours must list at least one interval > 0');
  }
  if (!['reverse', 'none'].includes(policy.onDisputeLost)) problems.push('onDisputeLost must be reverse or none');
  if (!(policy.giveUpAfterDays > 0)) problems.push('giveUpAfterDays must be > 0');
  if (!(policy.watchDays > 0)) problems.push('watchDays must be > 0');
  if (!(policy.maxEventsPerRun >= 10)) problems.push('maxEventsPerRun must be >= 10');
  checkPolicy('reversal', problems);
  return policy;
}
