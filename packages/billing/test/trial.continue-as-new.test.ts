import { createRequire } from 'node:module';
// Continue-as-new keeps a chatty trial flow's history small without losing anything: dedup memory,
// the reminder schedule, counts and the subscription travel to the next run. Runs on the real
// Temporal dev server (the time-skipping test server mishandles continue-as-new), so it spans
// seconds of real time, not days.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { stateQuery, stripeEventSignal, type FlowEvent, type FlowState, type Notification } from '@stripe-flows/core';
import { createDevServerEnv } from '@stripe-flows/testing';
import type { TrialActivities } from '../src/activities/trials.js';
import type { TrialSubscriptionSnapshot } from '../src/schemas.js';
import type { TrialDetails, TrialEndingResult } from '../src/workflows/remind-trial-ending.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

it('continues as new after maxEventsPerRun events and carries dedup memory, schedule and counts', async () => {
  const now = Math.floor(Date.now() / 1000);
  const subscription: TrialSubscriptionSnapshot = {
    id: `sub_can${Date.now()}`,
    status: 'trialing',
    customerId: 'cus_can',
    collectionMethod: 'charge_automatically',
    trialEnd: now + 72 * 3600,
    hasSubscriptionPaymentMethod: false,
    missingPaymentMethodBehavior: 'pause',
  };
  const notices: Notification[] = [];
  const activities = {
    checkTrialPaymentMethod: async () => ({
      subscription,
      paymentMethod: { onFile: false, via: null, attachedButNotDefault: false, customerDeleted: false },
    }),
    notify: async (n) => void notices.push(n),
  } satisfies TrialActivities;
  const event = (i: number, type = 'customer.subscription.updated', object = subscription): FlowEvent => ({
    id: `evt_trial_can_${i}`, type, created: now + i, livemode: false, object,
  });
  const workflowsPath = createRequire(import.meta.url).resolve('@stripe-flows/billing/workflows');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'trial-can', workflowsPath, activities });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart('remindTrialEnding', {
      taskQueue: 'trial-can',
      workflowId: `billing.trial:${subscription.id}`,
      args: [{ objectId: subscription.id, policy: { maxEventsPerRun: 10 } }],
      signal: stripeEventSignal,
      signalArgs: [event(0, 'customer.subscription.trial_will_end')],
    });
    // The first reminder goes out first; the burst of updates comes after.
    for (let i = 0; i < 100 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 1; i <= 12; i++) await handle.signal(stripeEventSignal, event(i));
    await handle.signal(stripeEventSignal, event(0, 'customer.subscription.trial_will_end')); // seen by the first run
    let state = (await handle.query(stateQuery)) as FlowState<string, TrialDetails>;
    for (let i = 0; i < 50 && state.events.applied + state.events.duplicates < 14; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await handle.query(stateQuery)) as FlowState<string, TrialDetails>;
    }
    const current = await env.client.workflow.getHandle(handle.workflowId).describe();
    expect(current.runId).not.toBe(handle.signaledRunId);
    expect(state.events).toMatchObject({ applied: 13, duplicates: 1, stale: 0 });
    expect(state.done.some((d) => d.action === 'event customer.subscription.updated' && d.detail === 'evt_trial_can_1')).toBe(true);
    // The schedule went on in the new run: next is the 48 h reminder, not another first reminder.
    expect(state.next?.action).toBe('remind customer (48 h before trial end)');
    expect(state.details).toMatchObject({ remindersSent: 1, missingPaymentMethodBehavior: 'pause' });

    await handle.signal(stripeEventSignal, event(20, 'customer.subscription.deleted', { ...subscription, status: 'canceled' }));
    const result = (await env.client.workflow.getHandle(handle.workflowId).result()) as TrialEndingResult;
    expect(result).toEqual({ subscriptionId: subscription.id, outcome: 'canceled', subscriptionStatus: 'canceled', paymentMethodOnFile: false, remindersSent: 1, escalated: false });
    // The first reminder went out once, in the first run; the next run did not repeat it.
    expect(notices.map((n) => n.kind)).toEqual(['trial.payment_method_needed']);
  });
});
