import { createRequire } from 'node:module';
// Usage alerts under Temporal's time-skipping test server, with plain-object activities that
// record what the flow asked Stripe and the notifier to do. The last cases go through the real
// dispatcher, so redelivery, reordering and later triggers are exercised by the workflow ids the
// routes make.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  Dispatcher,
  RouteRegistry,
  stateQuery,
  StripeCustomerIdKey,
  stripeEventEnvelopeSchema,
  stripeEventSignal,
  StripeObjectIdKey,
  type FlowEvent,
  type FlowState,
  type Notification,
} from '@stripe-flows/core';
import { buildEvent, createTimeSkippingEnv, stripeObject, quietLogger } from '@stripe-flows/testing';
import type { UsageAlertActivities } from '../src/activities/alerts.js';
import { alertsTrialsRoutes } from '../src/routes.js';
import type { MeteredSubscription, UsageAlertTrigger } from '../src/schemas.js';
import type { UsageAlertInput, UsageAlertResult } from '../src/workflows/handle-usage-alert.js';

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

/** A fake Stripe + notifier: subscriptions the test controls, every call recorded. */
function fakeStripe(subscriptions: MeteredSubscription[] = []) {
  const calls: Array<{ name: string; args: unknown }> = [];
  const notices: Notification[] = [];
  const state = {
    subscriptions: structuredClone(subscriptions),
    /** Makes applyUsageLimit refuse a subscription (Stripe 4xx), optionally changing state first. */
    refuse: new Map<string, () => void>(),
    /** Resolves when the test lets notifications through (to hold the flow open). */
    gate: Promise.resolve(),
  };
  const activities = {
    async listCustomerSubscriptionsForUsage(args) {
      calls.push({ name: 'listCustomerSubscriptionsForUsage', args });
      return structuredClone(state.subscriptions);
    },
    async applyUsageLimit(args) {
      calls.push({ name: 'applyUsageLimit', args });
      const refusal = state.refuse.get(args.subscriptionId);
      if (refusal) {
        refusal();
        throw ApplicationFailure.nonRetryable(`Stripe rejected POST /v1/subscriptions/${args.subscriptionId} (HTTP 400)`, 'stripe.invalid_request');
      }
      const sub = state.subscriptions.find((s) => s.id === args.subscriptionId);
      if (!sub) throw ApplicationFailure.nonRetryable(`No such subscription: ${args.subscriptionId}`, 'stripe.resource_missing');
      if (args.action === 'cancel_at_period_end') sub.cancelAtPeriodEnd = true;
      else sub.pauseCollectionBehavior = args.behavior;
      return structuredClone(sub);
    },
    async notify(n) {
      await state.gate;
      notices.push(n);
    },
  } satisfies UsageAlertActivities;
  return { activities, calls, notices, state };
}

function subscription(overrides: Partial<MeteredSubscription> = {}): MeteredSubscription {
  return { id: `sub_${++counter}`, status: 'active', cancelAtPeriodEnd: false, pauseCollectionBehavior: null, meterIds: ['mtr_calls'], itemsTruncated: false, ...overrides };
}

const nowSeconds = async () => Math.floor((await env.currentTimeMs()) / 1000);

function trigger(overrides: Partial<UsageAlertTrigger> = {}): UsageAlertTrigger {
  return {
    alertId: `alrt_${++counter}`,
    alertTitle: 'API calls over plan',
    alertType: 'usage_threshold',
    meterId: 'mtr_calls',
    threshold: 10_000,
    recurrence: 'one_time',
    customerId: 'cus_acme',
    value: 10_250,
    triggeredAt: 0,
    ...overrides,
  };
}

function event(t: UsageAlertTrigger, id = `evt_alert_${++counter}`): FlowEvent<UsageAlertTrigger> {
  return { id, type: 'billing.alert.triggered', created: t.triggeredAt, livemode: false, object: t };
}

const workflowIdOf = (t: UsageAlertTrigger) => `billing.alert:${t.alertId}:${t.customerId}:${t.triggeredAt}`;

async function runAlert(
  fake: ReturnType<typeof fakeStripe>,
  first: FlowEvent<UsageAlertTrigger> | undefined,
  input: Partial<UsageAlertInput> = {},
  during: (handle: WorkflowHandle) => Promise<void> = async () => undefined,
): Promise<{ result: UsageAlertResult; handle: WorkflowHandle }> {
  const taskQueue = `usage-alert-test-${++counter}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities });
  const workflowId = first ? workflowIdOf(first.object) : `billing.alert:manual-${counter}`;
  return worker.runUntil(async () => {
    const options = { taskQueue, workflowId, args: [{ objectId: workflowId.slice('billing.alert:'.length), ...input }], workflowIdReusePolicy: 'REJECT_DUPLICATE' as const };
    const handle = first
      ? await env.client.workflow.signalWithStart('handleUsageAlert', { ...options, signal: stripeEventSignal, signalArgs: [first] })
      : await env.client.workflow.start('handleUsageAlert', options);
    await during(handle);
    return { result: (await handle.result()) as UsageAlertResult, handle };
  });
}

describe('usage alert (billing.alert): notify', () => {
  it('tells the customer and the operator with alert, meter, threshold and value, and touches no subscription', async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const fake = fakeStripe([subscription()]);
    const { result, handle } = await runAlert(fake, event(t));
    expect(result).toEqual({ alertId: t.alertId, customerId: 'cus_acme', outcome: 'notified', notified: ['customer', 'operator'], limitAction: 'none', subscriptions: [] });
    expect(fake.notices.map((n) => `${n.recipient.role}:${n.kind}`)).toEqual(['customer:usage_alert.triggered', 'operator:usage_alert.triggered']);
    expect(fake.notices[0]).toMatchObject({
      recipient: { role: 'customer', customerId: 'cus_acme' },
      workflowId: workflowIdOf(t),
      idempotencyKey: `${workflowIdOf(t)}:customer-notice`,
      data: { alertId: t.alertId, alertTitle: 'API calls over plan', meterId: 'mtr_calls', threshold: 10_000, value: 10_250, triggeredAt: t.triggeredAt },
    });
    expect(fake.calls).toEqual([]);
    // Found in Temporal UI by the alert's own id and the customer's, though the workflow id is per trigger.
    const attributes = (await handle.describe()).typedSearchAttributes;
    expect([attributes.get(StripeObjectIdKey), attributes.get(StripeCustomerIdKey)]).toEqual([t.alertId, 'cus_acme']);
  });

  it('notifies only whom the policy names', async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const fake = fakeStripe();
    const { result } = await runAlert(fake, event(t), { policy: { notifyCustomer: false } });
    expect(result.notified).toEqual(['operator']);
    expect(fake.notices.map((n) => n.recipient.role)).toEqual(['operator']);
  });

  it('handles a trigger once when Stripe delivers it twice, or again under another event id, while the flow runs', async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const fake = fakeStripe();
    let release: () => void = () => undefined;
    fake.state.gate = new Promise<void>((resolve) => (release = resolve));
    const first = event(t);
    let state: FlowState | undefined;
    await runAlert(fake, first, {}, async (handle) => {
      await handle.signal(stripeEventSignal, first); // redelivery
      await handle.signal(stripeEventSignal, event(t)); // same trigger, another event id
      await handle.signal(stripeEventSignal, first);
      state = await handle.query(stateQuery);
      release();
    });
    expect(fake.notices.map((n) => n.kind)).toEqual(['usage_alert.triggered', 'usage_alert.triggered']);
    expect(state?.events).toMatchObject({ applied: 1, duplicates: 2 });
  });

  it('reports a trigger older than maxTriggerAgeHours to the operator only, and never acts on it', async () => {
    const t = trigger({ triggeredAt: (await nowSeconds()) - 30 * 3600 });
    const fake = fakeStripe([subscription()]);
    const { result } = await runAlert(fake, event(t), { policy: { limitAction: 'cancel_at_period_end' } });
    expect(result.outcome).toBe('reported_late');
    expect(fake.notices.map((n) => `${n.recipient.role}:${n.kind}`)).toEqual(['operator:usage_alert.triggered_late']);
    expect(fake.notices[0]?.data.ageHours).toBe(30);
    expect(fake.calls).toEqual([]);
  });
});

describe('usage alert (billing.alert): limit action', () => {
  it('re-reads the subscriptions, then sets cancel_at_period_end on each live one billing the meter, once each', async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const billing = subscription();
    const pastDue = subscription({ status: 'past_due' });
    const other = subscription({ meterIds: ['mtr_storage'] });
    const already = subscription({ cancelAtPeriodEnd: true });
    const ended = subscription({ status: 'canceled' });
    const big = subscription({ meterIds: [], itemsTruncated: true });
    const fake = fakeStripe([billing, pastDue, other, already, ended, big]);
    const { result } = await runAlert(fake, event(t), { policy: { limitAction: 'cancel_at_period_end' } });
    const wf = workflowIdOf(t);

    expect(result.outcome).toBe('limited');
    expect(result.subscriptions).toEqual([
      { subscriptionId: billing.id, result: 'applied' },
      { subscriptionId: pastDue.id, result: 'applied' },
      { subscriptionId: already.id, result: 'already_applied', detail: 'already cancels at period end' },
    ]);
    expect(fake.calls.map((c) => c.name)).toEqual(['listCustomerSubscriptionsForUsage', 'applyUsageLimit', 'applyUsageLimit']);
    expect(fake.calls.slice(1).map((c) => c.args)).toEqual([
      { subscriptionId: billing.id, idempotencyKey: `${wf}:limit:cancel_at_period_end:${billing.id}`, action: 'cancel_at_period_end' },
      { subscriptionId: pastDue.id, idempotencyKey: `${wf}:limit:cancel_at_period_end:${pastDue.id}`, action: 'cancel_at_period_end' },
    ]);
    // Customer and operator told of the trigger first; the operator then hears what was done.
    expect(fake.notices.map((n) => `${n.recipient.role}:${n.kind}`)).toEqual([
      'customer:usage_alert.triggered',
      'operator:usage_alert.triggered',
      'operator:usage_alert.limit_action.cancel_at_period_end',
    ]);
    expect(fake.notices[2]?.data).toMatchObject({
      action: 'cancel_at_period_end',
      applied: `${billing.id},${pastDue.id}`,
      alreadyApplied: already.id,
      failed: '',
      notChecked: big.id,
    });
  });

  it("pauses collection with the policy's behavior and leaves a pause someone already set", async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const live = subscription();
    const paused = subscription({ pauseCollectionBehavior: 'void' });
    const fake = fakeStripe([live, paused]);
    const { result } = await runAlert(fake, event(t), { policy: { limitAction: 'pause_collection', pauseCollectionBehavior: 'mark_uncollectible', notifyOperator: false } });
    expect(result.subscriptions.map((s) => s.result)).toEqual(['applied', 'already_applied']);
    expect(fake.calls.filter((c) => c.name === 'applyUsageLimit').map((c) => c.args)).toEqual([
      { subscriptionId: live.id, idempotencyKey: `${workflowIdOf(t)}:limit:pause_collection:${live.id}`, action: 'pause_collection', behavior: 'mark_uncollectible' },
    ]);
    expect(fake.state.subscriptions.map((s) => s.pauseCollectionBehavior)).toEqual(['mark_uncollectible', 'void']);
    // notifyOperator=false silences the trigger notice, never the report of an action taken.
    expect(fake.notices.map((n) => `${n.recipient.role}:${n.kind}`)).toEqual(['customer:usage_alert.triggered', 'operator:usage_alert.limit_action.pause_collection']);
  });

  it('only acts for the alerts the policy names; others just notify', async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const fake = fakeStripe([subscription()]);
    const { result } = await runAlert(fake, event(t), { policy: { limitAction: 'cancel_at_period_end', limitActionAlertIds: ['alrt_hard_limit'] } });
    expect(result.outcome).toBe('notified');
    expect(fake.calls).toEqual([]);
  });

  it('ends nothing_to_limit, and says so to the operator, when no live subscription bills the meter', async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const fake = fakeStripe([subscription({ meterIds: ['mtr_storage'] })]);
    const { result } = await runAlert(fake, event(t), { policy: { limitAction: 'cancel_at_period_end' } });
    expect(result.outcome).toBe('nothing_to_limit');
    expect(fake.calls.map((c) => c.name)).toEqual(['listCustomerSubscriptionsForUsage']);
    expect(fake.notices.at(-1)).toMatchObject({ kind: 'usage_alert.limit_action.cancel_at_period_end', data: { applied: '' } });
  });

  it('counts a subscription that ended between the read and the write as ended, not as a failure', async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const ending = subscription();
    const fake = fakeStripe([ending]);
    fake.state.refuse.set(ending.id, () => {
      fake.state.subscriptions = [{ ...ending, status: 'canceled' }];
    });
    const { result } = await runAlert(fake, event(t), { policy: { limitAction: 'cancel_at_period_end' } });
    expect(result).toMatchObject({ outcome: 'nothing_to_limit', subscriptions: [{ subscriptionId: ending.id, result: 'ended_meanwhile' }] });
    expect(fake.calls.map((c) => c.name)).toEqual(['listCustomerSubscriptionsForUsage', 'applyUsageLimit', 'listCustomerSubscriptionsForUsage']);
  });

  it('fails visibly, after telling the operator, when Stripe refuses a write it cannot explain', async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const refused = subscription();
    const fake = fakeStripe([refused, subscription()]);
    fake.state.refuse.set(refused.id, () => undefined);
    const error = await runAlert(fake, event(t), { policy: { limitAction: 'cancel_at_period_end' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('UsageLimitActionFailed');
    expect(cause.message).toContain(`Usage limit action cancel_at_period_end failed for customer cus_acme on ${refused.id}`);
    expect(fake.notices.at(-1)?.data).toMatchObject({ failed: refused.id });
    // The other subscription was still limited.
    expect(fake.state.subscriptions.map((s) => s.cancelAtPeriodEnd)).toEqual([false, true]);
  });
});

describe('usage alert (billing.alert): start and policy errors', () => {
  it('rejects an invalid policy with a message naming the field', async () => {
    const t = trigger({ triggeredAt: await nowSeconds() });
    const error = await runAlert(fakeStripe(), event(t), { policy: { limitAction: 'delete_customer' as never } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toContain('limitAction must be one of none, cancel_at_period_end, pause_collection');
  });

  it('fails with instructions when started without its billing.alert.triggered event, after waiting a minute for it', async () => {
    const error = await runAlert(fakeStripe(), undefined).catch((e: unknown) => e);
    expect(((error as WorkflowFailedError).cause as ApplicationFailure).type).toBe('MissingTrigger');
    expect(String((error as WorkflowFailedError).cause?.message)).toContain('Start this flow through the dispatcher');
    const d = await env.client.workflow.getHandle(`billing.alert:manual-${counter}`).describe(); // the id runAlert gave it
    expect((d.closeTime?.getTime() ?? 0) - d.startTime.getTime()).toBeGreaterThanOrEqual(60_000);
  });
});

describe('usage alert (billing.alert) through the dispatcher', () => {
  it('drops a redelivery after the flow ended, starts a new flow for a later trigger, and reports a late older one', async () => {
    const fake = fakeStripe();
    const dispatcher = new Dispatcher({ client: env.client, registry: new RouteRegistry([{ name: 'billing', routes: alertsTrialsRoutes() }]), deadlineMs: 10_000 });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'stripe-flows.billing', workflowBundle: bundle, activities: fake.activities });
    const alertId = `alrt_${++counter}Dispatch`;
    const envelope = (id: string, created: number) =>
      stripeEventEnvelopeSchema.parse(
        buildEvent('billing.alert.triggered', {
          id,
          created,
          object: {
            ...stripeObject('billing.alert_triggered'),
            alert: { ...stripeObject('billing.alert'), id: alertId, usage_threshold: { filters: null, gte: 10_000, meter: 'mtr_calls', recurrence: 'one_time' } },
            customer: 'cus_acme',
            value: 10_250,
            created,
          },
        }),
      );
    const now = await nowSeconds();
    const newer = envelope('evt_1Newer', now);
    const olderArrivingLate = envelope('evt_1Older', now - 30 * 3600);

    const results = await worker.runUntil(async () => {
      const handled = async (e: ReturnType<typeof envelope>) => {
        const [outcome] = await dispatcher.dispatch(e);
        if (outcome?.result === 'delivered') await env.client.workflow.getHandle(outcome.workflowId).result();
        return outcome;
      };
      return [await handled(newer), await handled(newer), await handled(olderArrivingLate)];
    });

    const newerId = `billing.alert:${alertId}:cus_acme:${now}`;
    const olderId = `billing.alert:${alertId}:cus_acme:${now - 30 * 3600}`;
    expect(results).toEqual([
      { route: 'billing.alert', workflowId: newerId, result: 'delivered' },
      { route: 'billing.alert', workflowId: newerId, result: 'ignored', reason: 'flow for this object already ended' },
      { route: 'billing.alert', workflowId: olderId, result: 'delivered' },
    ]);
    // The newer trigger was handled once; the older one, delivered after it, went to the operator only.
    expect(fake.notices.map((n) => `${n.workflowId}|${n.recipient.role}:${n.kind}`)).toEqual([
      `${newerId}|customer:usage_alert.triggered`,
      `${newerId}|operator:usage_alert.triggered`,
      `${olderId}|operator:usage_alert.triggered_late`,
    ]);
  });
});
