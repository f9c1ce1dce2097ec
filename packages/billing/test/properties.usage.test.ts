// Property: usage reporting takes no Stripe events; its deliveries are calls of the usage API
// (createUsageReporter), which a caller may retry and interleave. Any delivery of a set of report
// and cancel calls (each 1–3 times, any order the caller allows, with or without pauses) reports
// each record to Stripe once, under one idempotency key, and ends in the same counts.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateQuery } from '@stripe-flows/core';
import { stripeId } from '@stripe-flows/testing';
import { createUsageReporter, usageWorkflowId, type UsageRecord, type UsageReporter, type UsageState } from '../src/index.js';
import { deliverPlan, deliveryPlans, inOrder, propertyRuns, Run, startBench, waitFor, type Bench, type StepSpec } from './properties.helpers.js';

let bench: Bench;
let reporter: UsageReporter;
// Records wait for a batch an hour (business time): the flush happens once, after every delivery.
const BATCH_DELAY_SECONDS = 3600;
beforeAll(async () => {
  bench = await startBench();
  reporter = createUsageReporter({ client: bench.env.client, policy: { maxBatchDelaySeconds: BATCH_DELAY_SECONDS } });
});
afterAll(async () => {
  await bench?.stop();
});

// Three overlapping report calls (the third repeats r2), and a cancellation of r3 once reported.
const steps: StepSpec[] = [{ label: 'report1' }, { label: 'report2' }, { label: 'report3' }, { label: 'cancel3', after: 'report1' }];
// The same, with the batch delay passing (a batch sent) anywhere in between, once or more.
const withFlushes: StepSpec[] = [...steps, { label: 'flush' }];

/** What Stripe bills per record: its meter event's value, 0 once cancelled (or never reported). */
function billed(double: Bench['double'], identifiers: readonly string[]): Record<string, number> {
  return Object.fromEntries(
    identifiers.map((id) => {
      const event = double.get('billing.meter_event', id) as { payload?: { value?: string } } | undefined;
      const cancelled = double.get('billing.meter_event_adjustment', id);
      return [id, event && !cancelled ? Number(event.payload?.value) : 0];
    }),
  );
}

async function usage(plan: readonly string[], sequence: readonly StepSpec[] = steps) {
  const run = new Run(bench);
  const eventName = run.id(`api_calls_${run.tag}`, '<meter>');
  const workflowId = usageWorkflowId(eventName);
  try {
    const [cus1, cus2] = [run.id(stripeId('cus'), '<cus1>'), run.id(stripeId('cus'), '<cus2>')];
    const timestamp = Math.floor(Date.now() / 1000) - 60; // Stripe's window is on its own clock
    const record = (n: number): UsageRecord => ({ identifier: `${eventName}-r${n}`, eventName, customerId: n % 2 ? cus1 : cus2, value: n, timestamp });
    const calls: Record<string, { records: UsageRecord[] } | { cancel: string[] }> = {
      report1: { records: [record(1), record(2), record(3)] },
      report2: { records: [record(4), record(5)] },
      report3: { records: [record(6), record(2)] },
      cancel3: { cancel: [record(3).identifier] },
    };
    let recordsDelivered = 0;
    let cancelDelivered = false;
    const state = async () => (await bench.env.client.workflow.getHandle(workflowId).query(stateQuery)) as UsageState;
    // At rest: every record delivered counted, the cancellation (if sent) settled, no batch due.
    const settled = async (): Promise<true | string> => {
      if (recordsDelivered === 0 && !cancelDelivered) return true; // no call yet: no flow
      const { step, details } = await state();
      const { received, duplicates, failed } = details.counts;
      if (received + duplicates + failed < recordsDelivered) return `${received + duplicates + failed} of ${recordsDelivered} records counted`;
      if (cancelDelivered && details.cancellations.length === 0) return 'cancellation not settled';
      if (details.nextFlushAt && Date.parse(details.nextFlushAt) <= (await bench.env.currentTimeMs())) return 'a batch is due';
      return step === 'waiting_for_usage' || step === 'collecting' ? true : `flow is ${step}`;
    };
    await deliverPlan(plan, {
      steps: sequence,
      truth: () => undefined,
      deliver: async (label) => {
        if (label === 'flush') {
          if (recordsDelivered > 0) await bench.env.sleep(BATCH_DELAY_SECONDS * 1000); // business time
          return;
        }
        const call = calls[label];
        if (!call) throw new Error(`no usage call ${label}`);
        if ('records' in call) {
          await reporter.report(call.records);
          recordsDelivered += call.records.length;
        } else {
          await reporter.cancel(call.cancel.map((identifier) => ({ eventName, identifier })));
          cancelDelivered = true;
        }
        run.reached(workflowId);
      },
      settle: () => waitFor('the usage flow to settle', settled),
    });
    await bench.env.sleep(BATCH_DELAY_SECONDS * 1000); // business time: the batch is due
    await waitFor('the batch sent', async () => {
      const { step, details } = await state();
      return details.counts.buffered === 0 && step === 'waiting_for_usage' ? true : `${details.counts.buffered} records buffered, ${step}`;
    });
    const final = run.normalize(await state());
    await bench.env.client.workflow.getHandle(workflowId).terminate('property run done'); // at rest: safe to end
    const { duplicates, ...counts } = final.details.counts;
    return {
      recordsDelivered,
      duplicates,
      billed: run.normalize(billed(bench.double, [1, 2, 3, 4, 5, 6].map((n) => record(n).identifier))),
      view: {
        counts,
        failures: final.details.failures,
        cancellations: final.details.cancellations,
        done: final.done.map((d) => (d.detail ? `${d.action}: ${d.detail}` : d.action)),
        writes: run.writes(),
      },
    };
  } catch (error) {
    await run.abandon();
    throw error;
  }
}

describe('usage reporting (billing.usage) under any delivery of its API calls', () => {
  it('overlapping, repeated report calls and a cancellation: each record reported once, one key each', async () => {
    const canonical = await usage(inOrder(steps));
    expect(canonical.view.counts).toEqual({ received: 6, buffered: 0, sent: 5, failed: 0, cancelled: 1, cancelRefused: 0 });
    expect(canonical.view.cancellations).toEqual([{ identifier: '<meter>-r3', outcome: 'dropped_before_send' }]);
    expect(canonical.view.writes).toEqual({
      'POST /v1/billing/meter_events': [1, 2, 4, 5, 6].map((n) => `billing.usage:<meter>:meter-event:<meter>-r${n}`),
    });

    // Duplicates count the repeats delivered, which the plan varies: every record beyond the six
    // identifiers is one. Everything else matches the in-order delivery.
    await fc.assert(
      fc.asyncProperty(deliveryPlans(steps), async (plan) => {
        const run = await usage(plan);
        expect(run.view).toEqual(canonical.view);
        expect(run.duplicates).toBe(run.recordsDelivered - 6);
      }),
      propertyRuns(15),
    );
  });

  it('with batches sent anywhere in between: Stripe bills the same usage, each record and cancellation sent once', async () => {
    const canonical = await usage(inOrder(withFlushes), withFlushes);
    expect(canonical.billed).toEqual({ '<meter>-r1': 1, '<meter>-r2': 2, '<meter>-r3': 0, '<meter>-r4': 4, '<meter>-r5': 5, '<meter>-r6': 6 });

    // A cancellation that comes after r3 went out is an adjustment at Stripe instead of a drop
    // before sending: the calls may differ, what Stripe bills may not. Each write, one key.
    await fc.assert(
      fc.asyncProperty(deliveryPlans(withFlushes), async (plan) => {
        const run = await usage(plan, withFlushes);
        expect(run.billed).toEqual(canonical.billed);
        expect(run.view.counts).toMatchObject({ received: 6, buffered: 0, failed: 0, cancelled: 1, cancelRefused: 0 });
        expect(run.view.cancellations.map((c) => c.identifier)).toEqual(['<meter>-r3']);
        // r3 went out only if its batch left before the cancellation; every record under one key.
        const r3 = 'billing.usage:<meter>:meter-event:<meter>-r3';
        const meterEvents = run.view.writes['POST /v1/billing/meter_events'] ?? [];
        const r3Sent = meterEvents.includes(r3);
        expect(meterEvents).toEqual([...(canonical.view.writes['POST /v1/billing/meter_events'] ?? []), ...(r3Sent ? [r3] : [])].sort());
        expect(run.view.writes['POST /v1/billing/meter_event_adjustments'] ?? []).toEqual(r3Sent ? ['billing.usage:<meter>:cancel:<meter>-r3'] : []);
      }),
      propertyRuns(10),
    );
  });
});
