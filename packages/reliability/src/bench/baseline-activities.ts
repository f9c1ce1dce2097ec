// The baseline flow's one activity: answers at once (no Stripe call), so what is measured is the
// worker and Temporal doing one workflow with one activity.
export function createBaselineActivities() {
  return {
    async settle(objectId: string): Promise<string> {
      return objectId;
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;

/** Task queue of the baseline worker. */
export const BASELINE_TASK_QUEUE = 'stripe-flows.bench-baseline';
