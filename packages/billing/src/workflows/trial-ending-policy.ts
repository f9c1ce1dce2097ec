/** Trial ending: business timings, passed as workflow input, defaults below. */
export interface TrialEndingPolicy {
  /**
   * Further customer reminders while no payment method is on file, in hours before `trial_end`.
   * (The first reminder goes out as soon as `trial_will_end` arrives, about 72 h before.) A time
   * already past when the flow learns of the trial end is skipped, not sent late.
   */
  reminderHoursBeforeEnd: number[];
  /** Tell the operator when no payment method is on file this many hours before `trial_end`; null: never. */
  escalateHoursBeforeEnd: number | null;
  /**
   * Read the outcome this long after `trial_end`. Stripe invoices at trial end and charges about an
   * hour later, so the status has settled (active, past_due, canceled or paused) by then.
   */
  outcomeCheckHoursAfterEnd: number;
  /** Tell the operator how a trial that ended without a payment method came out. */
  notifyOperatorOfOutcome: boolean;
  /** Continue-as-new after this many events, to keep history small. */
  maxEventsPerRun: number;
}

/** Defaults: reminders at once (~72 h), 48 h and 24 h before the end; operator told at 24 h. */
export const defaultTrialEndingPolicy: TrialEndingPolicy = {
  reminderHoursBeforeEnd: [48, 24],
  escalateHoursBeforeEnd: 24,
  outcomeCheckHoursAfterEnd: 2,
  notifyOperatorOfOutcome: true,
  maxEventsPerRun: 200,
};

/** Merge overrides on the defaults and check the result; throws a message naming the bad field. */
export function resolveTrialEndingPolicy(overrides: Partial<TrialEndingPolicy> = {}): TrialEndingPolicy {
  const policy = { ...defaultTrialEndingPolicy, ...overrides };
  const problems: string[] = [];
  if (!Array.isArray(policy.reminderHoursBeforeEnd)) {
    problems.push('reminderHoursBeforeEnd must be a list of hours, e.g. [48, 24]');
  } else {
    policy.reminderHoursBeforeEnd.forEach((h, i) => {
      if (!(Number.isFinite(h) && h > 0)) problems.push(`reminderHoursBeforeEnd[${i}] must be a number of hours > 0`);
    });
    if (new Set(policy.reminderHoursBeforeEnd).size !== policy.reminderHoursBeforeEnd.length) {
      problems.push('reminderHoursBeforeEnd must not repeat an hour');
    }
  }
  if (policy.escalateHoursBeforeEnd !== null && !(Number.isFinite(policy.escalateHoursBeforeEnd) && policy.escalateHoursBeforeEnd >= 0)) {
    problems.push('escalateHoursBeforeEnd must be a number of hours >= 0, or null for no escalation');
  }
  if (!(Number.isFinite(policy.outcomeCheckHoursAfterEnd) && policy.outcomeCheckHoursAfterEnd >= 1)) {
    problems.push('outcomeCheckHoursAfterEnd must be >= 1 (Stripe charges about an hour after trial end)');
  }
  if (typeof policy.notifyOperatorOfOutcome !== 'boolean') problems.push('notifyOperatorOfOutcome must be true or false');
  if (!(policy.maxEventsPerRun >= 10)) problems.push('maxEventsPerRun must be >= 10');
  if (problems.length) throw new Error(`Invalid trial ending policy: ${problems.join('; ')}.`);
  return { ...policy, reminderHoursBeforeEnd: [...policy.reminderHoursBeforeEnd].sort((a, b) => b - a) };
}
