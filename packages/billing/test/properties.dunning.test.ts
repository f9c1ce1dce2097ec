// Property: any delivery of a dunning flow's events (each 1–3 times, any order, with or without
// pauses) ends as the in-order delivery does, and Stripe's writes carry the same idempotency keys.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedInvoice } from '@stripe-flows/testing';
import { deliverPlan, deliveryPlans, flowView, inOrder, propertyRuns, Run, startBench, type Bench, type StepSpec } from './properties.helpers.js';

let bench: Bench;
beforeAll(async () => {
  bench = await startBench();
});
afterAll(async () => {
  await bench?.stop();
});

const FLOW = 'billing.dunning:<invoice>';
const steps: StepSpec[] = [{ label: 'e1' }, { label: 'e2' }, { label: 'e3' }];

/** How the second sequence ends: Stripe's event, and the invoice status it leaves. */
const ENDINGS = {
  'invoice.paid': { status: 'paid', amount_remaining: 0 },
  'invoice.voided': { status: 'void', amount_remaining: 0 },
  'invoice.marked_uncollectible': { status: 'uncollectible' },
} as const;
type Ending = keyof typeof ENDINGS;

/**
 * e1 `invoice.payment_failed` (attempt 1), then at one second e2 `invoice.payment_failed`
 * (attempt 2, Stripe's last retry) and e3: `invoice.payment_action_required` of that attempt, or
 * with `ending` the invoice's end (paid, voided, marked uncollectible).
 */
async function dunning(plan: readonly string[], ending?: Ending) {
  const run = new Run(bench);
  try {
    const now = Math.floor((await bench.env.currentTimeMs()) / 1000);
    // e1 happened before the flow starts; e2 and e3 after its first read of the invoice.
    const [t0, t1] = [run.id(now - 3600, '<t0>'), run.id(now + 120, '<t1>')];
    const invoice = failedInvoice({ attempt_count: 1, next_payment_attempt: now + 2 * 86400 });
    const id = run.id(String(invoice.id), '<invoice>');
    run.id(String(invoice.customer), '<customer>');
    run.id(String(invoice.subscription), '<subscription>');
    bench.double.seed('invoice', { ...invoice, id });
    const lastTry = { ...invoice, attempt_count: 2, next_payment_attempt: null };
    const eventId = (label: string) => run.id(`evt_${run.tag}${label}`, `<${label}>`);
    const events = {
      e1: run.envelope('invoice.payment_failed', { id: eventId('e1'), created: t0, object: invoice }),
      e2: run.envelope('invoice.payment_failed', { id: eventId('e2'), created: t1, object: lastTry }),
      e3: ending
        ? run.envelope(ending, { id: eventId('e3'), created: t1, object: { ...lastTry, ...ENDINGS[ending] } })
        : run.envelope('invoice.payment_action_required', { id: eventId('e3'), created: t1, object: lastTry }),
    };
    const truth: Record<string, () => void> = {
      e1: () => undefined,
      e2: () => bench.double.update('invoice', id, { attempt_count: 2, next_payment_attempt: null }),
      e3: () => (ending ? bench.double.update('invoice', id, { ...ENDINGS[ending] }) : undefined),
    };
    await deliverPlan(plan, {
      steps,
      truth: (label) => truth[label]?.(),
      deliver: (label) => run.deliver(events[label as keyof typeof events]),
      settle: () => run.settle(),
    });
    const flows = await run.finish(); // the rest of the policy (21 days) is time-skipped
    return { flow: flowView(flows[FLOW]), writes: run.writes(), notices: run.notices() };
  } catch (error) {
    await run.abandon();
    throw error;
  }
}

describe('dunning (billing.dunning) under any delivery of its events', () => {
  it('still open after Stripe stopped retrying: the same reminders, one authentication request, one final action', async () => {
    const canonical = await dunning(inOrder(steps));
    expect(canonical.flow?.end).toEqual({ result: { invoiceId: '<invoice>', outcome: 'final_action_taken', finalAction: 'mark_uncollectible', remindersSent: 4 } });
    expect(canonical.writes).toEqual({ 'POST /v1/invoices/<invoice>/mark_uncollectible': [`${FLOW}:final-action:mark_uncollectible`] });
    expect(canonical.notices).toContain(`${FLOW}:action-required:<e3> customer:dunning.action_required`);

    // Everything must match: the order of two independent actions (the day-0 notice and the
    // authentication request) may follow the delivery order, so actions compare as a sorted list.
    await fc.assert(
      fc.asyncProperty(deliveryPlans(steps), async (plan) => {
        expect(await dunning(plan)).toEqual(canonical);
      }),
      propertyRuns(15),
    );
  });

  it('ended by Stripe (paid, voided, marked uncollectible): the same end, no Stripe write, no notice twice', async () => {
    const canonical = new Map<Ending, Awaited<ReturnType<typeof dunning>>>();
    const canonicalFor = async (ending: Ending) => {
      const known = canonical.get(ending);
      if (known) return known;
      const first = await dunning(inOrder(steps), ending);
      canonical.set(ending, first);
      return first;
    };
    expect((await canonicalFor('invoice.paid')).flow?.end).toMatchObject({ result: { outcome: 'recovered' } });

    // What a late start reads decides whether the day-0 notice still went out (an invoice already
    // paid gets none), so notices may only be fewer; the end, its status and Stripe's writes match.
    await fc.assert(
      fc.asyncProperty(deliveryPlans(steps), fc.constantFrom<Ending>('invoice.paid', 'invoice.voided', 'invoice.marked_uncollectible'), async (plan, ending) => {
        const expected = await canonicalFor(ending);
        const run = await dunning(plan, ending);
        const end = (r: typeof run) => ({
          outcome: (r.flow?.end as { result?: { outcome?: string } } | undefined)?.result?.outcome,
          step: r.flow?.step,
          status: r.flow?.status,
          invoiceStatus: r.flow?.details.invoiceStatus,
          writes: r.writes,
        });
        expect(end(run)).toEqual(end(expected));
        expect(expected.notices).toEqual(expect.arrayContaining(run.notices));
      }),
      propertyRuns(12),
    );
  });
});
