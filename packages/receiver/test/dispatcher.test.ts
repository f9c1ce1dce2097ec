// The dispatcher against Temporal's time-skipping server, with the real billing activities
// calling the Stripe API double: redelivery and reordering change nothing.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Dispatcher, RouteRegistry, stateQuery, stripeEventEnvelopeSchema, type Notification, type StripeEventEnvelope } from '@stripe-flows/core';
import { billing, createBillingActivities, type DunningResult } from '@stripe-flows/billing';
import { buildEvent, createTimeSkippingEnv, failedInvoice, StripeApiDouble, quietLogger } from '@stripe-flows/testing';

const require = createRequire(import.meta.url);
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let stripe: StripeApiDouble;
let dispatcher: Dispatcher;
const notices: Notification[] = [];
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  [env, stripe] = await Promise.all([createTimeSkippingEnv(), StripeApiDouble.start()]);
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('@stripe-flows/billing/workflows'),
    logger: quietLogger(),
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'stripe-flows.billing',
    workflowBundle: bundle,
    activities: createBillingActivities({ stripe: stripe.client(), notifier: { notify: async (n) => void notices.push(n) } }),
  });
  running = worker.run();
  dispatcher = new Dispatcher({ client: env.client, registry: new RouteRegistry([billing]), deadlineMs: 10_000 });
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await stripe?.stop();
  await env?.teardown();
});

function envelope(type: string, invoice: Record<string, unknown>, created: number): StripeEventEnvelope {
  return stripeEventEnvelopeSchema.parse(buildEvent(type, { object: invoice, created }));
}

async function result(workflowId: string): Promise<DunningResult> {
  return (await env.client.workflow.getHandle(workflowId).result()) as DunningResult;
}

describe('Dispatcher', () => {
  it('turns 3 concurrent deliveries of one event into one workflow and one Stripe side effect', async () => {
    const invoice = failedInvoice({ next_payment_attempt: null });
    stripe.seed('invoice', invoice as { id: string });
    const event = envelope('invoice.payment_failed', invoice, Math.floor(Date.now() / 1000));
    const outcomes = await Promise.all([dispatcher.dispatch(event), dispatcher.dispatch(event), dispatcher.dispatch(event)]);
    const workflowId = `billing.dunning:${invoice.id as string}`;
    expect(outcomes.flat()).toEqual(Array(3).fill({ route: 'billing.dunning', workflowId, result: 'delivered' }));

    const final = await result(workflowId); // 21 days of dunning, time-skipped
    expect(final).toMatchObject({ outcome: 'final_action_taken', finalAction: 'mark_uncollectible', remindersSent: 4 });
    // One run received all three deliveries; the flow dropped two as duplicates.
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const eventTypes = (history.events ?? []).map((e) => String(e.eventType));
    expect(eventTypes.filter((t) => t === 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED' || t === '1')).toHaveLength(1);
    expect(eventTypes.filter((t) => t === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED' || t === '26')).toHaveLength(3);
    // One Stripe write, with the step's idempotency key; the double holds the invoice uncollectible.
    const writes = stripe.sideEffects({ method: 'POST', path: `/v1/invoices/${invoice.id as string}/mark_uncollectible` });
    expect(writes).toHaveLength(1);
    expect(writes[0]?.idempotencyKey).toBe(`${workflowId}:final-action:mark_uncollectible`);
    expect(stripe.get('invoice', invoice.id as string)?.status).toBe('uncollectible');
    // The customer got each notice once, not three times.
    expect(notices.filter((n) => n.workflowId === workflowId).map((n) => n.kind)).toEqual([
      'dunning.payment_failed',
      'dunning.reminder',
      'dunning.reminder',
      'dunning.final_notice',
      'dunning.final_action.mark_uncollectible',
    ]);
    // The ended flow is not restarted by a late redelivery.
    expect(await dispatcher.dispatch(event)).toEqual([
      { route: 'billing.dunning', workflowId, result: 'ignored', reason: 'flow for this object already ended' },
    ]);
  });

  it('reaches the same end state when the events of a recovery arrive in reverse order', async () => {
    const t = Math.floor(Date.now() / 1000);
    const endStates: Array<{ outcome: string; stripeWrites: number }> = [];
    for (const order of ['in-order', 'reversed'] as const) {
      const invoice = failedInvoice({ next_payment_attempt: t + 86400 });
      const id = invoice.id as string;
      stripe.seed('invoice', invoice as { id: string });
      const sequence = [
        envelope('invoice.payment_failed', invoice, t),
        envelope('invoice.payment_failed', { ...invoice, attempt_count: 2 }, t + 100),
        envelope('invoice.paid', { ...invoice, status: 'paid', amount_remaining: 0 }, t + 200),
      ];
      const deliveries = order === 'in-order' ? sequence : [...sequence].reverse();
      for (const event of deliveries) {
        // Stripe's truth moves with the events that exist: once `paid` exists, the invoice is paid.
        if (event.type === 'invoice.paid' || order === 'reversed') stripe.update('invoice', id, { status: 'paid', amount_remaining: 0 });
        await dispatcher.dispatch(event);
      }
      const final = await result(`billing.dunning:${id}`);
      endStates.push({ outcome: final.outcome, stripeWrites: stripe.sideEffects({ method: 'POST', path: new RegExp(`/v1/invoices/${id}/`) }).length });
    }
    expect(endStates).toEqual([
      { outcome: 'recovered', stripeWrites: 0 },
      { outcome: 'recovered', stripeWrites: 0 },
    ]);
  });

  it('routes invoice.created only for draft invoices of an assembled billing reason', async () => {
    const now = Math.floor(Date.now() / 1000);
    const manual = failedInvoice({ status: 'draft', billing_reason: 'manual' });
    expect(await dispatcher.dispatch(envelope('invoice.created', manual, now))).toEqual([
      { route: 'billing.assembly', workflowId: `billing.assembly:${manual.id as string}`, result: 'ignored', reason: 'billing_reason manual is not assembled (policy: subscription_cycle)' },
    ]);
    const cycle = failedInvoice({ status: 'draft', billing_reason: 'subscription_cycle', currency: 'usd' });
    stripe.seed('customer', { id: cycle.customer as string });
    stripe.seed('invoice', cycle as { id: string });
    const workflowId = `billing.assembly:${cycle.id as string}`;
    expect(await dispatcher.dispatch(envelope('invoice.created', cycle, now))).toEqual([{ route: 'billing.assembly', workflowId, result: 'delivered' }]);
    const handle = env.client.workflow.getHandle(workflowId);
    let step = '';
    for (let i = 0; i < 100 && step !== 'awaiting_finalization'; i++) {
      step = ((await handle.query(stateQuery)) as { step: string }).step;
      if (step !== 'awaiting_finalization') await new Promise((r) => setTimeout(r, 50));
    }
    expect(step).toBe('awaiting_finalization');
    await dispatcher.dispatch(envelope('invoice.finalized', { ...cycle, status: 'open' }, now + 3600));
    expect(await env.client.workflow.getHandle(workflowId).result()).toMatchObject({ outcome: 'finalized' });
    // Nothing was pending, so only the invoice metadata was stamped.
    expect(stripe.get('invoice', cycle.id as string)?.metadata).toMatchObject({ stripe_flows_assembled: 'true' });
  });

  it('ignores a continuation event when no flow runs for the object', async () => {
    const invoice = failedInvoice({ status: 'paid' });
    const outcome = await dispatcher.dispatch(envelope('invoice.paid', invoice, Math.floor(Date.now() / 1000)));
    expect(outcome).toEqual([
      { route: 'billing.dunning', workflowId: `billing.dunning:${invoice.id as string}`, result: 'ignored', reason: 'no running flow for this object' },
    ]);
  });
});
