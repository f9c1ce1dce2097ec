// A chatty account (capabilities flapping) keeps a small history: onboarding continues as new
// after maxEventsPerRun events, carrying dedup memory, counts, the reminder schedule and the
// account. Runs on the Temporal dev server (the time-skipping test server mishandles
// continue-as-new under a burst of signals).
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { stateQuery, stripeEventSignal, type FlowEvent, type FlowState, type Notification } from '@stripe-flows/core';
import { createDevServerEnv } from '@stripe-flows/testing';
import type { AccountSnapshot, CapabilitySnapshot, OnboardingActivities, OnboardingDetails, OnboardingResult } from '../src/index.js';

const require = createRequire(import.meta.url);
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

it('continues as new after maxEventsPerRun events and carries dedup memory, reminders and the account', async () => {
  const id = `acct_can${Date.now()}`;
  // Event times as Stripe stamps them: a snapshot older than the flow's last read is not applied.
  const t0 = Math.floor(Date.now() / 1000);
  const requirements = { currentlyDue: ['external_account'], eventuallyDue: ['external_account'], pastDue: [], pendingVerification: [], currentDeadline: null, disabledReason: null, errors: [] };
  const due: AccountSnapshot = { id, chargesEnabled: false, payoutsEnabled: false, detailsSubmitted: true, requirements };
  const state = { account: due };
  const notices: Notification[] = [];
  const activities = {
    retrieveAccount: async () => state.account,
    sendOnboardingLink: async (notice) => {
      notices.push(notice.notification);
      return { linkExpiresAt: null };
    },
    notify: async (n) => void notices.push(n),
  } satisfies OnboardingActivities;
  const capability = (i: number): FlowEvent<CapabilitySnapshot> => ({
    id: `evt_cap_${i}`, type: 'capability.updated', created: t0 + i, livemode: false, account: id,
    object: { id: i % 2 ? 'card_payments' : 'transfers', accountId: id, status: i % 3 ? 'pending' : 'inactive', requirements },
  });
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'onboarding-can', workflowsPath: require.resolve('@stripe-flows/connect/workflows'), activities });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart('onboardConnectedAccount', {
      taskQueue: 'onboarding-can',
      workflowId: `connect.onboarding:${id}`,
      args: [{ objectId: id, policy: { maxEventsPerRun: 10 } }],
      signal: stripeEventSignal,
      signalArgs: [{ id: 'evt_acct_0', type: 'account.updated', created: t0, livemode: false, account: id, object: due }],
    });
    // The day-0 reminder goes out first; the burst comes after.
    for (let i = 0; i < 100 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 1; i <= 12; i++) await handle.signal(stripeEventSignal, capability(i));
    await handle.signal(stripeEventSignal, capability(3)); // redelivery of an event the first run saw
    // The run ends in continue-as-new once its events are applied; the next settles on its next reminder.
    const latest = env.client.workflow.getHandle(handle.workflowId);
    let flow = (await latest.query(stateQuery)) as FlowState<string, OnboardingDetails>;
    for (let i = 0; i < 100 && ((await latest.describe()).runId === handle.signaledRunId || flow.events.applied + flow.events.duplicates < 14 || flow.step !== 'waiting_for_account'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      flow = (await latest.query(stateQuery)) as FlowState<string, OnboardingDetails>;
    }
    expect((await latest.describe()).runId).not.toBe(handle.signaledRunId);
    expect(flow.events).toMatchObject({ applied: 13, duplicates: 1, stale: 0 });
    expect(flow.details).toMatchObject({ remindersSent: 1, currentlyDue: ['external_account'], capabilities: { card_payments: 'pending', transfers: 'inactive' } });
    expect(flow.done.some((d) => d.action === 'event capability.updated' && d.detail === 'evt_cap_1')).toBe(true);
    expect(Date.parse(flow.next?.at ?? '')).toBeGreaterThan(Date.now() + 1.9 * 86_400_000); // the day-2 reminder, not a repeat of day 0

    state.account = { ...due, chargesEnabled: true, payoutsEnabled: true, requirements: { ...requirements, currentlyDue: [], eventuallyDue: [] } };
    await handle.signal(stripeEventSignal, { id: 'evt_acct_done', type: 'account.updated', created: t0 + 100, livemode: false, account: id, object: state.account });
    const result = (await env.client.workflow.getHandle(handle.workflowId).result()) as OnboardingResult;
    expect(result).toEqual({ accountId: id, outcome: 'onboarded', remindersSent: 1, escalationsSent: 0 });
    expect(notices.map((n) => n.kind)).toEqual(['connect.onboarding.requirements_due', 'connect.onboarding.completed']);
  });
});
