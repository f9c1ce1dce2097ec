// Property: any delivery of billing.alert.triggered events (each 1–3 times, any order, with or
// without pauses) handles each trigger once, as the in-order delivery does: the same notices, and
// the limit action written to Stripe once per subscription, under the same idempotency key.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeId, stripeObject } from '@stripe-flows/testing';
import { deliverPlan, deliveryPlans, flowView, inOrder, propertyRuns, Run, startBench, type Bench, type StepSpec } from './properties.helpers.js';

const SOFT = 'alrt_1SoftWarning';
const HARD = 'alrt_1HardLimit';

let bench: Bench;
beforeAll(async () => {
  // The soft alert only notifies; the hard one also sets cancel_at_period_end.
  bench = await startBench({ usageAlert: { limitAction: 'cancel_at_period_end', limitActionAlertIds: [HARD] } });
});
afterAll(async () => {
  await bench?.stop();
});

// One usage batch crosses both thresholds of one customer and the soft one of another, in one second.
const steps: StepSpec[] = [{ label: 'soft1' }, { label: 'hard1' }, { label: 'soft2' }];

/** Subscription items whose prices bill these meters (null: a licensed price). */
function meteredItems(meters: Array<string | null>) {
  return {
    object: 'list',
    has_more: false,
    url: '/v1/subscription_items',
    data: meters.map((meter, i) => ({
      id: stripeId('si'),
      object: 'subscription_item',
      quantity: 1,
      price: { id: `price_${i}`, object: 'price', recurring: { interval: 'month', interval_count: 1, meter, usage_type: meter ? 'metered' : 'licensed' } },
    })),
  };
}

async function alerts(plan: readonly string[]) {
  const run = new Run(bench);
  try {
    const t = run.id(Math.floor((await bench.env.currentTimeMs()) / 1000) - 30, '<t>');
    const [cus1, cus2] = [run.id(stripeId('cus'), '<cus1>'), run.id(stripeId('cus'), '<cus2>')];
    const subscription = (name: string, customer: string, meters: Array<string | null>, extra: Record<string, unknown> = {}) => {
      const id = run.id(stripeId('sub'), `<${name}>`);
      bench.double.seed('subscription', { id, customer, status: 'active', cancel_at_period_end: false, pause_collection: null, items: meteredItems(meters), ...extra });
    };
    for (const customer of [cus1, cus2]) bench.double.seed('customer', { id: customer });
    subscription('calls', cus1, ['mtr_1Calls', null]); // bills the meter: limited
    subscription('storage', cus1, ['mtr_1Storage']); // another meter: left alone
    subscription('ending', cus1, ['mtr_1Calls'], { status: 'trialing', cancel_at_period_end: true }); // already ends
    subscription('other', cus2, ['mtr_1Calls']); // soft alert only: left alone

    const trigger = (label: string, alertId: string, gte: number, customer: string) =>
      run.envelope('billing.alert.triggered', {
        id: run.id(`evt_${run.tag}${label}`, `<${label}>`),
        created: t,
        object: {
          ...stripeObject('billing.alert_triggered'),
          alert: { ...stripeObject('billing.alert'), id: alertId, title: alertId === HARD ? 'Hard limit' : 'Heads up', usage_threshold: { filters: null, gte, meter: 'mtr_1Calls', recurrence: 'one_time' } },
          customer,
          value: 12_500,
          created: t,
        },
      });
    const events = { soft1: trigger('soft1', SOFT, 10_000, cus1), hard1: trigger('hard1', HARD, 12_000, cus1), soft2: trigger('soft2', SOFT, 10_000, cus2) };
    await deliverPlan(plan, {
      steps,
      truth: () => undefined, // a trigger changes nothing at Stripe
      deliver: (label) => run.deliver(events[label as keyof typeof events]),
      settle: () => run.settle(),
    });
    const flows = await run.finish();
    return { flows: Object.fromEntries(Object.entries(flows).map(([id, flow]) => [id, flowView(flow)])), writes: run.writes(), notices: run.notices() };
  } catch (error) {
    await run.abandon();
    throw error;
  }
}

describe('usage alerts (billing.alert) under any delivery of their triggers', () => {
  it('two alerts of one customer and one of another in one second: each trigger handled once, one limit write', async () => {
    const canonical = await alerts(inOrder(steps));
    const hard = `billing.alert:${HARD}:<cus1>:<t>`;
    expect(Object.keys(canonical.flows).sort()).toEqual([hard, `billing.alert:${SOFT}:<cus1>:<t>`, `billing.alert:${SOFT}:<cus2>:<t>`].sort());
    expect(canonical.flows[hard]?.end).toMatchObject({ result: { outcome: 'limited', subscriptions: expect.arrayContaining([{ subscriptionId: '<calls>', result: 'applied' }]) } });
    expect(canonical.writes).toEqual({ 'POST /v1/subscriptions/<calls>': [`${hard}:limit:cancel_at_period_end:<calls>`] });
    expect(canonical.notices).toHaveLength(7); // customer + operator per trigger, and the limit action report

    await fc.assert(
      fc.asyncProperty(deliveryPlans(steps), async (plan) => {
        expect(await alerts(plan)).toEqual(canonical);
      }),
      propertyRuns(12),
    );
  });
});
