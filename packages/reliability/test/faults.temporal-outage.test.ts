// Temporal SIGKILLed mid-stream under the real receiver process: nothing acknowledged is lost, and
// everything answered 503 gets in once Stripe re-sends it.
import { describe, expect, it } from 'vitest';
import { runTemporalOutageScenario } from '../src/index.js';

describe('fault injection: Temporal killed mid-stream', () => {
  it('loses no acknowledged event, and every 503 succeeds when re-sent', async () => {
    const figures = await runTemporalOutageScenario({ events: 120 });
    console.log(`temporal-killed-mid-stream figures:\n${JSON.stringify(figures, null, 2)}`);

    expect(figures.sent).toBe(120);
    expect(figures.acknowledged + figures.unavailable503 + figures.connectionErrors + figures.other).toBe(120);
    // The outage was real: Stripe saw 503s (never another 5xx or a 2xx Temporal did not accept).
    expect(figures.unavailable503).toBeGreaterThan(0);
    expect(figures.other).toBe(0);
    expect(figures.readyzWhileDown).toBe(503);
    expect(figures.resent).toBe(figures.unavailable503 + figures.connectionErrors);
    expect(figures.acknowledgedAfterResend).toBe(figures.resent);
    expect(figures.unresolved).toBe(0);
    // Every event is in its flow's history; none acknowledged is missing.
    expect(figures.workflowsFound).toBe(120);
    expect(figures.delivered).toBe(120);
    expect(figures.lost).toBe(0);
  });
});
