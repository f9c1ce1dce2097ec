// The worker process SIGKILLed while Stripe writes are in flight: a new worker finishes every
// flow, the retries reuse the idempotency key, and each write takes effect once.
import { describe, expect, it } from 'vitest';
import { runWorkerKillScenario } from '../src/index.js';

describe('fault injection: worker killed mid-activity', () => {
  it('completes every flow with exactly one side effect per idempotency key', async () => {
    const figures = await runWorkerKillScenario({ flowsPerHoldPoint: 2 });
    console.log(`worker-killed-mid-activity figures:\n${JSON.stringify(figures, null, 2)}`);

    expect(figures.flowsStarted).toBe(4);
    expect(figures.inFlightAtKill).toBe(4);
    expect(figures.flowsCompleted).toBe(4);
    expect(figures.outcomes).toEqual({ final_action_taken: 4 });
    expect(figures.invoicesUncollectible).toBe(4);
    expect(figures.sideEffects).toBe(4);
    expect(figures.duplicateSideEffects).toBe(0);
    // The retry after the kill carried the killed attempt's key...
    expect(figures.retriesWithSameKey).toBe(4);
    for (const flow of figures.flows) {
      expect(flow.idempotencyKeys).toEqual([`${flow.workflowId}:final-action:mark_uncollectible`]);
      expect(flow.sideEffects).toBe(1);
      expect(flow.flowStatus).toBe('completed');
    }
    // ...and was a replay exactly when Stripe had applied the killed attempt.
    expect(figures.retriesReplayed).toEqual({ before_stripe_applied: 0, after_stripe_applied: 2 });
  });
});
