// Property: a connected account's payout that was paid, then failed, while a later payout was
// paid, is followed to the same end whatever order (and however many times) the events arrive:
// one failure notice to the account and the operator, recovered by the later payout.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stripeId } from '@stripe-flows/testing';
import type { PayoutFailureDetails, PayoutFailureResult } from '../src/index.js';
import {
  actionsDone,
  anyDeliveries,
  inOrder,
  normalizer,
  propertyParameters,
  noticeKeys,
  runFlow,
  startHarness,
  stripeEvent,
  stripeWrites,
  wrongStripeAccount,
  type Delivery,
  type Harness,
} from './properties.helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const SEQUENCE = [
  'payout.paid @t (po1)',
  'payout.failed @t+1 (po1, account_closed)',
  'payout.paid @t+1 (po2, the next payout)',
] as const;

/**
 * po1 was paid, then failed (account closed); the account added a new bank account and its next
 * payout, po2, was paid. Stripe (the double) holds all of that while the events arrive.
 */
async function payoutRun(deliveries: readonly Delivery[]) {
  h.reset();
  const t = (await h.now()) - 60;
  const acct = stripeId('acct');
  const [po1, po2] = [stripeId('po'), stripeId('po')];
  const [baOld, baNew] = [stripeId('ba'), stripeId('ba')];
  const payout = (id: string, fields: Record<string, unknown>) => ({ id, amount: 12_345, currency: 'usd', automatic: true, failure_code: null, failure_message: null, ...fields });
  const paid1 = payout(po1, { status: 'paid', destination: baOld, created: t - 3 * 86_400, arrival_date: t });
  const failed1 = { ...paid1, status: 'failed', failure_code: 'account_closed', failure_message: 'The bank account has been closed.' };
  const paid2 = payout(po2, { status: 'paid', destination: baNew, created: t - 86_400, arrival_date: t + 1 });

  h.stripe.seed('account', { id: acct, charges_enabled: true, payouts_enabled: true, details_submitted: true });
  h.stripe.seed('bank_account', { id: baOld, account: acct, last4: '6789', status: 'errored' });
  h.stripe.seed('bank_account', { id: baNew, account: acct, last4: '4242', status: 'new' });
  h.stripe.seed('payout', failed1, { stripeAccount: acct });
  h.stripe.seed('payout', paid2, { stripeAccount: acct });

  const on = { account: acct };
  const events = [
    stripeEvent('payout.paid', { ...on, created: t, object: paid1 }),
    stripeEvent('payout.failed', { ...on, created: t + 1, object: failed1 }),
    stripeEvent('payout.paid', { ...on, created: t + 1, object: paid2 }),
  ];
  const norm = normalizer({ [acct]: '<acct>', [po1]: '<po1>', [po2]: '<po2>', [baOld]: '<ba_old>', [baNew]: '<ba_new>' });
  const record = await runFlow<PayoutFailureResult, PayoutFailureDetails>(h, {
    workflowId: `connect.payout:${po1}`,
    events,
    deliveries,
    idleSteps: ['waiting_for_external_account', 'waiting_for_payout', 'ended'],
  });
  return { record, norm, acct };
}

function endState({ record, norm }: Awaited<ReturnType<typeof payoutRun>>) {
  return {
    result: norm.value(record.result),
    step: record.final.step,
    status: record.final.status,
    details: norm.value(record.final.details),
    done: actionsDone(record.final, norm),
  };
}

it('any order of deliveries, with duplicates, ends where the in-order run ends, each notice once', async () => {
  const canonical = await payoutRun(inOrder(SEQUENCE));
  const expected = endState(canonical);
  expect(expected.result).toEqual({ payoutId: '<po1>', outcome: 'recovered', failureCode: 'account_closed', recoveredBy: '<po2>', newExternalAccount: null, remindersSent: 0 });
  const notices = noticeKeys(canonical.record.notices, canonical.norm);
  expect(notices).toEqual({
    'connect.payout.failed→account': ['connect.payout:<po1>:failed'],
    'connect.payout.failed→operator': ['connect.payout:<po1>:failed-operator'],
    'connect.payout.recovered→operator': ['connect.payout:<po1>:recovered'],
  });

  await fc.assert(
    fc.asyncProperty(anyDeliveries(SEQUENCE), async (deliveries) => {
      const run = await payoutRun(deliveries);
      expect(endState(run)).toEqual(expected);
      expect(noticeKeys(run.record.notices, run.norm)).toEqual(notices);
      // The flow only reads Stripe.
      expect(stripeWrites(run.record.requests, run.norm)).toEqual({});
      // Payouts live on the connected account (Stripe-Account); its external accounts are listed by the platform.
      const asAccount = (r: { path: string }) => (r.path.startsWith('/v1/payouts') ? run.acct : undefined);
      expect(wrongStripeAccount(run.record.requests, asAccount, run.norm)).toEqual([]);
      expect(run.record.requests.filter((r) => r.path.startsWith('/v1/payouts')).length).toBeGreaterThanOrEqual(2);
    }),
    propertyParameters(),
  );
});
