// Property: any delivery of a trial's subscription events (each 1–3 times, any order, with or
// without pauses) ends the trial ending flow as the in-order delivery does. The flow only reads
// Stripe: no run may write to it.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeId, stripeObject } from '@stripe-flows/testing';
import { deliverPlan, deliveryPlans, flowView, inOrder, propertyRuns, Run, startBench, type Bench, type StepSpec } from './properties.helpers.js';

let bench: Bench;
beforeAll(async () => {
  bench = await startBench();
});
afterAll(async () => {
  await bench?.stop();
});

const FLOW = 'billing.trial:<subscription>';
const steps: StepSpec[] = [{ label: 'e1' }, { label: 'e2' }, { label: 'e3' }];

/** How the trial ends: the customer adds a card to the subscription, or cancels it. */
type Ending = 'payment_method_added' | 'canceled';

/**
 * e1 `customer.subscription.trial_will_end` (no payment method on file), then at one second
 * e2 `customer.subscription.updated` (trial end behavior changed to cancel) and e3: another
 * `customer.subscription.updated` (a default payment method set), or `customer.subscription.deleted`.
 */
async function trial(plan: readonly string[], ending: Ending) {
  const run = new Run(bench);
  try {
    const now = Math.floor((await bench.env.currentTimeMs()) / 1000);
    // e1 happened before the flow starts; e2 and e3 after its first read of the subscription.
    const [t0, t1] = [run.id(now - 60, '<t0>'), run.id(now + 120, '<t1>')];
    const trialEnd = run.id(t0 + 72 * 3600, '<trial_end>');
    const customer = run.id(stripeId('cus'), '<customer>');
    const id = run.id(stripeId('sub'), '<subscription>');
    const card = run.id(stripeId('pm'), '<pm>');
    const base = {
      id,
      customer,
      status: 'trialing',
      collection_method: 'charge_automatically',
      trial_end: trialEnd,
      default_payment_method: null,
      default_source: null,
      trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
    };
    bench.double.seed('customer', { id: customer, default_source: null, invoice_settings: { default_payment_method: null } });
    bench.double.seed('subscription', base);
    const cancelOnEnd = { ...base, trial_settings: { end_behavior: { missing_payment_method: 'cancel' } } };
    const last =
      ending === 'payment_method_added'
        ? { type: 'customer.subscription.updated', object: { ...cancelOnEnd, default_payment_method: card }, previousAttributes: { default_payment_method: null } }
        : { type: 'customer.subscription.deleted', object: { ...cancelOnEnd, status: 'canceled', canceled_at: t1, ended_at: t1 } };
    const eventId = (label: string) => run.id(`evt_${run.tag}${label}`, `<${label}>`);
    const snapshot = (object: Record<string, unknown>) => ({ ...stripeObject('subscription'), ...object });
    const events = {
      e1: run.envelope('customer.subscription.trial_will_end', { id: eventId('e1'), created: t0, object: snapshot(base) }),
      e2: run.envelope('customer.subscription.updated', {
        id: eventId('e2'),
        created: t1,
        object: snapshot(cancelOnEnd),
        previousAttributes: { trial_settings: base.trial_settings },
      }),
      e3: run.envelope(last.type, { id: eventId('e3'), created: t1, object: snapshot(last.object), ...(last.previousAttributes ? { previousAttributes: last.previousAttributes } : {}) }),
    };
    const truth: Record<string, () => void> = {
      e1: () => undefined,
      e2: () => bench.double.update('subscription', id, { trial_settings: cancelOnEnd.trial_settings }),
      e3: () => bench.double.update('subscription', id, ending === 'payment_method_added' ? { default_payment_method: card } : { status: 'canceled', canceled_at: t1, ended_at: t1 }),
    };
    await deliverPlan(plan, {
      steps,
      truth: (label) => truth[label]?.(),
      deliver: (label) => run.deliver(events[label as keyof typeof events]),
      settle: () => run.settle(),
    });
    const flows = await run.finish(); // a flow still waiting runs on to its next re-read (time-skipped)
    return { flow: flowView(flows[FLOW]), writes: run.writes(), notices: run.notices() };
  } catch (error) {
    await run.abandon();
    throw error;
  }
}

/** Notices by idempotency key only: what the customer is told first depends on what a late start reads. */
const keys = (notices: readonly string[]) => notices.map((n) => n.slice(0, n.indexOf(' ')));

describe('trial ending (billing.trial) under any delivery of its events', () => {
  it('a card added during the trial: the same end and details, the first reminder once, nothing written', async () => {
    const canonical = await trial(inOrder(steps), 'payment_method_added');
    expect(canonical.flow?.end).toEqual({
      result: { subscriptionId: '<subscription>', outcome: 'payment_method_on_file', subscriptionStatus: 'trialing', paymentMethodOnFile: true, remindersSent: 1, escalated: false },
    });
    expect(canonical.notices).toEqual([`${FLOW}:<trial_end>:initial customer:trial.payment_method_needed`]);
    expect(canonical.writes).toEqual({});

    // The first reminder says "add a payment method" or "your trial ends" depending on whether the
    // card was there when the flow first read the subscription; its key, the end and details match.
    await fc.assert(
      fc.asyncProperty(deliveryPlans(steps), async (plan) => {
        const run = await trial(plan, 'payment_method_added');
        expect({ end: run.flow?.end, step: run.flow?.step, status: run.flow?.status, details: run.flow?.details, writes: run.writes }).toEqual({
          end: canonical.flow?.end,
          step: canonical.flow?.step,
          status: canonical.flow?.status,
          details: canonical.flow?.details,
          writes: canonical.writes,
        });
        expect(keys(run.notices)).toEqual(keys(canonical.notices));
      }),
      propertyRuns(12),
    );
  });

  it('canceled during the trial: always ends canceled, nothing written, no notice twice', async () => {
    const canonical = await trial(inOrder(steps), 'canceled');
    expect(canonical.flow?.end).toMatchObject({ result: { outcome: 'canceled', subscriptionStatus: 'canceled' } });

    // A flow started after the cancellation reminds nobody: notices may only be fewer.
    await fc.assert(
      fc.asyncProperty(deliveryPlans(steps), async (plan) => {
        const run = await trial(plan, 'canceled');
        const end = (r: typeof run) => ({
          outcome: (r.flow?.end as { result?: { outcome?: string } } | undefined)?.result?.outcome,
          step: r.flow?.step,
          status: r.flow?.status,
          subscriptionStatus: r.flow?.details.subscriptionStatus,
          writes: r.writes,
        });
        expect(end(run)).toEqual(end(canonical));
        expect(canonical.notices).toEqual(expect.arrayContaining(run.notices));
      }),
      propertyRuns(10),
    );
  });
});
