// Usage activities on stripe-node against the Stripe API double: the exact form-encoded requests,
// idempotency keys, per-record outcomes, and which failures Temporal retries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { StripeApiDouble } from '@stripe-flows/testing';
import { createUsageActivities, type MeterEventBatch, type MeterEventOutcome, type MeterEventToSend } from '../src/activities/usage.js';

let double: StripeApiDouble;
let counter = 0;

beforeAll(async () => {
  double = await StripeApiDouble.start();
});
afterAll(async () => {
  await double?.stop();
});

/** An activity environment (failures are the point of some cases: keep their logs out). */
function activityEnv(info: { heartbeatDetails?: unknown } = {}) {
  const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR', () => undefined) });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args) as Promise<R>;
  return { run, heartbeats };
}

const activities = (apiKey?: string) => createUsageActivities({ stripe: double.client(apiKey ? { apiKey } : {}) });
const now = () => Math.floor(Date.now() / 1000);
const WORKFLOW = 'billing.usage:api_requests';

function record(customerId = 'cus_Usage1', extra: Partial<MeterEventToSend> = {}): MeterEventToSend {
  const identifier = `usage-${++counter}-${Date.now()}`;
  return { identifier, customerId, value: 3, timestamp: now() - 60, idempotencyKey: `${WORKFLOW}:meter-event:${identifier}`, ...extra };
}

const batchOf = (records: MeterEventToSend[], concurrency = 4): MeterEventBatch => ({ eventName: 'api_requests', records, concurrency });
const requestsFor = (identifier: string) => double.requests.filter((r) => r.params.identifier === identifier);

describe('sendMeterEvents', () => {
  it('posts each record form-encoded, with its identifier and idempotency key, and reports it', async () => {
    const a = record('cus_UsageA', { value: 7 });
    const b = record('cus_UsageB');
    const outcomes = await activityEnv().run(activities().sendMeterEvents, batchOf([a, b]));
    expect(outcomes).toEqual([
      { identifier: a.identifier, outcome: 'reported' },
      { identifier: b.identifier, outcome: 'reported' },
    ]);
    const [request] = requestsFor(a.identifier);
    expect(request).toMatchObject({ method: 'POST', path: '/v1/billing/meter_events', status: 200, idempotencyKey: a.idempotencyKey });
    expect(request?.rawBody).toBe(
      `event_name=api_requests&payload[stripe_customer_id]=cus_UsageA&payload[value]=7&identifier=${a.identifier}&timestamp=${a.timestamp}`,
    );
    expect(requestsFor(b.identifier)[0]?.rawBody).toContain('payload[stripe_customer_id]=cus_UsageB');
  });

  it("records a record Stripe refuses as rejected with Stripe's message, and reports the rest of the batch", async () => {
    const old = record('cus_UsageA', { timestamp: now() - 40 * 86_400 });
    const fine = record('cus_UsageB');
    const outcomes = await activityEnv().run(activities().sendMeterEvents, batchOf([old, fine]));
    expect(outcomes[0]).toMatchObject({ identifier: old.identifier, outcome: 'rejected', message: expect.stringMatching(/more than 35 days in the past/) as string });
    expect(outcomes[1]).toEqual({ identifier: fine.identifier, outcome: 'reported' });
    expect(requestsFor(old.identifier)).toHaveLength(1); // not retried
  });

  it('answers duplicate for an identifier Stripe already holds (sent under another key)', async () => {
    const first = record();
    await activityEnv().run(activities().sendMeterEvents, batchOf([first]));
    const again = { ...first, idempotencyKey: `${first.idempotencyKey}#other` };
    const outcomes = await activityEnv().run(activities().sendMeterEvents, batchOf([again]));
    expect(outcomes).toEqual([{ identifier: first.identifier, outcome: 'duplicate' }]);
    expect(requestsFor(first.identifier).map((r) => r.status)).toEqual([200, 400]);
    expect(double.sideEffects({ path: '/v1/billing/meter_events' }).filter((r) => r.params.identifier === first.identifier)).toHaveLength(1);
  });

  it('leaves a 429 with Stripe-Should-Retry retryable, and the retry under the same key counts once', async () => {
    const r = record();
    double.inject({ path: '/v1/billing/meter_events', fault: { type: 'status', status: 429, shouldRetry: true } });
    const error = await activityEnv().run(activities().sendMeterEvents, batchOf([r])).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'StripeRateLimitError', statusCode: 429 });
    const outcomes = await activityEnv().run(activities().sendMeterEvents, batchOf([r])); // Temporal's retry
    expect(outcomes).toEqual([{ identifier: r.identifier, outcome: 'reported' }]);
    expect(requestsFor(r.identifier).map((q) => [q.status, q.idempotencyKey])).toEqual([
      [429, r.idempotencyKey],
      [200, r.idempotencyKey],
    ]);
  });

  it('stops a batch at a 429, heartbeats what went, and the retry sends only the rest', async () => {
    const records = [record(), record(), record()]; // one customer: sent one after another
    double.inject({ path: '/v1/billing/meter_events', fault: { type: 'delay', ms: 300 } });
    const first = activityEnv();
    const attempt = first.run(activities().sendMeterEvents, batchOf(records)).catch((e: unknown) => e);
    // While the first record is held up, arm a 429 for the next one.
    for (let i = 0; i < 100 && requestsFor(records[0]!.identifier).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    double.inject({ path: '/v1/billing/meter_events', fault: { type: 'status', status: 429, shouldRetry: true } });
    expect(await attempt).toMatchObject({ statusCode: 429 });
    const progress = first.heartbeats.at(-1) as { done: MeterEventOutcome[] };
    expect(progress.done).toEqual([{ identifier: records[0]!.identifier, outcome: 'reported' }]);

    const outcomes = await activityEnv({ heartbeatDetails: progress }).run(activities().sendMeterEvents, batchOf(records));
    expect(outcomes.map((o) => o.outcome)).toEqual(['reported', 'reported', 'reported']);
    expect(records.map((r) => requestsFor(r.identifier).map((q) => q.status))).toEqual([[200], [429, 200], [200]]);
  });

  it("sends one customer's records one after another and different customers side by side", async () => {
    const lanes = { A: [record('cus_LaneA'), record('cus_LaneA'), record('cus_LaneA')], B: [record('cus_LaneB'), record('cus_LaneB'), record('cus_LaneB')] };
    double.inject({ path: '/v1/billing/meter_events', times: 6, fault: { type: 'delay', ms: 150 } });
    await activityEnv().run(activities().sendMeterEvents, batchOf([...lanes.A, ...lanes.B], 2));
    const arrivals = (rs: MeterEventToSend[]) => rs.map((r) => requestsFor(r.identifier)[0]?.at ?? NaN);
    for (const lane of [lanes.A, lanes.B]) {
      const at = arrivals(lane);
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(140); // the next waited for the answer to the previous
      expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(140);
    }
    expect(Math.abs(arrivals(lanes.A)[0]! - arrivals(lanes.B)[0]!)).toBeLessThan(100);
  });

  it('fails the whole batch, not retried, when Stripe refuses the API key', async () => {
    const r = record();
    const error = await activityEnv().run(activities('sk_test_revoked-key').sendMeterEvents, batchOf([r])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toContain(`POST /v1/billing/meter_events (identifier ${r.identifier}) (HTTP 401, api_key_invalid)`);
  });
});

describe('cancelMeterEvent', () => {
  it('posts type=cancel with cancel[identifier] and the idempotency key; Stripe answers pending', async () => {
    const r = record();
    await activityEnv().run(activities().sendMeterEvents, batchOf([r]));
    const key = `${WORKFLOW}:cancel:${r.identifier}`;
    const result = await activityEnv().run(activities().cancelMeterEvent, { eventName: 'api_requests', identifier: r.identifier, idempotencyKey: key });
    expect(result).toEqual({ status: 'pending' });
    const request = double.requests.at(-1);
    expect(request).toMatchObject({ path: '/v1/billing/meter_event_adjustments', idempotencyKey: key, status: 200 });
    expect(request?.rawBody).toBe(`event_name=api_requests&type=cancel&cancel[identifier]=${r.identifier}`);
  });

  it("turns Stripe's refusal (received more than 24 h ago) into a non-retryable failure naming the call", async () => {
    const identifier = `usage-old-${Date.now()}`;
    const received = now() - 25 * 3600;
    double.seed('billing.meter_event', {
      id: identifier, identifier, event_name: 'api_requests', created: received, timestamp: received,
      payload: { stripe_customer_id: 'cus_Usage1', value: '1' },
    });
    const error = await activityEnv()
      .run(activities().cancelMeterEvent, { eventName: 'api_requests', identifier, idempotencyKey: `${WORKFLOW}:cancel:${identifier}` })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toMatch(/POST \/v1\/billing\/meter_event_adjustments \(identifier usage-old-\d+\).*within 24 hours of Stripe receiving them/);
  });
});
