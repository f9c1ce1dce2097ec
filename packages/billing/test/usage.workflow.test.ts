import { createRequire } from 'node:module';
// Usage reporting under Temporal's time-skipping test server: batch delays and the 24 h
// cancellation window pass as business time, with plain-object activities that play Stripe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { stateQuery } from '@stripe-flows/core';
import { createTimeSkippingEnv, quietLogger } from '@stripe-flows/testing';
import type { MeterEventBatch, MeterEventCancellation, MeterEventOutcome, UsageActivities } from '../src/activities/usage.js';
import {
  cancelUsageSignal,
  usageRecordsSignal,
  type reportUsage,
  type UsageRecord,
  type UsageState,
} from '../src/workflows/report-usage.js';
import type { UsagePolicy } from '../src/workflows/usage-policy.js';

const HOUR = 3_600_000;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let counter = 0;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleWorkflowCode({ workflowsPath: createRequire(import.meta.url).resolve('@stripe-flows/billing/workflows'), logger: quietLogger() });
});
afterAll(async () => {
  await env?.teardown();
});

/** Stripe as the activities see it: every batch and cancellation recorded, answers the test sets. */
function fakeStripe() {
  const batches: MeterEventBatch[] = [];
  const attempts: MeterEventBatch[] = [];
  const cancels: MeterEventCancellation[] = [];
  const script = {
    /** Attempts to fail with a 429 before a batch goes through. */
    rateLimited: 0,
    /** Identifiers Stripe refuses, with its answer. */
    rejects: new Map<string, { code: string; message: string }>(),
    /** Identifiers Stripe already holds (sent by someone else earlier). */
    held: new Set<string>(),
    /** Every batch fails for good (e.g. a revoked API key). */
    broken: undefined as ApplicationFailure | undefined,
  };
  const activities = {
    async sendMeterEvents(batch) {
      attempts.push(batch);
      if (script.broken) throw script.broken;
      if (script.rateLimited > 0) {
        script.rateLimited--;
        // What stripe-node throws for 429; stripeCall leaves it retryable.
        throw Object.assign(new Error('Too many requests hit the API too quickly.'), { type: 'StripeRateLimitError', statusCode: 429 });
      }
      batches.push(batch);
      return batch.records.map((r): MeterEventOutcome => {
        const rejected = script.rejects.get(r.identifier);
        if (rejected) return { identifier: r.identifier, outcome: 'rejected', ...rejected };
        return { identifier: r.identifier, outcome: script.held.has(r.identifier) ? 'duplicate' : 'reported' };
      });
    },
    async cancelMeterEvent(call) {
      cancels.push(call);
      return { status: 'pending' };
    },
  } satisfies UsageActivities;
  const sent = () => batches.flatMap((b) => b.records.map((r) => r.identifier));
  return { activities, batches, attempts, cancels, script, sent };
}

interface Flow {
  eventName: string;
  workflowId: string;
  /** Resolves to the run the records were signalled to. */
  report(records: UsageRecord[]): Promise<string>;
  cancel(identifiers: string[]): Promise<void>;
  state(): Promise<UsageState>;
  handle(): WorkflowHandle;
}

/** Runs a worker for one usage flow while `body` drives it; terminates the (endless) flow after. */
async function withFlow(fake: ReturnType<typeof fakeStripe>, policy: Partial<UsagePolicy>, body: (flow: Flow) => Promise<void>): Promise<void> {
  const n = ++counter;
  const taskQueue = `usage-test-${n}`;
  const eventName = `api_requests_${n}`;
  const workflowId = `billing.usage:${eventName}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities });
  await worker.runUntil(async () => {
    const handle = () => env.client.workflow.getHandle(workflowId);
    const flow: Flow = {
      eventName,
      workflowId,
      async report(records) {
        const started = await env.client.workflow.signalWithStart<typeof reportUsage, [UsageRecord[]]>('reportUsage', {
          taskQueue,
          workflowId,
          args: [{ eventName, policy }],
          signal: usageRecordsSignal,
          signalArgs: [records],
        });
        return started.signaledRunId;
      },
      cancel: (identifiers) => handle().signal(cancelUsageSignal, identifiers),
      state: async () => (await handle().query(stateQuery)) as UsageState,
      handle,
    };
    try {
      await body(flow);
    } finally {
      // Terminating a flow in the middle of a workflow task leaves the time-skipping server locked
      // (no more skipping for later tests): let the flow come to rest first.
      await until('the flow at rest', async () => ['waiting_for_usage', 'collecting'].includes((await flow.state()).step)).catch(() => undefined);
      await handle().terminate('test done').catch(() => undefined);
    }
  });
}

/** Polls (real time) until `probe` holds; the flow and worker run on their own meanwhile. */
async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the flow has taken in everything sent so far (nothing pending in its handlers). */
const settled = (flow: Flow, check: (s: UsageState) => boolean, what: string) =>
  until(what, async () => check(await flow.state()));

function records(flow: Flow, count: number, from = 0, overrides: Partial<UsageRecord> = {}): UsageRecord[] {
  const base = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { identifier: `${flow.eventName}-${i}`, eventName: flow.eventName, customerId: `cus_Usage${i % 3}`, value: i + 1, timestamp: base - 60, ...overrides };
  });
}

describe('usage reporting (billing.usage)', () => {
  it('flushes full batches at once and the rest once the oldest has waited maxBatchDelaySeconds', async () => {
    const fake = fakeStripe();
    await withFlow(fake, {}, async (flow) => {
      await flow.report(records(flow, 250));
      await until('two full batches', () => fake.batches.length === 2);
      expect(fake.batches.map((b) => b.records.length)).toEqual([100, 100]);
      const waiting = await flow.state();
      expect(waiting.details.counts).toMatchObject({ received: 250, buffered: 50, sent: 200 });
      expect(waiting.step).toBe('collecting');
      expect(waiting.details.nextFlushAt).not.toBeNull();

      await env.sleep(10_000); // the default maxBatchDelaySeconds, as business time
      await until('the last 50', () => fake.batches.length === 3);
      expect(fake.batches[2]?.records).toHaveLength(50);
      const first = fake.batches[0];
      expect(first).toMatchObject({ eventName: flow.eventName, concurrency: 4 });
      expect(first?.records[0]).toEqual({
        identifier: `${flow.eventName}-0`,
        customerId: 'cus_Usage0',
        value: 1,
        timestamp: expect.any(Number) as number,
        idempotencyKey: `${flow.workflowId}:meter-event:${flow.eventName}-0`,
      });
      await settled(flow, (s) => s.details.counts.sent === 250 && s.step === 'waiting_for_usage', 'all 250 sent');
      expect(new Set(fake.sent()).size).toBe(250);
      expect((await flow.state()).details.nextFlushAt).toBeNull();
    });
  });

  it('waits the batch delay from the oldest record, then sends what came in meanwhile as one batch', async () => {
    const fake = fakeStripe();
    await withFlow(fake, {}, async (flow) => {
      await flow.report(records(flow, 2));
      await env.sleep(6_000);
      await flow.report(records(flow, 1, 2));
      await settled(flow, (s) => s.details.counts.buffered === 3, 'three waiting');
      expect(fake.batches).toHaveLength(0);
      await env.sleep(4_000); // 10 s after the first record
      await until('one batch', () => fake.batches.length === 1);
      expect(fake.batches[0]?.records.map((r) => r.identifier)).toEqual([0, 1, 2].map((i) => `${flow.eventName}-${i}`));
    });
  });

  it('reports a repeated identifier once (same signal, later signal, after sending) and keeps out-of-order timestamps as given', async () => {
    const fake = fakeStripe();
    await withFlow(fake, {}, async (flow) => {
      const now = Math.floor(Date.now() / 1000);
      const [a, b, c] = [
        { ...records(flow, 1, 0)[0]!, timestamp: now - 30 },
        { ...records(flow, 1, 1)[0]!, timestamp: now - 3_000 },
        { ...records(flow, 1, 2)[0]!, timestamp: now - 600 },
      ];
      await flow.report([a, b, a, c]);
      await flow.report([b, { ...c, value: 99 }]); // a retry, and a repeat with other content: the first stays
      await env.sleep(10_000);
      await until('one batch', () => fake.batches.length === 1);
      expect(fake.batches[0]?.records.map((r) => [r.identifier, r.timestamp, r.value])).toEqual([
        [a.identifier, a.timestamp, a.value],
        [b.identifier, b.timestamp, b.value],
        [c.identifier, c.timestamp, c.value],
      ]);
      await settled(flow, (s) => s.details.counts.sent === 3, 'three sent');
      await flow.report([c]); // after it went out
      await env.sleep(10_000);
      const state = await flow.state();
      expect(state.details.counts).toMatchObject({ received: 3, duplicates: 4, sent: 3, buffered: 0 });
      expect(state.done.some((d) => d.action === 'ignored a repeat with different content' && d.detail?.includes(c.identifier))).toBe(true);
      expect(fake.sent()).toEqual([a.identifier, b.identifier, c.identifier]);
    });
  });

  it('counts an identifier Stripe already holds as a duplicate, not as sent twice', async () => {
    const fake = fakeStripe();
    await withFlow(fake, {}, async (flow) => {
      const batch = records(flow, 2);
      fake.script.held.add(batch[1]!.identifier);
      await flow.report(batch);
      await env.sleep(10_000);
      await settled(flow, (s) => s.details.counts.sent === 1, 'one sent');
      expect((await flow.state()).details.counts).toMatchObject({ sent: 1, duplicates: 1, failed: 0 });
    });
  });

  it('retries a rate-limited batch with backoff under the same idempotency keys, reporting each record once', async () => {
    const fake = fakeStripe();
    fake.script.rateLimited = 2;
    await withFlow(fake, {}, async (flow) => {
      await flow.report(records(flow, 3));
      await env.sleep(10_000);
      await until('the batch through on its third attempt', () => fake.batches.length === 1);
      expect(fake.attempts).toHaveLength(3);
      const keys = fake.attempts.map((a) => a.records.map((r) => r.idempotencyKey).join(','));
      expect(new Set(keys).size).toBe(1);
      await settled(flow, (s) => s.details.counts.sent === 3, 'three sent');
      expect((await flow.state()).details.counts.failed).toBe(0);
    });
  });

  it("records a record Stripe rejects as failed with Stripe's message, reports the rest, and takes the fixed record again under a new key", async () => {
    const fake = fakeStripe();
    await withFlow(fake, {}, async (flow) => {
      const batch = records(flow, 3);
      const bad = batch[1]!;
      fake.script.rejects.set(bad.identifier, { code: 'resource_missing', message: "No such customer: 'cus_Usage1'" });
      await flow.report(batch);
      await env.sleep(10_000);
      await settled(flow, (s) => s.details.counts.failed === 1, 'one failed');
      const state = await flow.state();
      expect(state.details.counts).toMatchObject({ sent: 2, failed: 1 });
      expect(state.details.failures).toEqual([
        { identifier: bad.identifier, customerId: bad.customerId, code: 'resource_missing', reason: "No such customer: 'cus_Usage1'", at: expect.any(String) as string },
      ]);
      expect(fake.attempts).toHaveLength(1); // not retried

      fake.script.rejects.clear();
      await flow.report([{ ...bad, customerId: 'cus_Usage9' }]);
      await env.sleep(10_000);
      await until('the fixed record sent', () => fake.batches.length === 2);
      expect(fake.batches[1]?.records).toEqual([expect.objectContaining({ identifier: bad.identifier, customerId: 'cus_Usage9', idempotencyKey: `${flow.workflowId}:meter-event:${bad.identifier}#1` })]);
    });
  });

  it('marks a batch that fails for good as not reported, with the cause, and keeps taking usage', async () => {
    const fake = fakeStripe();
    fake.script.broken = ApplicationFailure.create({ type: 'stripe.api_key_invalid', message: 'Stripe rejected POST /v1/billing/meter_events (HTTP 401, api_key_invalid): Invalid API Key provided', nonRetryable: true });
    await withFlow(fake, {}, async (flow) => {
      await flow.report(records(flow, 2));
      await env.sleep(10_000);
      await settled(flow, (s) => s.details.counts.failed === 2, 'two failed');
      const failure = (await flow.state()).details.failures[0];
      expect(failure?.code).toBe('stripe.api_key_invalid');
      expect(failure?.reason).toMatch(/^Not confirmed as reported: Stripe rejected .*Invalid API Key provided\. Report these records again with the same identifiers/);

      fake.script.broken = undefined;
      await flow.report(records(flow, 2)); // the operator fixed the key and reports again
      await env.sleep(10_000);
      await until('the records sent', () => fake.batches.length === 1);
      expect(fake.batches[0]?.records.map((r) => r.idempotencyKey)).toEqual([0, 1].map((i) => `${flow.workflowId}:meter-event:${flow.eventName}-${i}#1`));
    });
  });

  it('cancels a sent record within 24 h through Stripe, with an idempotency key', async () => {
    const fake = fakeStripe();
    await withFlow(fake, {}, async (flow) => {
      const [record] = records(flow, 1);
      await flow.report([record!]);
      await env.sleep(10_000);
      await settled(flow, (s) => s.details.counts.sent === 1, 'sent');
      await env.sleep(23 * HOUR);
      await flow.cancel([record!.identifier]);
      await until('the adjustment', () => fake.cancels.length === 1);
      expect(fake.cancels[0]).toEqual({ eventName: flow.eventName, identifier: record!.identifier, idempotencyKey: `${flow.workflowId}:cancel:${record!.identifier}` });
      await settled(flow, (s) => s.details.counts.cancelled === 1, 'cancelled');
      expect((await flow.state()).details.cancellations).toEqual([{ identifier: record!.identifier, outcome: 'cancelled', at: expect.any(String) as string }]);
      await flow.cancel([record!.identifier]); // again: nothing more to do
      await flow.report([record!]); // and the usage does not come back
      await env.sleep(10_000);
      expect(fake.cancels).toHaveLength(1);
      expect(fake.batches).toHaveLength(1);
    });
  });

  it('refuses a cancellation more than 24 h after the send, without calling Stripe, and says what to do instead', async () => {
    const fake = fakeStripe();
    await withFlow(fake, {}, async (flow) => {
      const [record] = records(flow, 1);
      await flow.report([record!]);
      await env.sleep(10_000);
      await settled(flow, (s) => s.details.counts.sent === 1, 'sent');
      await env.sleep(25 * HOUR);
      await flow.cancel([record!.identifier]);
      await settled(flow, (s) => s.details.counts.cancelRefused === 1, 'refused');
      const [refusal] = (await flow.state()).details.cancellations;
      expect(refusal).toMatchObject({ identifier: record!.identifier, outcome: 'refused' });
      expect(refusal?.reason).toMatch(/more than 24 h ago; Stripe cancels meter events only within 24 h of receiving them\. Report a correcting negative value instead\./);
      expect(fake.cancels).toHaveLength(0);
    });
  });

  it('drops a record cancelled before it was sent, without calling Stripe, and ignores it if reported again', async () => {
    const fake = fakeStripe();
    await withFlow(fake, {}, async (flow) => {
      const [keep, drop] = records(flow, 2);
      await flow.report([keep!, drop!]);
      await flow.cancel([drop!.identifier]);
      await flow.report([drop!]);
      await env.sleep(10_000);
      await until('one batch', () => fake.batches.length === 1);
      expect(fake.sent()).toEqual([keep!.identifier]);
      expect(fake.cancels).toHaveLength(0);
      // Stripe has the batch; the flow records it once the activity's completion is processed.
      await settled(flow, (s) => s.details.counts.sent === 1, 'the batch recorded');
      const state = await flow.state();
      expect(state.details.counts).toMatchObject({ sent: 1, cancelled: 1, duplicates: 1 });
      expect(state.details.cancellations).toEqual([{ identifier: drop!.identifier, outcome: 'dropped_before_send', at: expect.any(String) as string }]);
    });
  });

  it('continues as new after maxRecordsPerRun records, carrying dedup memory, counts and waiting records', async () => {
    const fake = fakeStripe();
    await withFlow(fake, { maxRecordsPerRun: 10, maxBatchSize: 5 }, async (flow) => {
      const firstRun = await flow.report(records(flow, 12));
      await until('two full batches', () => fake.batches.length === 2);
      await until('a new run', async () => (await flow.handle().describe()).runId !== firstRun);
      const carried = await flow.state();
      expect(carried.details.counts).toMatchObject({ received: 12, sent: 10, buffered: 2 });
      expect(carried.done.filter((d) => d.action === 'sent 5 meter events')).toHaveLength(2);

      await env.sleep(10_000); // the two carried records go out in the new run
      await until('the carried records sent', () => fake.batches.length === 3);
      await flow.report(records(flow, 1, 0)); // a repeat of a record the first run sent
      await settled(flow, (s) => s.details.counts.duplicates === 1, 'the repeat dropped');
      await env.sleep(10_000);
      expect(fake.sent()).toHaveLength(12);
      expect(new Set(fake.sent()).size).toBe(12);
    });
  });

  it('fails at once, naming the field, when started with an invalid policy', async () => {
    const fake = fakeStripe();
    await withFlow(fake, { cancelWindowHours: 48 }, async (flow) => {
      await flow.report(records(flow, 1));
      const error = await flow.handle().result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause?.message).toMatch(/cancelWindowHours must be more than 0 and at most 24, Stripe's own limit \(got 48\)/);
    });
  });
});
