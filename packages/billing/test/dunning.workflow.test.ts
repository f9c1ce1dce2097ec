// Dunning under Temporal's time-skipping test server: weeks of business time per test, with
// plain-object activities that record what the flow asked Stripe and the notifier to do.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { stateQuery, stripeEventSignal, type FlowEvent, type Notification } from '@stripe-flows/core';
import { createTimeSkippingEnv, quietLogger } from '@stripe-flows/testing';
import type { DunningActivities, InvoiceSnapshot } from '../src/index.js';
import type { DunningInput, DunningResult } from '../src/index.js';

const require = createRequire(import.meta.url);
const DAY = 86_400_000;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let counter = 0;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('@stripe-flows/billing/workflows'), logger: quietLogger() });
});
afterAll(async () => {
  await env?.teardown();
});

/** A fake Stripe + notifier: invoice state the test controls, every call recorded. */
function fakeBilling(invoice: InvoiceSnapshot) {
  const calls: Array<{ name: string; args: unknown }> = [];
  const notices: Notification[] = [];
  const state = { invoice: { ...invoice }, failMarkUncollectible: undefined as undefined | (() => never) };
  const activities = {
    async retrieveInvoice(args) {
      calls.push({ name: 'retrieveInvoice', args });
      return { ...state.invoice };
    },
    async markInvoiceUncollectible(args) {
      calls.push({ name: 'markInvoiceUncollectible', args });
      state.failMarkUncollectible?.();
      state.invoice = { ...state.invoice, status: 'uncollectible' };
      return { ...state.invoice };
    },
    async voidInvoice(args) {
      calls.push({ name: 'voidInvoice', args });
      state.invoice = { ...state.invoice, status: 'void' };
      return { ...state.invoice };
    },
    async cancelSubscription(args) {
      calls.push({ name: 'cancelSubscription', args });
      return { id: args.subscriptionId, status: 'canceled' as const };
    },
    async notify(n) {
      notices.push(n);
    },
  } satisfies DunningActivities;
  return { activities, calls, notices, state };
}

function openInvoice(overrides: Partial<InvoiceSnapshot> = {}): InvoiceSnapshot {
  counter++;
  return {
    id: `in_dunning${counter}${Date.now()}`,
    status: 'open',
    customerId: 'cus_dunning1',
    subscriptionId: 'sub_dunning1',
    collectionMethod: 'charge_automatically',
    attemptCount: 1,
    nextPaymentAttempt: null,
    amountDue: 4200,
    amountRemaining: 4200,
    currency: 'usd',
    hostedInvoiceUrl: 'https://invoice.stripe.com/i/test',
    ...overrides,
  };
}

function event(type: string, invoice: InvoiceSnapshot, created: number, id = `evt_${type.replace(/\./g, '_')}_${created}_${counter}`): FlowEvent {
  return { id, type, created, livemode: false, object: invoice };
}

async function runDunning(
  fake: ReturnType<typeof fakeBilling>,
  first: FlowEvent,
  input: Partial<DunningInput>,
  during: (handle: Awaited<ReturnType<typeof env.client.workflow.signalWithStart>>) => Promise<void> = async () => undefined,
): Promise<DunningResult> {
  const taskQueue = `dunning-test-${counter}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: fake.activities,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart('collectInvoicePayment', {
      taskQueue,
      workflowId: `billing.dunning:${fake.state.invoice.id}`,
      args: [{ objectId: fake.state.invoice.id, ...input }],
      signal: stripeEventSignal,
      signalArgs: [first],
    });
    await during(handle);
    return (await handle.result()) as DunningResult;
  });
}

const now = () => Math.floor(Date.now() / 1000);

describe('dunning (billing.dunning) over its whole default policy', () => {
  it('ends recovered when invoice.paid arrives after reminders, and stops reminding', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    const result = await runDunning(fake, event('invoice.payment_failed', invoice, now()), {}, async (handle) => {
      await env.sleep(4 * DAY); // past the day-0 and day-3 notices
      await handle.signal(stripeEventSignal, event('invoice.paid', { ...invoice, status: 'paid' }, now() + 4 * 86400));
    });
    expect(result).toEqual({ invoiceId: invoice.id, outcome: 'recovered', remindersSent: 2 });
    expect(fake.notices.map((n) => n.kind)).toEqual(['dunning.payment_failed', 'dunning.reminder']);
    expect(fake.calls.filter((c) => c.name !== 'retrieveInvoice')).toEqual([]);
  });

  it('ends voided on invoice.voided', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    const result = await runDunning(fake, event('invoice.payment_failed', invoice, now()), {}, async (handle) => {
      await env.sleep(8 * DAY);
      await handle.signal(stripeEventSignal, event('invoice.voided', { ...invoice, status: 'void' }, now() + 8 * 86400));
    });
    expect(result.outcome).toBe('voided');
    expect(result.remindersSent).toBe(3);
  });

  it('ends when the invoice is marked uncollectible outside the flow', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    const result = await runDunning(fake, event('invoice.payment_failed', invoice, now()), {}, async (handle) => {
      await env.sleep(1 * DAY);
      await handle.signal(stripeEventSignal, event('invoice.marked_uncollectible', { ...invoice, status: 'uncollectible' }, now() + 86400));
    });
    expect(result.outcome).toBe('marked_uncollectible');
    expect(fake.calls.some((c) => c.name === 'markInvoiceUncollectible')).toBe(false);
  });

  it('takes the default final action after 21 days: re-reads, marks uncollectible once, tells the operator', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    const started = Date.now();
    const result = await runDunning(fake, event('invoice.payment_failed', invoice, now()), {});
    expect(result).toEqual({ invoiceId: invoice.id, outcome: 'final_action_taken', finalAction: 'mark_uncollectible', remindersSent: 4 });
    expect(fake.notices.map((n) => `${n.recipient.role}:${n.kind}`)).toEqual([
      'customer:dunning.payment_failed',
      'customer:dunning.reminder',
      'customer:dunning.reminder',
      'customer:dunning.final_notice',
      'operator:dunning.final_action.mark_uncollectible',
    ]);
    const writes = fake.calls.filter((c) => c.name === 'markInvoiceUncollectible');
    expect(writes).toHaveLength(1);
    expect(writes[0]?.args).toEqual({ invoiceId: invoice.id, idempotencyKey: `billing.dunning:${invoice.id}:final-action:mark_uncollectible` });
    // The write came right after a fresh read of the invoice.
    const names = fake.calls.map((c) => c.name);
    expect(names[names.indexOf('markInvoiceUncollectible') - 1]).toBe('retrieveInvoice');
    // Business time really passed (time skipping), not a shortened policy.
    expect((await env.currentTimeMs()) - started).toBeGreaterThanOrEqual(21 * DAY);
    // Notices carry the hosted link and a per-step idempotency key, never contact details.
    expect(fake.notices[1]?.data.hostedInvoiceUrl).toBe(invoice.hostedInvoiceUrl);
    expect(new Set(fake.notices.map((n) => n.idempotencyKey)).size).toBe(5);
  });

  it('cancels the subscription when the policy says so', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    const result = await runDunning(fake, event('invoice.payment_failed', invoice, now()), {
      policy: { finalAction: 'cancel_subscription', notifyOperator: false },
    });
    expect(result.outcome).toBe('final_action_taken');
    expect(fake.calls.filter((c) => c.name === 'cancelSubscription').map((c) => c.args)).toEqual([
      { subscriptionId: 'sub_dunning1', idempotencyKey: `billing.dunning:${invoice.id}:final-action:cancel_subscription` },
    ]);
  });

  it('never acts while Stripe still has a retry scheduled, and ends recovered if that retry succeeds', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    const result = await runDunning(fake, event('invoice.payment_failed', invoice, now()), {}, async () => {
      await env.sleep(20 * DAY);
      // Stripe schedules one more attempt at day 23; it will succeed.
      fake.state.invoice = { ...fake.state.invoice, nextPaymentAttempt: Math.floor((await env.currentTimeMs()) / 1000) + 3 * 86400 };
      await env.sleep(3 * DAY);
      fake.state.invoice = { ...fake.state.invoice, status: 'paid', nextPaymentAttempt: null };
    });
    expect(result.outcome).toBe('recovered');
    expect(fake.calls.some((c) => c.name === 'markInvoiceUncollectible')).toBe(false);
  });

  it('ends at once, with no notice, when the invoice was already paid (late payment_failed)', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling({ ...invoice, status: 'paid' });
    const result = await runDunning(fake, event('invoice.payment_failed', invoice, now()), {});
    expect(result).toEqual({ invoiceId: invoice.id, outcome: 'recovered', remindersSent: 0 });
    expect(fake.notices).toEqual([]);
  });

  it('asks the customer to authenticate on payment_action_required, once per event', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    const action = event('invoice.payment_action_required', invoice, now() + 60);
    await runDunning(fake, event('invoice.payment_failed', invoice, now()), {}, async (handle) => {
      await env.sleep(DAY / 2);
      await handle.signal(stripeEventSignal, action);
      await handle.signal(stripeEventSignal, action); // redelivered
      await env.sleep(DAY);
      await handle.signal(stripeEventSignal, event('invoice.paid', { ...invoice, status: 'paid' }, now() + 2 * 86400));
    });
    expect(fake.notices.filter((n) => n.kind === 'dunning.action_required')).toHaveLength(1);
  });

  it('drops duplicates and stale events and reports them in the state query', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    const t = now();
    const first = event('invoice.payment_failed', invoice, t);
    let state: Awaited<ReturnType<typeof queryState>> | undefined;
    async function queryState(handle: { query: (q: typeof stateQuery) => Promise<unknown> }) {
      return (await handle.query(stateQuery)) as { step: string; events: { applied: number; duplicates: number; stale: number }; next?: { action: string } };
    }
    await runDunning(fake, first, {}, async (handle) => {
      await handle.signal(stripeEventSignal, first); // duplicate
      await handle.signal(stripeEventSignal, event('invoice.payment_failed', { ...invoice, attemptCount: 3 }, t + 200));
      // Once the newer failure is applied, an older one arriving late is stale.
      while ((await queryState(handle)).events.applied < 2) await new Promise((r) => setTimeout(r, 50));
      await handle.signal(stripeEventSignal, event('invoice.payment_failed', { ...invoice, attemptCount: 2 }, t + 100));
      await env.sleep(DAY);
      state = await queryState(handle);
      await handle.signal(stripeEventSignal, event('invoice.paid', { ...invoice, status: 'paid' }, t + 300));
    });
    expect(state?.step).toBe('waiting_for_payment');
    expect(state?.events).toMatchObject({ applied: 2, duplicates: 1, stale: 1 });
    expect(state?.next?.action).toBe('send reminder');
  });

  it('ends by the invoice, not by a failing final action, when it was paid in the meantime', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    fake.state.failMarkUncollectible = () => {
      fake.state.invoice = { ...fake.state.invoice, status: 'paid' };
      throw ApplicationFailure.nonRetryable('Stripe rejected POST mark_uncollectible (HTTP 400)', 'stripe.invoice_not_editable');
    };
    const result = await runDunning(fake, event('invoice.payment_failed', invoice, now()), {});
    expect(result.outcome).toBe('recovered');
  });

  it('fails visibly on a non-retryable Stripe error it cannot explain', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    fake.state.failMarkUncollectible = () => {
      throw ApplicationFailure.nonRetryable('Stripe rejected POST mark_uncollectible (HTTP 400)', 'stripe.parameter_unknown');
    };
    await expect(runDunning(fake, event('invoice.payment_failed', invoice, now()), {})).rejects.toBeInstanceOf(WorkflowFailedError);
  });

  it('rejects an invalid policy with a message naming the field', async () => {
    const invoice = openInvoice();
    const fake = fakeBilling(invoice);
    const error = await runDunning(fake, event('invoice.payment_failed', invoice, now()), {
      policy: { finalActionAfterDays: 2 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toContain('finalActionAfterDays must be on or after the last reminder');
  });
});
