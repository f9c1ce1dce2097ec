// Replay helpers that need no Stripe or Temporal: durations, the retention bound, and the line a
// reconcile run shows in Temporal UI. The engine itself runs against the Stripe API double in
// packages/cli/test/replay-engine.test.ts; reconciliation end to end in workers/test.
import { describe, expect, it } from 'vitest';
import { describeRun, oldestListableTime, parseDurationMs, RECONCILE_SCHEDULE_ID, RECONCILE_TASK_QUEUE } from '../src/index.js';

const counts = { listed: 12, delivered: 3, ignored: 8, quarantined: 1, unrouted: 0, invalid: 0, failed: 0 };
const at = Date.parse('2026-11-26T09:00:00Z');

describe('parseDurationMs', () => {
  it('reads s, m, h and d', () => {
    expect(parseDurationMs('90s')).toBe(90_000);
    expect(parseDurationMs('15m')).toBe(900_000);
    expect(parseDurationMs('2h')).toBe(7_200_000);
    expect(parseDurationMs(' 3d ')).toBe(259_200_000);
  });

  it('refuses anything else, showing the accepted forms', () => {
    for (const bad of ['15', '1.5h', '2 weeks', '-1d', 'off', '']) {
      expect(() => parseDurationMs(bad), bad).toThrow(/use a whole number and a unit, like 90s, 15m, 2h or 3d/);
    }
  });
});

describe('reconciliation', () => {
  it("reaches back Stripe's 30 days at most", () => {
    expect(oldestListableTime(at)).toBe(at - 30 * 86_400_000);
  });

  it('says what a run found, on the platform and connected accounts, and where the next starts', () => {
    expect(describeRun(counts, at, 3, at + 600_000)).toBe(
      '12 events since 2026-11-26T09:00:00Z on the platform and 3 connected accounts: 3 delivered, 8 ignored (no running flow, or the flow ended), 1 quarantined; flows drop events they already had. Next run from 2026-11-26T09:10:00Z.',
    );
    expect(describeRun({ ...counts, listed: 0, delivered: 0, ignored: 0, quarantined: 0 }, at, 0, at, 'The cursor is old.')).toBe(
      'No events since 2026-11-26T09:00:00Z. Next run from 2026-11-26T09:00:00Z. The cursor is old.',
    );
  });

  it('names its schedule and task queue like the rest of the project', () => {
    expect(RECONCILE_SCHEDULE_ID).toBe('stripe-flows.reconcile');
    expect(RECONCILE_TASK_QUEUE).toBe('stripe-flows.reconcile');
  });
});
