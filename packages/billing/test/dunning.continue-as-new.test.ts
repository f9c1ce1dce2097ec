// Continue-as-new keeps a chatty flow's history small without losing anything: dedup memory,
// reminder schedule, counts and the invoice travel to the next run. Runs on the real Temporal
// dev server (the time-skipping test server mishandles continue-as-new under a burst of signals).
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { stateQuery, stripeEventSignal, type FlowEvent, type FlowState, type Notification } from '@stripe-flows/core';
import { createDevServerEnv } from '@stripe-flows/testing';
import type { DunningActivities, DunningResult, InvoiceSnapshot } from '../src/index.js';

const require = createRequire(import.meta.url);
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

it('continues as new after maxEventsPerRun events and carries dedup memory and counts', async () => {
  const invoice: InvoiceSnapshot = {
    id: `in_can${Date.now()}`, status: 'open', customerId: 'cus_can', subscriptionId: null, collectionMethod: 'charge_automatically',
    attemptCount: 1, nextPaymentAttempt: null, amountDue: 900, amountRemaining: 900, currency: 'eur', hostedInvoiceUrl: null,
  };
  const notices: Notification[] = [];
  const activities = {
    retrieveInvoice: async () => invoice,
    notify: async (n) => void notices.push(n),
    markInvoiceUncollectible: async () => invoice,
    voidInvoice: async () => invoice,
    cancelSubscription: async () => ({ id: 'sub_x', status: 'canceled' as const }),
  } satisfies DunningActivities;
  const event = (i: number, type = 'invoice.payment_failed', status: InvoiceSnapshot['status'] = 'open'): FlowEvent => ({
    id: `evt_can_${i}`, type, created: 1_700_000_000 + i, livemode: false, object: { ...invoice, status, attemptCount: 1 + i },
  });
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'dunning-can', workflowsPath: require.resolve('@stripe-flows/billing/workflows'), activities });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart('collectInvoicePayment', {
      taskQueue: 'dunning-can',
      workflowId: `billing.dunning:${invoice.id}`,
      args: [{ objectId: invoice.id, policy: { maxEventsPerRun: 10 } }],
      signal: stripeEventSignal,
      signalArgs: [event(0)],
    });
    // The day-0 notice goes out first; the burst of retries comes after.
    for (let i = 0; i < 100 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 1; i <= 12; i++) await handle.signal(stripeEventSignal, event(i));
    await handle.signal(stripeEventSignal, event(3)); // redelivery of an event the first run saw
    let state = (await handle.query(stateQuery)) as FlowState;
    for (let i = 0; i < 50 && state.events.applied + state.events.duplicates < 14; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await handle.query(stateQuery)) as FlowState;
    }
    const current = await env.client.workflow.getHandle(handle.workflowId).describe();
    expect(current.runId).not.toBe(handle.signaledRunId);
    // One continuation, not a chain: the new run counts its own events, not the carried totals.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await env.client.workflow.getHandle(handle.workflowId).describe()).runId).toBe(current.runId);
    expect(state.events).toMatchObject({ applied: 13, duplicates: 1, stale: 0 });
    expect(state.done.some((d) => d.action === 'event invoice.payment_failed' && d.detail === 'evt_can_1')).toBe(true);

    await handle.signal(stripeEventSignal, event(20, 'invoice.paid', 'paid'));
    const result = (await env.client.workflow.getHandle(handle.workflowId).result()) as DunningResult;
    expect(result).toEqual({ invoiceId: invoice.id, outcome: 'recovered', remindersSent: 1 });
    // The day-0 notice went out once, in the first run; the next run did not repeat it.
    expect(notices.map((n) => n.kind)).toEqual(['dunning.payment_failed']);
  });
});
