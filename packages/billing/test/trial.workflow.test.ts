import { createRequire } from 'node:module';
// Trial ending under Temporal's time-skipping test server: the whole three days before a trial
// ends, and the outcome after it, per test. Plain-object activities answer from a subscription
// the test controls and record every read and notice with the (skipped) time it happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { stateQuery, stripeEventSignal, type FlowEvent, type FlowState, type Notification } from '@stripe-flows/core';
import { createTimeSkippingEnv, quietLogger } from '@stripe-flows/testing';
import type { PaymentMethodCheck, TrialActivities } from '../src/activities/trials.js';
import type { TrialSubscriptionSnapshot } from '../src/schemas.js';
import type { TrialDetails, TrialEndingInput, TrialEndingResult } from '../src/workflows/remind-trial-ending.js';

const HOUR = 3_600_000;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let counter = 0;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  // The flows' own entry in the built package (build billing first).
  const workflowsPath = createRequire(import.meta.url).resolve('@stripe-flows/billing/workflows');
  bundle = await bundleWorkflowCode({ workflowsPath, logger: quietLogger() });
});
afterAll(async () => {
  await env?.teardown();
});

const NO_PAYMENT_METHOD: PaymentMethodCheck = { onFile: false, via: null, attachedButNotDefault: false, customerDeleted: false };
const CUSTOMER_DEFAULT: PaymentMethodCheck = { onFile: true, via: 'customer_invoice_settings', attachedButNotDefault: false, customerDeleted: false };

/**
 * A fake Stripe + notifier. `state` is what the API answers now; `afterTrialEnd` is what it answers
 * once the (skipped) clock passes the subscription's trial end, as Stripe would have moved it.
 */
function fakeStripe(subscription: TrialSubscriptionSnapshot, paymentMethod: PaymentMethodCheck = NO_PAYMENT_METHOD) {
  const reads: number[] = [];
  const notices: Array<Notification & { at: number }> = [];
  const state = {
    subscription: { ...subscription },
    paymentMethod: { ...paymentMethod },
    afterTrialEnd: { status: 'past_due' } as Partial<TrialSubscriptionSnapshot>,
    /** Changes applied from a time on (e.g. a payment method added to the customer). */
    from: [] as Array<{ at: number; change: () => void }>,
  };
  const activities = {
    async checkTrialPaymentMethod(args) {
      const now = await env.currentTimeMs();
      reads.push(now);
      for (const { at, change } of state.from) if (now >= at) change();
      expect(args).toEqual({ subscriptionId: subscription.id });
      const ended = state.subscription.trialEnd !== null && now >= state.subscription.trialEnd * 1000;
      return { subscription: { ...state.subscription, ...(ended ? state.afterTrialEnd : {}) }, paymentMethod: { ...state.paymentMethod } };
    },
    async notify(n) {
      notices.push({ ...n, at: await env.currentTimeMs() });
    },
  } satisfies TrialActivities;
  return { activities, reads, notices, state };
}

/** A trialing subscription whose trial ends `hoursLeft` from the test server's now. */
async function trialing(hoursLeft = 72, overrides: Partial<TrialSubscriptionSnapshot> = {}): Promise<TrialSubscriptionSnapshot> {
  return {
    id: `sub_trial${++counter}`,
    status: 'trialing',
    customerId: 'cus_trial',
    collectionMethod: 'charge_automatically',
    trialEnd: Math.floor((await env.currentTimeMs()) / 1000) + hoursLeft * 3600,
    hasSubscriptionPaymentMethod: false,
    missingPaymentMethodBehavior: 'create_invoice',
    ...overrides,
  };
}

async function event(
  type: string,
  subscription: TrialSubscriptionSnapshot,
  options: { createdOffsetSeconds?: number; id?: string } = {},
): Promise<FlowEvent<TrialSubscriptionSnapshot>> {
  const created = Math.floor((await env.currentTimeMs()) / 1000) + (options.createdOffsetSeconds ?? 0);
  return { id: options.id ?? `evt_${type.replace(/\./g, '_')}_${++counter}`, type, created, livemode: false, object: subscription };
}

async function runTrial(
  fake: ReturnType<typeof fakeStripe>,
  first: FlowEvent<TrialSubscriptionSnapshot>,
  input: Partial<TrialEndingInput> = {},
  during: (handle: WorkflowHandle) => Promise<void> = async () => undefined,
): Promise<TrialEndingResult> {
  const taskQueue = `trial-test-${++counter}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart('remindTrialEnding', {
      taskQueue,
      workflowId: `billing.trial:${first.object.id}`,
      args: [{ objectId: first.object.id, ...input }],
      signal: stripeEventSignal,
      signalArgs: [first],
    });
    await during(handle);
    return (await handle.result()) as TrialEndingResult;
  });
}

/**
 * How long the flow ran, in whole hours of workflow time. (The time-skipping server may jump far
 * ahead once nothing is left to wait for, so the clock after a flow ends says nothing.)
 */
async function flowHours(subscriptionId: string): Promise<number> {
  const d = await env.client.workflow.getHandle(`billing.trial:${subscriptionId}`).describe();
  return Math.round(((d.closeTime?.getTime() ?? Number.NaN) - d.startTime.getTime()) / HOUR);
}

/** Notices as `<hours after start>h role:kind`, to read a schedule at a glance. */
const timeline = (fake: ReturnType<typeof fakeStripe>, start: number) =>
  fake.notices.map((n) => `${Math.round((n.at - start) / HOUR)}h ${n.recipient.role}:${n.kind}`);

async function waitFor(handle: WorkflowHandle, ready: (s: FlowState<string, TrialDetails>) => boolean): Promise<FlowState<string, TrialDetails>> {
  for (let i = 0; i < 200; i++) {
    const state = (await handle.query(stateQuery)) as FlowState<string, TrialDetails>;
    if (ready(state)) return state;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the flow never reached the expected state');
}

describe('trial ending (billing.trial): no payment method', () => {
  it('reminds at once, 48 h and 24 h before the end, tells the operator at 24 h, and reports the outcome after the end', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub);
    const start = await env.currentTimeMs();
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub));

    expect(result).toEqual({ subscriptionId: sub.id, outcome: 'trial_ended', subscriptionStatus: 'past_due', paymentMethodOnFile: false, remindersSent: 3, escalated: true });
    expect(timeline(fake, start)).toEqual([
      '0h customer:trial.payment_method_needed',
      '24h customer:trial.payment_method_reminder',
      '48h customer:trial.payment_method_reminder',
      '48h operator:trial.payment_method_missing',
      '74h operator:trial.ended_without_payment_method',
    ]);
    // Read before the first reminder, before each due reminder, and for the outcome.
    expect(fake.reads.map((at) => Math.round((at - start) / HOUR))).toEqual([0, 24, 48, 74]);
    // Business time really passed (time skipping), not a shortened policy.
    expect(await flowHours(sub.id)).toBe(74);
    const wf = `billing.trial:${sub.id}`;
    expect(fake.notices.map((n) => n.idempotencyKey)).toEqual([
      `${wf}:${sub.trialEnd}:initial`,
      `${wf}:${sub.trialEnd}:reminder-48h`,
      `${wf}:${sub.trialEnd}:reminder-24h`,
      `${wf}:${sub.trialEnd}:escalation`,
      `${wf}:${sub.trialEnd}:outcome`,
    ]);
    expect(fake.notices[0]).toMatchObject({
      recipient: { role: 'customer', customerId: 'cus_trial' },
      data: { subscriptionId: sub.id, trialEnd: sub.trialEnd, paymentMethodOnFile: false, missingPaymentMethodBehavior: 'create_invoice' },
    });
    expect(fake.notices[1]?.data.hoursLeft).toBe(48);
    expect(fake.notices[4]?.data.subscriptionStatus).toBe('past_due');
  });

  it('follows a custom policy schedule', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub);
    fake.state.afterTrialEnd = { status: 'canceled' };
    const start = await env.currentTimeMs();
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub), {
      policy: { reminderHoursBeforeEnd: [6], escalateHoursBeforeEnd: null, outcomeCheckHoursAfterEnd: 1, notifyOperatorOfOutcome: false },
    });
    expect(result).toMatchObject({ outcome: 'trial_ended', subscriptionStatus: 'canceled', escalated: false, remindersSent: 2 });
    expect(timeline(fake, start)).toEqual(['0h customer:trial.payment_method_needed', '66h customer:trial.payment_method_reminder']);
  });

  it('skips reminders whose time passed before the event arrived (short trial), but still escalates', async () => {
    const sub = await trialing(30);
    const fake = fakeStripe(sub);
    const start = await env.currentTimeMs();
    await runTrial(fake, await event('customer.subscription.trial_will_end', sub));
    expect(timeline(fake, start)).toEqual([
      '0h customer:trial.payment_method_needed',
      '6h customer:trial.payment_method_reminder',
      '6h operator:trial.payment_method_missing',
      '32h operator:trial.ended_without_payment_method',
    ]);
  });

  it('tells the customer when payment methods are attached but none is a default Stripe will charge', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub, { ...NO_PAYMENT_METHOD, attachedButNotDefault: true });
    await runTrial(fake, await event('customer.subscription.trial_will_end', sub), {}, async (handle) => {
      await waitFor(handle, (s) => s.details.remindersSent === 1);
      await handle.signal(stripeEventSignal, await event('customer.subscription.deleted', { ...sub, status: 'canceled' }));
    });
    expect(fake.notices[0]?.data.attachedButNotDefault).toBe(true);
  });
});

describe('trial ending (billing.trial): ends early', () => {
  it('ends at once when a payment method is on file: one "trial will end" notice, nothing scheduled', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub, CUSTOMER_DEFAULT);
    const start = await env.currentTimeMs();
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub));
    expect(result).toEqual({ subscriptionId: sub.id, outcome: 'payment_method_on_file', subscriptionStatus: 'trialing', paymentMethodOnFile: true, remindersSent: 1, escalated: false });
    expect(timeline(fake, start)).toEqual(['0h customer:trial.will_end']);
    expect(await flowHours(sub.id)).toBe(0);
  });

  it('finds a payment method added to the customer (no subscription event) when it re-reads before the next reminder', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub);
    const start = await env.currentTimeMs();
    fake.state.from.push({ at: start + 30 * HOUR, change: () => (fake.state.paymentMethod = CUSTOMER_DEFAULT) });
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub));
    expect(result).toMatchObject({ outcome: 'payment_method_on_file', remindersSent: 2, escalated: false });
    expect(timeline(fake, start)).toEqual(['0h customer:trial.payment_method_needed', '24h customer:trial.payment_method_reminder']);
  });

  it('ends when customer.subscription.updated shows a default payment method on the subscription', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub);
    const start = await env.currentTimeMs();
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub), {}, async (handle) => {
      await env.sleep(30 * HOUR);
      await handle.signal(stripeEventSignal, await event('customer.subscription.updated', { ...sub, hasSubscriptionPaymentMethod: true }));
    });
    expect(result).toMatchObject({ outcome: 'payment_method_on_file', paymentMethodOnFile: true, remindersSent: 2 });
    expect(timeline(fake, start)).toEqual(['0h customer:trial.payment_method_needed', '24h customer:trial.payment_method_reminder']);
  });

  it('ends canceled on customer.subscription.deleted during the trial, with no further notice', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub);
    const start = await env.currentTimeMs();
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub), {}, async (handle) => {
      await env.sleep(36 * HOUR);
      await handle.signal(stripeEventSignal, await event('customer.subscription.deleted', { ...sub, status: 'canceled' }));
    });
    expect(result).toMatchObject({ outcome: 'canceled', subscriptionStatus: 'canceled' });
    expect(timeline(fake, start)).toEqual(['0h customer:trial.payment_method_needed', '24h customer:trial.payment_method_reminder']);
  });

  it('reads the outcome two hours after the trial is ended early (trial_end=now) by an update', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub);
    const start = await env.currentTimeMs();
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub), {}, async (handle) => {
      await env.sleep(10 * HOUR);
      const endedNow = { ...sub, status: 'active' as const, trialEnd: Math.floor((await env.currentTimeMs()) / 1000) };
      fake.state.subscription = { ...endedNow, status: 'past_due' };
      await handle.signal(stripeEventSignal, await event('customer.subscription.updated', endedNow));
    });
    expect(result).toMatchObject({ outcome: 'trial_ended', subscriptionStatus: 'past_due' });
    expect(timeline(fake, start)).toEqual(['0h customer:trial.payment_method_needed', '12h operator:trial.ended_without_payment_method']);
  });

  it('sends no payment reminder for a subscription that sends invoices', async () => {
    const sub = await trialing(72, { collectionMethod: 'send_invoice' });
    const fake = fakeStripe(sub);
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub));
    expect(result.outcome).toBe('no_payment_method_needed');
    expect(fake.notices.map((n) => n.kind)).toEqual(['trial.will_end']);
  });

  it('sends no reminder when trial_will_end arrives after the trial already ended, and reports the outcome', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe({ ...sub, status: 'active', trialEnd: sub.trialEnd }, CUSTOMER_DEFAULT);
    fake.state.subscription = { ...sub, status: 'active', trialEnd: (sub.trialEnd ?? 0) - 73 * 3600 }; // ended an hour ago
    fake.state.afterTrialEnd = { status: 'active' };
    const start = await env.currentTimeMs();
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub, { createdOffsetSeconds: -72 * 3600 }));
    expect(result).toMatchObject({ outcome: 'trial_ended', subscriptionStatus: 'active', remindersSent: 0 });
    expect(fake.notices).toEqual([]); // a payment method was on file: nothing for the operator either
    expect(fake.reads.map((at) => Math.round((at - start) / HOUR))).toEqual([0, 1]); // outcome read 2 h after the end
    expect(await flowHours(sub.id)).toBe(1);
  });

  it('reports a trial that Stripe ended by canceling it (end behavior cancel) as ended, not canceled', async () => {
    const sub = await trialing(72, { missingPaymentMethodBehavior: 'cancel' });
    const fake = fakeStripe(sub);
    fake.state.afterTrialEnd = { status: 'canceled' };
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub), {}, async (handle) => {
      await env.sleep(72 * HOUR + 60_000);
      await handle.signal(stripeEventSignal, await event('customer.subscription.deleted', { ...sub, status: 'canceled' }));
    });
    expect(result).toMatchObject({ outcome: 'trial_ended', subscriptionStatus: 'canceled' });
    expect(fake.notices.at(-1)).toMatchObject({ kind: 'trial.ended_without_payment_method', data: { subscriptionStatus: 'canceled', missingPaymentMethodBehavior: 'cancel' } });
  });
});

describe('trial ending (billing.trial): duplicates and order', () => {
  it('sends the first reminder once for a redelivered trial_will_end, or another one for the same trial end', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub);
    const first = await event('customer.subscription.trial_will_end', sub);
    let state: FlowState<string, TrialDetails> | undefined;
    await runTrial(fake, first, {}, async (handle) => {
      await handle.signal(stripeEventSignal, first);
      await handle.signal(stripeEventSignal, first);
      await handle.signal(stripeEventSignal, await event('customer.subscription.trial_will_end', sub, { createdOffsetSeconds: 1 }));
      // Wait until every delivery is counted and the flow is back to waiting (not mid-reminder).
      state = await waitFor(handle, (s) => s.events.applied + s.events.duplicates === 4 && s.step === 'waiting_for_payment_method');
      await handle.signal(stripeEventSignal, await event('customer.subscription.deleted', { ...sub, status: 'canceled' }, { createdOffsetSeconds: 2 }));
    });
    expect(fake.notices.map((n) => n.kind)).toEqual(['trial.payment_method_needed']);
    expect(state?.events).toMatchObject({ applied: 2, duplicates: 2, stale: 0 });
    expect(state).toMatchObject({ step: 'waiting_for_payment_method', next: { action: 'remind customer (48 h before trial end)' } });
  });

  it('never moves back to an older trial end: follows the extension, drops the late older events', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub, NO_PAYMENT_METHOD);
    fake.state.afterTrialEnd = { status: 'active' };
    const start = await env.currentTimeMs();
    const extended = { ...sub, trialEnd: (sub.trialEnd ?? 0) + 7 * 24 * 3600 };
    let state: FlowState<string, TrialDetails> | undefined;
    const result = await runTrial(fake, await event('customer.subscription.trial_will_end', sub), {}, async (handle) => {
      await waitFor(handle, (s) => s.details.remindersSent === 1);
      fake.state.subscription = extended; // the API shows the extension too
      await handle.signal(stripeEventSignal, await event('customer.subscription.updated', extended, { createdOffsetSeconds: 100 }));
      await waitFor(handle, (s) => s.events.applied === 2);
      // Arriving late: an older update with the old trial end, and the original trial_will_end again.
      await handle.signal(stripeEventSignal, await event('customer.subscription.updated', { ...sub, missingPaymentMethodBehavior: 'pause' }, { createdOffsetSeconds: 50 }));
      await handle.signal(stripeEventSignal, await event('customer.subscription.trial_will_end', sub, { createdOffsetSeconds: -5 }));
      state = await waitFor(handle, (s) => s.events.stale === 2);
    });
    expect(state?.details.trialEnd).toBe(new Date((extended.trialEnd ?? 0) * 1000).toISOString());
    expect(state?.details.missingPaymentMethodBehavior).toBe('create_invoice');
    // Nothing at the old 48/24 h marks (24 h, 48 h); reminders follow the new end, 7 days later.
    expect(timeline(fake, start)).toEqual([
      '0h customer:trial.payment_method_needed',
      '192h customer:trial.payment_method_reminder',
      '216h customer:trial.payment_method_reminder',
      '216h operator:trial.payment_method_missing',
      '242h operator:trial.ended_without_payment_method',
    ]);
    expect(result).toMatchObject({ outcome: 'trial_ended', subscriptionStatus: 'active' });
  });

  it('keeps its fresher API read over an event created before that read', async () => {
    const sub = await trialing(72);
    const fake = fakeStripe(sub);
    let state: FlowState<string, TrialDetails> | undefined;
    // trial_will_end delivered two hours late; the flow reads the subscription when it starts.
    const late = await event('customer.subscription.trial_will_end', sub, { createdOffsetSeconds: -2 * 3600 });
    const result = await runTrial(fake, late, {}, async (handle) => {
      await waitFor(handle, (s) => s.details.remindersSent === 1);
      // Newer than trial_will_end, older than the read: it says the trial is over, the read says not.
      await handle.signal(stripeEventSignal, await event('customer.subscription.updated', { ...sub, status: 'active' }, { createdOffsetSeconds: -3600 }));
      state = await waitFor(handle, (s) => s.events.applied === 2);
      await handle.signal(stripeEventSignal, await event('customer.subscription.deleted', { ...sub, status: 'canceled' }, { createdOffsetSeconds: 60 }));
    });
    expect(state).toMatchObject({ step: 'waiting_for_payment_method', details: { subscriptionStatus: 'trialing' } });
    expect(state?.done.map((d) => d.action)).toContain('snapshot older than the last read: kept the read');
    expect(result.outcome).toBe('canceled');
  });

});

describe('trial ending (billing.trial): policy', () => {
  it('rejects an invalid policy with a message naming the field', async () => {
    const sub = await trialing(72);
    const error = await runTrial(fakeStripe(sub), await event('customer.subscription.trial_will_end', sub), {
      policy: { reminderHoursBeforeEnd: [48, -1], outcomeCheckHoursAfterEnd: 0 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const message = String((error as WorkflowFailedError).cause?.message);
    expect(message).toContain('reminderHoursBeforeEnd[1] must be a number of hours > 0');
    expect(message).toContain('outcomeCheckHoursAfterEnd must be >= 1');
  });
});
