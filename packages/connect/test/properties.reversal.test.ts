// Property: a destination charge refunded twice and then lost in a dispute ends the same way, and
// reverses its transfer once per refund and once for the dispute, whatever order (and however
// many times) Stripe delivers the five events in.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stripeId } from '@stripe-flows/testing';
import type { ReversalDetails, ReversalResult } from '../src/index.js';
import {
  actionsDone,
  anyDeliveries,
  inOrder,
  normalizer,
  propertyParameters,
  noticeKeys,
  runFlow,
  scripted,
  startHarness,
  stripeEvent,
  stripeWrites,
  wrongStripeAccount,
  type Delivery,
  type Harness,
  type RunRecord,
} from './properties.helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const SEQUENCE = [
  'charge.refunded @t (re1)',
  'charge.refunded @t+1 (re2)',
  'charge.refund.updated @t+1 (re1)',
  'charge.dispute.closed @t+3 (lost)',
  'charge.refund.updated @t+4 (re2)',
] as const;

/**
 * A 10 000 charge whose 8 700 went to the seller (platform keeps 13 %): refunds of 3 000 and
 * 2 000, then a dispute over the other 5 000 is lost. Stripe (the double) already holds all of it:
 * deliveries come late, out of order and more than once. The refunds' `charge.refund.updated`
 * (e.g. when the card network's reference arrives) can come after the dispute closed.
 */
async function reversalRun(deliveries: readonly Delivery[]) {
  h.reset();
  const t = (await h.now()) - 60;
  const acct = stripeId('acct');
  const ch = stripeId('ch');
  const tr = stripeId('tr');
  const [re1, re2] = [stripeId('re'), stripeId('re')];
  const dp = stripeId('dp');
  const group = `group_${ch}`;
  const charge = { id: ch, amount: 10_000, currency: 'usd', captured: true, transfer: tr, transfer_data: { destination: acct, amount: null }, transfer_group: group, application_fee: null, application_fee_amount: null };
  const refund = (id: string, amount: number, created: number) => ({ id, charge: ch, amount, currency: 'usd', created, status: 'succeeded', transfer_reversal: null });

  h.stripe.seed('account', { id: acct, charges_enabled: true, payouts_enabled: true, details_submitted: true });
  h.stripe.seed('transfer', { id: tr, amount: 8_700, currency: 'usd', destination: acct, transfer_group: group, created: t - 86_400 });
  h.stripe.seed('charge', { ...charge, amount_refunded: 5_000, refunded: false, disputed: true, created: t - 86_400 });
  h.stripe.seed('refund', refund(re1, 3_000, t));
  h.stripe.seed('refund', refund(re2, 2_000, t + 1));

  const events = [
    stripeEvent('charge.refunded', { created: t, object: { ...charge, amount_refunded: 3_000, refunded: false } }),
    stripeEvent('charge.refunded', { created: t + 1, object: { ...charge, amount_refunded: 5_000, refunded: false } }),
    stripeEvent('charge.refund.updated', { created: t + 1, object: refund(re1, 3_000, t) }),
    stripeEvent('charge.dispute.closed', { created: t + 3, object: { id: dp, charge: ch, amount: 5_000, currency: 'usd', status: 'lost', created: t + 2 } }),
    stripeEvent('charge.refund.updated', { created: t + 4, object: refund(re2, 2_000, t + 1) }),
  ];
  const norm = normalizer({ [acct]: '<acct>', [ch]: '<ch>', [tr]: '<tr>', [re1]: '<re1>', [re2]: '<re2>', [dp]: '<dp>', [group]: '<group>' });
  const record = await runFlow<ReversalResult, ReversalDetails>(h, {
    workflowId: `connect.reversal:${ch}`,
    events,
    deliveries,
    idleSteps: ['watching', 'waiting_for_balance', 'ended'],
  });
  return { record, norm };
}

/** The end state with what legitimately depends on delivery order (event counts, times, Stripe's new ids) left out. */
function endState({ record, norm }: { record: RunRecord<ReversalResult, ReversalDetails>; norm: ReturnType<typeof normalizer> }) {
  const { result, final } = record;
  return {
    result: norm.value({ ...result, reversals: result.reversals.map(({ forId, of, amount }) => ({ forId, of, amount })) }),
    step: final.step,
    status: final.status,
    handled: norm.value(final.details.handled),
    outstanding: norm.value(final.details.outstanding),
    done: actionsDone(final, norm),
  };
}

it('any order of deliveries, with duplicates, ends where the in-order run ends, one reversal per refund and dispute', async () => {
  const canonical = await reversalRun(inOrder(SEQUENCE));
  const expected = endState(canonical);
  expect(expected.result).toMatchObject({
    outcome: 'settled',
    reversals: [
      { forId: '<re1>', of: '<tr>', amount: 2_610 },
      { forId: '<re2>', of: '<tr>', amount: 1_740 },
      { forId: '<dp>', of: '<tr>', amount: 4_350 },
    ],
  });
  const writes = stripeWrites(canonical.record.requests, canonical.norm);
  expect(writes).toEqual({
    'POST /v1/transfers/<tr>/reversals for <re1>': { keys: ['connect.reversal:<ch>:reverse:<re1>:<tr>'], tookEffect: 1 },
    'POST /v1/transfers/<tr>/reversals for <re2>': { keys: ['connect.reversal:<ch>:reverse:<re2>:<tr>'], tookEffect: 1 },
    'POST /v1/transfers/<tr>/reversals for <dp>': { keys: ['connect.reversal:<ch>:reverse:<dp>:<tr>'], tookEffect: 1 },
  });
  const notices = noticeKeys(canonical.record.notices, canonical.norm);

  await fc.assert(
    fc.asyncProperty(anyDeliveries(SEQUENCE), async (deliveries) => {
      const run = await reversalRun(deliveries);
      expect(endState(run)).toEqual(expected);
      expect(stripeWrites(run.record.requests, run.norm)).toEqual(writes);
      expect(noticeKeys(run.record.notices, run.norm)).toEqual(notices);
      // A destination charge, its refunds and its transfer are the platform's: no Stripe-Account anywhere.
      expect(wrongStripeAccount(run.record.requests, () => undefined, run.norm)).toEqual([]);
    }),
    // Found by this property: the dispute's event, older than a refund update already applied, was dropped as stale.
    propertyParameters([scripted(SEQUENCE, 'E1 E2 E3 E5⏸ E4')]),
  );
});
