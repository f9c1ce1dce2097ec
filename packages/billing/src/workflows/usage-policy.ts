// Usage reporting: Stripe's limits on meter events (facts, not choices) and the flow's policy
// (choices, with defaults). Sandbox-safe: the API and the workflow both read this file.

/** What Stripe accepts for a meter event (docs.stripe.com, Billing › Meter events). */
export const meterEventLimits = {
  /** `timestamp` may be at most this far in the past (35 calendar days)... */
  maxPastSeconds: 35 * 24 * 60 * 60,
  /** ...and at most this far ahead (allowance for clock drift). */
  maxFutureSeconds: 5 * 60,
  /** `identifier` and `event_name` are at most 100 characters. */
  maxIdentifierLength: 100,
  maxEventNameLength: 100,
  /** Stripe cancels a meter event only within 24 hours of receiving it. */
  cancelWindowHours: 24,
} as const;

/** Business timings and sizes of usage reporting: passed as workflow input, defaults below. */
export interface UsagePolicy {
  /** Send as soon as this many records are waiting. */
  maxBatchSize: number;
  /** ...or once the oldest waiting record has waited this long. */
  maxBatchDelaySeconds: number;
  /**
   * Meter events in flight at once within a batch. Records of one customer always go one after
   * another (Stripe allows one concurrent call per customer per meter).
   */
  concurrency: number;
  /**
   * A cancellation is sent to Stripe only within this many hours of the record's send; later it is
   * refused without a call. At most Stripe's 24 hours.
   */
  cancelWindowHours: number;
  /** Identifiers remembered for dedup and cancellation (oldest forgotten first). */
  dedupCapacity: number;
  /** Continue-as-new after this many records, to keep history small. */
  maxRecordsPerRun: number;
}

/**
 * Defaults: batches of up to 100 sent within 10 s of the first record waiting, 4 calls in flight
 * (well under Stripe's test-mode 25 requests/s), Stripe's full 24 h cancellation window.
 */
export const defaultUsagePolicy: UsagePolicy = {
  maxBatchSize: 100,
  maxBatchDelaySeconds: 10,
  concurrency: 4,
  cancelWindowHours: meterEventLimits.cancelWindowHours,
  dedupCapacity: 2000,
  maxRecordsPerRun: 1000,
};

/** Merge overrides on the defaults and check the result; throws a message naming each bad field. */
export function resolveUsagePolicy(overrides: Partial<UsagePolicy> = {}): UsagePolicy {
  const policy = { ...defaultUsagePolicy, ...overrides };
  const problems: string[] = [];
  const wholeNumber = (name: keyof UsagePolicy, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const value = policy[name];
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be a whole number from ${min} to ${max} (got ${String(value)})`);
  };
  wholeNumber('maxBatchSize', 1, 1000);
  wholeNumber('concurrency', 1, 25);
  wholeNumber('dedupCapacity', 100);
  wholeNumber('maxRecordsPerRun', 10);
  if (!(policy.maxBatchDelaySeconds >= 0 && policy.maxBatchDelaySeconds <= 3600)) {
    problems.push(`maxBatchDelaySeconds must be from 0 to 3600 (got ${String(policy.maxBatchDelaySeconds)})`);
  }
  if (!(policy.cancelWindowHours > 0 && policy.cancelWindowHours <= meterEventLimits.cancelWindowHours)) {
    problems.push(
      `cancelWindowHours must be more than 0 and at most ${meterEventLimits.cancelWindowHours}, Stripe's own limit (got ${String(policy.cancelWindowHours)})`,
    );
  }
  // Dedup must at least cover what one run can take in, or a run would forget its own records.
  if (Number.isInteger(policy.dedupCapacity) && Number.isInteger(policy.maxRecordsPerRun) && policy.dedupCapacity < policy.maxRecordsPerRun) {
    problems.push(`dedupCapacity (${policy.dedupCapacity}) must be at least maxRecordsPerRun (${policy.maxRecordsPerRun})`);
  }
  if (problems.length) throw new Error(`Invalid usage policy: ${problems.join('; ')}.`);
  return policy;
}
