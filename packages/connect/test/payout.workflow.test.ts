// Payout failure under the time-skipping test server: a month of following per test, with a
// fake Stripe whose payouts and external accounts the test moves along.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { stripeEventSignal, type Notification } from '@stripe-flows/core';
import { createTimeSkippingEnv } from '@stripe-flows/testing';
import type { ExternalAccountSnapshot, PayoutActivities, PayoutFailureDetails, PayoutFailureInput, PayoutFailureResult, PayoutSnapshot } from '../src/index.js';
import { bundleConnectWorkflows, DAY, flowEvent, queryState, runFlow, sent, unique } from './helpers.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleConnectWorkflows();
});
afterAll(async () => {
  await env?.teardown();
});

const ACCOUNT = 'acct_payee1';

function fakeStripe(payout: PayoutSnapshot) {
  const world = {
    payout,
    paid: [] as PayoutSnapshot[],
    externalAccounts: [{ id: 'ba_old', kind: 'bank_account', last4: '6789', status: 'errored', defaultForCurrency: true }] as ExternalAccountSnapshot[],
  };
  const calls: Array<{ name: string; account: string }> = [];
  const notices: Notification[] = [];
  const activities = {
    async retrievePayout(call) {
      calls.push({ name: 'retrievePayout', account: call.account });
      return { ...world.payout };
    },
    async listPaidPayoutsSince(call) {
      calls.push({ name: 'listPaidPayoutsSince', account: call.account });
      return world.paid.filter((p) => p.created > call.createdAfter);
    },
    async listExternalAccounts(call) {
      calls.push({ name: 'listExternalAccounts', account: call.account });
      return world.externalAccounts.map((e) => ({ ...e }));
    },
    async notify(n) {
      notices.push(n);
    },
  } satisfies PayoutActivities;
  return { world, calls, notices, activities };
}

function failedPayout(created: number, overrides: Partial<PayoutSnapshot> = {}): PayoutSnapshot {
  return { id: `po_${unique()}`, amount: 12_345, currency: 'usd', status: 'failed', created, arrivalDate: created + 2 * 86_400, automatic: true, destination: 'ba_old', failureCode: 'account_closed', ...overrides };
}

const now = async () => Math.floor((await env.currentTimeMs()) / 1000);
const run = (fake: ReturnType<typeof fakeStripe>, created: number, input: Partial<PayoutFailureInput>, during?: Parameters<typeof runFlow>[0]['during']) =>
  runFlow<PayoutFailureResult>({
    env,
    bundle,
    activities: fake.activities,
    workflowType: 'followPayoutFailure',
    workflowId: `connect.payout:${fake.world.payout.id}`,
    input: { objectId: fake.world.payout.id, ...input },
    first: flowEvent('payout.failed', fake.world.payout, created, { account: ACCOUNT }),
    ...(during ? { during } : {}),
  });

describe('payout failure (connect.payout)', () => {
  it('tells the account why, reminds, notices the new bank account, and ends when a later payout is paid', async () => {
    const t0 = await now();
    const fake = fakeStripe(failedPayout(t0));
    const payout = fake.world.payout;
    const result = await run(fake, t0, {}, async (handle) => {
      // Redelivery, an older payout.paid (the payout was paid, then failed), and a same-second one.
      await handle.signal(stripeEventSignal, flowEvent('payout.failed', payout, t0, { account: ACCOUNT, id: 'evt_dup' }));
      await handle.signal(stripeEventSignal, flowEvent('payout.failed', payout, t0, { account: ACCOUNT, id: 'evt_dup' }));
      await handle.signal(stripeEventSignal, flowEvent('payout.paid', { ...payout, status: 'paid' }, t0 - 3 * 86_400, { account: ACCOUNT }));
      await handle.signal(stripeEventSignal, flowEvent('payout.paid', { ...payout, status: 'paid' }, t0, { account: ACCOUNT }));
      await env.sleep(8 * DAY - 3600_000);
      let state = await queryState<PayoutFailureDetails>(handle);
      expect(state.details).toMatchObject({ failureCode: 'account_closed', remindersSent: 2, newExternalAccount: null });
      expect(state.step).toBe('waiting_for_external_account');
      expect(state.events).toMatchObject({ duplicates: 1, stale: 2 });
      fake.world.externalAccounts.push({ id: 'ba_new', kind: 'bank_account', last4: '4242', status: 'new', defaultForCurrency: true });
      await env.sleep(DAY);
      state = await queryState<PayoutFailureDetails>(handle);
      expect(state.step).toBe('waiting_for_payout');
      expect(state.details.newExternalAccount).toBe('ba_new');
      fake.world.paid.push({ ...failedPayout(t0 + 9 * 86_400), id: 'po_later', status: 'paid', failureCode: null, destination: 'ba_new' });
    });
    expect(result).toEqual({ payoutId: payout.id, outcome: 'recovered', failureCode: 'account_closed', recoveredBy: 'po_later', newExternalAccount: 'ba_new', remindersSent: 2 });
    expect(sent(fake.notices)).toEqual([
      'connect.payout.failed→account',
      'connect.payout.failed→operator',
      'connect.payout.reminder→account',
      'connect.payout.reminder→account',
      'connect.payout.external_account_added→account',
      'connect.payout.recovered→operator',
    ]);
    expect(fake.notices[0]?.data).toMatchObject({ payoutId: payout.id, failureCode: 'account_closed', amount: 12_345, advice: 'The bank account is closed: add a new bank account.' });
    // Every read acts for the connected account the event came from.
    expect(new Set(fake.calls.map((c) => c.account))).toEqual(new Set([ACCOUNT]));
  });

  it('escalates to the operator and stops after giveUpAfterDays when nothing is fixed', async () => {
    const t0 = await now();
    const fake = fakeStripe(failedPayout(t0, { failureCode: 'no_account', automatic: false }));
    const result = await run(fake, t0, { policy: { remindAfterDays: [1], escalateAfterDays: 5, giveUpAfterDays: 10, checkEveryHours: 48 } });
    expect(result).toMatchObject({ outcome: 'unresolved', remindersSent: 1, recoveredBy: null });
    expect(sent(fake.notices)).toEqual([
      'connect.payout.failed→account',
      'connect.payout.failed→operator',
      'connect.payout.reminder→account',
      'connect.payout.escalated→operator',
      'connect.payout.unresolved→operator',
    ]);
    expect(fake.calls.filter((c) => c.name === 'listPaidPayoutsSince')).toHaveLength(5); // every 48 h over 10 days
  });

  it('tells the operator, not the account, that a manual payout must be made again', async () => {
    const t0 = await now();
    const fake = fakeStripe(failedPayout(t0, { automatic: false }));
    const result = await run(fake, t0, {}, async () => {
      await env.sleep(3_600_000);
      fake.world.externalAccounts.push({ id: 'ba_added', kind: 'bank_account', last4: '1111', status: 'new', defaultForCurrency: true });
      await env.sleep(2 * DAY);
      fake.world.paid.push({ ...failedPayout(t0 + 2 * 86_400), id: 'po_manual', status: 'paid', failureCode: null });
    });
    expect(result.outcome).toBe('recovered');
    const added = fake.notices.find((n) => n.kind === 'connect.payout.external_account_added');
    expect(added?.recipient.role).toBe('operator');
    expect(added?.data.nextStep).toBe('create a new payout');
  });

  it('ends at once when the payout, read now, is not failed', async () => {
    const t0 = await now();
    const fake = fakeStripe(failedPayout(t0));
    fake.world.payout = { ...fake.world.payout, status: 'paid', failureCode: null };
    const result = await run(fake, t0, {});
    expect(result.outcome).toBe('not_failed');
    expect(fake.notices).toEqual([]);
  });
});
