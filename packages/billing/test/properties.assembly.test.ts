// Property: any delivery of a subscription renewal's invoice events (each 1–3 times, any order
// Stripe allows, with or without pauses) assembles the draft as the in-order delivery does, with
// every add/remove/update_lines call made once, under the same idempotency key.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeId } from '@stripe-flows/testing';
import { deliverPlan, deliveryPlans, flowView, inOrder, propertyRuns, Run, startBench, type Bench, type StepSpec } from './properties.helpers.js';

let bench: Bench;
beforeAll(async () => {
  bench = await startBench({ assembly: { batchSize: 2, lineMetadata: { billing_run: '2026-11' } } });
});
afterAll(async () => {
  await bench?.stop();
});

const FLOW = 'billing.assembly:<invoice>';
// Stripe finalizes a subscription draft only an hour after invoice.created was answered, and
// charges it at once: finalized and paid come after the flow handled created, at one second.
const steps: StepSpec[] = [{ label: 'created' }, { label: 'finalized', after: 'created' }, { label: 'paid', after: 'created' }];

/**
 * A renewal draft with a subscription line and a held invoice item; pending: one unassigned
 * invoice item of the customer and three charges from the `usage-db` source (batches of 2).
 */
async function assembly(plan: readonly string[]) {
  const run = new Run(bench);
  try {
    const now = Math.floor((await bench.env.currentTimeMs()) / 1000);
    const [t0, t1] = [run.id(now - 60, '<t0>'), run.id(now + 3600, '<t1>')];
    const customer = run.id(stripeId('cus'), '<customer>');
    const invoiceId = run.id(stripeId('in'), '<invoice>');
    const pending = run.id(stripeId('ii'), '<ii_pending>');
    const held = run.id(`il_${run.tag}held`, '<il_held>');
    const sub = run.id(`il_${run.tag}sub`, '<il_sub>');
    bench.double.seed('customer', { id: customer });
    bench.double.seed('invoiceitem', { id: pending, customer, amount: 700, currency: 'usd', invoice: null, description: 'Setup fee' });
    const draft = bench.double.seed('invoice', {
      id: invoiceId,
      customer,
      status: 'draft',
      currency: 'usd',
      billing_reason: 'subscription_cycle',
      auto_advance: true,
      lines: [
        { id: sub, type: 'subscription', amount: 2900, description: 'Pro plan', metadata: { plan: 'pro' } },
        { id: held, amount: 500, description: 'Disputed usage', metadata: { stripe_flows_hold: 'true' } },
      ],
    });
    bench.charges.set(
      invoiceId,
      ['api-calls', 'storage', 'seats'].map((name, i) => ({ key: `${invoiceId}-${name}`, line: { amount: 1000 + i, description: `Usage: ${name}` } })),
    );
    const eventId = (label: string) => run.id(`evt_${run.tag}${label}`, `<${label}>`);
    const events = {
      created: run.envelope('invoice.created', { id: eventId('created'), created: t0, object: { ...draft } }),
      finalized: run.envelope('invoice.finalized', { id: eventId('finalized'), created: t1, object: { ...draft, status: 'open' } }),
      paid: run.envelope('invoice.paid', { id: eventId('paid'), created: t1, object: { ...draft, status: 'paid' } }),
    };
    const truth: Record<string, () => void> = {
      created: () => undefined,
      finalized: () => bench.double.update('invoice', invoiceId, { status: 'open' }),
      paid: () => bench.double.update('invoice', invoiceId, { status: 'paid' }),
    };
    await deliverPlan(plan, {
      steps,
      truth: (label) => truth[label]?.(),
      deliver: (label) => run.deliver(events[label as keyof typeof events]),
      settle: () => run.settle(),
    });
    const flows = await run.finish();
    // Lines the flow added get ids from Stripe: name them by position on the invoice.
    const lines = (bench.double.get('invoice', invoiceId)?.lines as { data: Array<{ id: string }> } | undefined)?.data ?? [];
    lines.forEach((line, i) => run.id(line.id, `<line${i}>`));
    return { flows: Object.fromEntries(Object.entries(flows).map(([id, flow]) => [id, flowView(run.normalize(flow))])), writes: run.writes(), notices: run.notices() };
  } catch (error) {
    await run.abandon();
    throw error;
  }
}

describe('draft invoice assembly (billing.assembly) under any delivery of its events', () => {
  it('created, then finalized and paid at one second: the same lines added, removed and stamped once', async () => {
    const canonical = await assembly(inOrder(steps));
    expect(canonical.flows[FLOW]?.end).toEqual({
      result: { invoiceId: '<invoice>', outcome: 'finalized', added: 4, removed: 1, updated: 5, rejected: 0, leftOver: 0 },
    });
    expect(canonical.writes).toEqual({
      'POST /v1/invoices/<invoice>/add_lines': [`${FLOW}:add-lines:2:<ii_pending>..<invoice>-api-calls`, `${FLOW}:add-lines:2:<invoice>-storage..<invoice>-seats`],
      'POST /v1/invoices/<invoice>/remove_lines': [`${FLOW}:remove-lines:1:<il_held>:unassign..<il_held>:unassign`],
      'POST /v1/invoices/<invoice>/update_lines': [`${FLOW}:update-lines:1:<line4>..<line4>`, `${FLOW}:update-lines:2:<line0>..<line1>`, `${FLOW}:update-lines:2:<line2>..<line3>`],
    });
    // invoice.paid belongs to dunning, which has no flow for this invoice: ignored, never started.
    expect(Object.keys(canonical.flows)).toEqual([FLOW]);

    await fc.assert(
      fc.asyncProperty(deliveryPlans(steps), async (plan) => {
        expect(await assembly(plan)).toEqual(canonical);
      }),
      propertyRuns(12),
    );
  });
});
