// Stripe faults under the worker process: retryable ones end in a completed flow with one side
// effect per idempotency key; non-retryable 4xx end the flow failed, visibly.
import { describe, expect, it } from 'vitest';
import { runStripeFaultsScenario } from '../src/index.js';

describe('fault injection: Stripe faults', () => {
  it('recovers from 429, 500, timeouts and lost connections once, and fails visibly on a 4xx', async () => {
    const figures = await runStripeFaultsScenario({ faultedAttempts: 2, stripeTimeoutMs: 1500 });
    const { cases, ...totals } = figures;
    console.log(`stripe-faults figures:\n${JSON.stringify(totals, null, 2)}`);
    console.table(cases.map((c) => ({ case: c.case, status: c.status, flowStatus: c.flowStatus, outcome: c.outcome, attempts: c.attempts, faulted: c.faultedAttempts, sideEffects: c.sideEffects, replayed: c.replayed, ms: c.ms, ok: c.ok })));

    expect(figures.duplicateSideEffects).toBe(0);
    for (const c of cases.filter((x) => x.expected === 'completed')) {
      expect(c, c.case).toMatchObject({ status: 'COMPLETED', flowStatus: 'completed', stateStatus: 'completed', outcome: 'final_action_taken', faultedAttempts: 2, sideEffects: 1, idempotencyKeys: 1 });
    }
    // A write Stripe applied but whose answer was lost is retried as a replay, not done again.
    expect(cases.find((c) => c.case.startsWith('answer lost'))?.replayed).toBe(2);
    const failed = cases.filter((x) => x.expected === 'failed');
    expect(failed).toHaveLength(2);
    for (const c of failed) {
      expect(c, c.case).toMatchObject({ status: 'FAILED', flowStatus: 'failed', stateStatus: 'failed', sideEffects: 0 });
      expect(c.outcome, c.case).toMatch(/^stripe\.(invalid_request|resource_missing)$/);
      expect(c.reason, c.case).toMatch(/^Stripe rejected (POST|GET) \/v1\/invoices\/in_\w+/);
    }
    expect(figures.listedAsFailed).toBe(2);
    expect(figures.casesAsExpected).toBe(cases.length);
  });
});
