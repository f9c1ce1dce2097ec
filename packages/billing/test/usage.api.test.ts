import { createRequire } from 'node:module';
// The usage reporting API: every record checked against Stripe's meter event rules before anything
// is sent (a recording client stands in for Temporal), then one case end to end on Temporal's
// time-skipping server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { FlowDomainKey, StripeObjectIdKey } from '@stripe-flows/core';
import { createTimeSkippingEnv } from '@stripe-flows/testing';
import type { MeterEventBatch, UsageActivities } from '../src/activities/usage.js';
import { createUsageReporter, UsageValidationError, type UsageRecord } from '../src/usage.js';

const DAY = 86_400;
const NOW = 1_700_000_000; // unix seconds: the reporter's clock in the validation cases

/** A Temporal client that only records what the reporter dispatches. */
function recordingClient() {
  const calls: Array<{ workflowType: string; options: Record<string, unknown> }> = [];
  const client = {
    workflow: {
      signalWithStart: async (workflowType: string, options: Record<string, unknown>) => {
        calls.push({ workflowType, options });
        return { workflowId: options.workflowId };
      },
    },
  } as unknown as Client;
  return { client, calls };
}

const reporterAt = (extra: { allowNegativeValues?: boolean } = {}) => {
  const recording = recordingClient();
  const reporter = createUsageReporter({ client: recording.client, now: () => NOW * 1000, ...extra });
  return { reporter, calls: recording.calls };
};

const usage = (i: number, extra: Partial<UsageRecord> = {}): UsageRecord => ({
  identifier: `req_${i}`,
  eventName: 'api_requests',
  customerId: 'cus_Api1',
  value: 1,
  timestamp: NOW - 60,
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<UsageValidationError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UsageValidationError);
  return error as UsageValidationError;
}

describe('report() checks every record before sending anything', () => {
  it('names each bad record by index and field, with what Stripe accepts', async () => {
    const { reporter, calls } = reporterAt();
    const error = await rejection(
      reporter.report([
        usage(0),
        usage(1, { timestamp: NOW - 40 * DAY }),
        usage(2, { timestamp: NOW + 10 * 60 }),
        usage(3, { timestamp: NOW * 1000 }),
        usage(4, { identifier: '' }),
        usage(5, { identifier: 'x'.repeat(101) }),
        usage(6, { identifier: 'has space' }),
        usage(7, { value: 2.5 }),
        usage(8, { value: Number.NaN }),
        usage(9, { value: -3 }),
        usage(10, { customerId: 'acct_1Api' }),
        { ...usage(11), eventName: undefined } as unknown as UsageRecord,
      ]),
    );
    expect(error.problems).toEqual([
      `records[1].timestamp: ${NOW - 40 * DAY} is 40 days old; Stripe accepts meter events up to 35 days in the past`,
      `records[2].timestamp: ${NOW + 600} is 10 minutes in the future; Stripe accepts meter events at most 5 minutes ahead (check the clock that stamped it)`,
      `records[3].timestamp: ${NOW * 1000} looks like milliseconds; pass unix seconds (Math.floor(ms / 1000))`,
      'records[4].identifier: must not be empty',
      "records[5].identifier: is 101 characters; Stripe accepts at most 100 for an identifier",
      'records[6].identifier: must be printable ASCII without spaces (it becomes part of the workflow id and Idempotency-Key)',
      'records[7].value: must be a whole number; Stripe meters accept only whole usage values (got 2.5)',
      'records[8].value: must be a whole number; Stripe meters accept only whole usage values (got NaN)',
      'records[9].value: -3 is negative; to correct usage with negative values, create the reporter with allowNegativeValues: true',
      'records[10].customerId: must be a Stripe customer id, cus_... (got "acct_1Api")',
      'records[11].eventName: must be a string (got undefined)',
    ]);
    expect(error.message).toMatch(/^11 problems in the usage records; nothing was sent:\n- records\[1\]\.timestamp: /);
    expect(calls).toEqual([]);
  });

  it("accepts the edges of Stripe's window: exactly 35 days old and 5 minutes ahead", async () => {
    const { reporter, calls } = reporterAt();
    await reporter.report([usage(0, { timestamp: NOW - 35 * DAY }), usage(1, { timestamp: NOW + 300 })]);
    expect(calls).toHaveLength(1);
    const error = await rejection(reporter.report([usage(2, { timestamp: NOW - 35 * DAY - 1 })]));
    expect(error.problems[0]).toBe(`records[0].timestamp: ${NOW - 35 * DAY - 1} is 35 days old; Stripe accepts meter events up to 35 days in the past`);
  });

  it('takes negative values (corrections) only when the reporter allows them', async () => {
    const { reporter, calls } = reporterAt({ allowNegativeValues: true });
    await reporter.report([usage(0, { value: -5 })]);
    expect(calls[0]?.options.signalArgs).toEqual([[usage(0, { value: -5 })]]);
  });

  it('refuses one identifier for two different usages, but lets an identical repeat through for the flow to drop', async () => {
    const { reporter, calls } = reporterAt();
    const error = await rejection(reporter.report([usage(0), usage(1), usage(0, { value: 2 })]));
    expect(error.problems).toEqual(['records[2].identifier: "req_0" is also records[0].identifier, with different usage; each usage needs its own identifier']);
    await reporter.report([usage(0), usage(0)]);
    expect(calls).toHaveLength(1);
  });

  it('refuses an invalid policy when the reporter is created, naming the field', () => {
    expect(() => createUsageReporter({ client: recordingClient().client, policy: { maxBatchSize: 0 } })).toThrow(
      'Invalid usage policy: maxBatchSize must be a whole number from 1 to 1000 (got 0).',
    );
  });

  it('checks cancellations the same way', async () => {
    const { reporter, calls } = reporterAt();
    const error = await rejection(reporter.cancel([{ eventName: 'api_requests', identifier: '' }]));
    expect(error.problems).toEqual(['cancellations[0].identifier: must not be empty']);
    expect(error.message).toMatch(/^1 problem in the usage cancellations; nothing was sent/);
    expect(calls).toEqual([]);
  });
});

describe('report() dispatch', () => {
  it('signals the flow of each event name with signalWithStart, in chunks, with the search attributes', async () => {
    const { reporter, calls } = reporterAt();
    const api = Array.from({ length: 1200 }, (_, i) => usage(i));
    const storage = [usage(5000, { eventName: 'storage_gb' })];
    const dispatched = await reporter.report([...api, ...storage]);
    expect(dispatched).toEqual([
      { eventName: 'api_requests', workflowId: 'billing.usage:api_requests', count: 1200 },
      { eventName: 'storage_gb', workflowId: 'billing.usage:storage_gb', count: 1 },
    ]);
    const toApi = calls.filter((c) => c.options.workflowId === 'billing.usage:api_requests');
    expect(toApi.map((c) => (c.options.signalArgs as UsageRecord[][])[0]?.length)).toEqual([500, 500, 200]);
    expect(calls[0]).toMatchObject({
      workflowType: 'reportUsage',
      options: {
        workflowId: 'billing.usage:api_requests',
        taskQueue: 'stripe-flows.billing',
        args: [{ eventName: 'api_requests' }],
        signal: { name: 'usageRecords' },
        staticSummary: 'Usage reporting for meter event api_requests',
      },
    });
    const attributes = (calls[0]?.options.typedSearchAttributes as Array<{ key: { name: string }; value: unknown }>).map((a) => [a.key.name, a.value]);
    expect(attributes).toEqual([
      ['StripeObjectId', 'api_requests'],
      ['FlowDomain', 'billing'],
      ['FlowStatus', 'running'],
    ]);
  });

  it('sends cancellations as the cancelUsage signal, by event name', async () => {
    const { reporter, calls } = reporterAt();
    await reporter.cancel([{ eventName: 'api_requests', identifier: 'req_1' }, { eventName: 'api_requests', identifier: 'req_2' }]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.options).toMatchObject({ workflowId: 'billing.usage:api_requests', signal: { name: 'cancelUsage' }, signalArgs: [['req_1', 'req_2']] });
  });
});

describe('report() on Temporal', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('reaches the usage flow, which reports the records to Stripe after the batch delay', async () => {
    const batches: MeterEventBatch[] = [];
    const activities = {
      sendMeterEvents: async (batch) => {
        batches.push(batch);
        return batch.records.map((r) => ({ identifier: r.identifier, outcome: 'reported' as const }));
      },
      cancelMeterEvent: async () => ({ status: 'pending' }),
    } satisfies UsageActivities;
    const taskQueue = 'usage-api-test';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: createRequire(import.meta.url).resolve('@stripe-flows/billing/workflows'),
      activities,
    });
    const reporter = createUsageReporter({ client: env.client, taskQueue });
    const eventName = `api_calls_${Date.now()}`;
    await worker.runUntil(async () => {
      const timestamp = Math.floor((await env.currentTimeMs()) / 1000) - 60;
      const records = [1, 2, 3].map((i) => ({ identifier: `${eventName}-${i}`, eventName, customerId: 'cus_Api1', value: i, timestamp }));
      const [dispatch] = await reporter.report(records);
      expect(dispatch?.workflowId).toBe(`billing.usage:${eventName}`);
      await env.sleep(10_000);
      for (let i = 0; i < 200 && (await reporter.state(eventName)).details.counts.sent < 3; i++) await new Promise((r) => setTimeout(r, 20));
      const state = await reporter.state(eventName);
      expect(state.details.counts).toMatchObject({ received: 3, sent: 3, buffered: 0 });
      expect(batches.flatMap((b) => b.records.map((r) => [r.identifier, r.value]))).toEqual(records.map((r) => [r.identifier, r.value]));
      const description = await env.client.workflow.getHandle(dispatch!.workflowId).describe();
      expect(description.typedSearchAttributes.get(FlowDomainKey)).toBe('billing');
      expect(description.typedSearchAttributes.get(StripeObjectIdKey)).toBe(eventName);
      await env.client.workflow.getHandle(dispatch!.workflowId).terminate('test done');
    });
  });
});
