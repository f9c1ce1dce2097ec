// Transfer reversal under the time-skipping test server, with a fake Stripe that keeps charges,
// refunds, transfers and fees the way Stripe does (what remains, what was reversed for what).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { stripeEventSignal, type Notification } from '@stripe-flows/core';
import { createTimeSkippingEnv } from '@stripe-flows/testing';
import type {
  ChargeSnapshot,
  DisputeSnapshot,
  RefundSnapshot,
  ReversalActivities,
  ReversalDetails,
  ReversalInput,
  ReversalRequest,
  ReversalResult,
  TransferSnapshot,
} from '../src/index.js';
import { bundleConnectWorkflows, DAY, HOUR, flowEvent, queryState, runFlow, sent, unique } from './helpers.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleConnectWorkflows();
});
afterAll(async () => {
  await env?.teardown();
});

interface World {
  charge: ChargeSnapshot;
  refunds: RefundSnapshot[];
  transfers: Record<string, TransferSnapshot>;
  group: string[];
  fee?: { id: string; amount: number; amountRefunded: number; refundedFor: string[] };
  /** Reversal attempts to answer with balance_insufficient. */
  shortBalance: number;
}

/** A fake Stripe over `world`: reversals and fee refunds change it as Stripe would; every call recorded. */
function fakeStripe(world: World) {
  const reversals: ReversalRequest[] = [];
  const attempts: ReversalRequest[] = [];
  const reads: Array<{ name: string; account?: string }> = [];
  const notices: Notification[] = [];
  const feeRefunds: Array<{ feeId: string; amount: number; idempotencyKey: string }> = [];
  const activities = {
    async retrieveCharge(call) {
      reads.push({ name: 'retrieveCharge', ...(call.account ? { account: call.account } : {}) });
      return { ...world.charge };
    },
    async listRefunds(call) {
      reads.push({ name: 'listRefunds', ...(call.account ? { account: call.account } : {}) });
      return world.refunds.map((r) => ({ ...r }));
    },
    async listGroupTransfers() {
      return [...world.group];
    },
    async retrieveTransfer({ transferId }) {
      const t = world.transfers[transferId];
      if (!t) throw ApplicationFailure.nonRetryable(`No such transfer ${transferId}`, 'stripe.resource_missing');
      return structuredClone(t);
    },
    async reverseTransfer(request) {
      attempts.push(request);
      if (world.shortBalance > 0) {
        world.shortBalance--;
        throw ApplicationFailure.nonRetryable('Insufficient funds in the connected account balance.', 'stripe.balance_insufficient');
      }
      const t = world.transfers[request.transferId];
      if (!t || request.amount > t.amount - t.amountReversed) throw ApplicationFailure.nonRetryable('over remaining', 'stripe.parameter_invalid_integer');
      t.amountReversed += request.amount;
      t.reversedFor.push(request.forId);
      reversals.push(request);
      return { reversalId: `trr_${unique()}`, amount: request.amount };
    },
    async retrieveApplicationFee() {
      if (!world.fee) throw new Error('no fee in this world');
      return structuredClone(world.fee);
    },
    async refundApplicationFee(request) {
      if (!world.fee) throw new Error('no fee in this world');
      world.fee.amountRefunded += request.amount;
      world.fee.refundedFor.push(request.forId);
      feeRefunds.push({ feeId: request.feeId, amount: request.amount, idempotencyKey: request.idempotencyKey });
      return { feeRefundId: `fr_${unique()}`, amount: request.amount };
    },
    async notify(n) {
      notices.push(n);
    },
  } satisfies ReversalActivities;
  return { activities, reversals, attempts, reads, notices, feeRefunds };
}

function destinationCharge(amount = 10_000, transferAmount = 9_000): World {
  const transferId = `tr_${unique()}`;
  return {
    charge: { id: `ch_${unique()}`, amount, amountRefunded: 0, currency: 'usd', transferId, destination: 'acct_seller1', transferGroup: `group_pi_${unique()}`, applicationFeeId: null, applicationFeeAmount: null },
    refunds: [],
    transfers: { [transferId]: { id: transferId, amount: transferAmount, amountReversed: 0, currency: 'usd', destination: 'acct_seller1', reversedFor: [] } },
    group: [],
    shortBalance: 0,
  };
}

/** Refund `amount` of the world's charge at `created` (as Stripe would list it). */
function refund(world: World, amount: number, created: number, extra: Partial<RefundSnapshot> = {}): RefundSnapshot {
  const r: RefundSnapshot = { id: `re_${unique()}`, amount, chargeId: world.charge.id, created, status: 'succeeded', transferReversalId: null, ...extra };
  world.refunds.push(r);
  world.charge.amountRefunded += r.status === 'succeeded' ? amount : 0;
  return r;
}

const now = async () => Math.floor((await env.currentTimeMs()) / 1000);
const refunded = (world: World, created: number, account?: string) =>
  flowEvent('charge.refunded', { ...world.charge }, created, account ? { account } : {});
const run = (fake: ReturnType<typeof fakeStripe>, world: World, first: ReturnType<typeof refunded>, input: Partial<ReversalInput>, during?: Parameters<typeof runFlow>[0]['during']) =>
  runFlow<ReversalResult>({
    env,
    bundle,
    activities: fake.activities,
    workflowType: 'reverseTransfer',
    workflowId: `connect.reversal:${world.charge.id}`,
    input: { objectId: world.charge.id, ...input },
    first,
    ...(during ? { during } : {}),
  });
const amounts = (fake: ReturnType<typeof fakeStripe>) => fake.reversals.map((r) => [r.forId, r.amount]);

describe('transfer reversal (connect.reversal)', () => {
  it('reverses each partial refund once, proportionally, under duplicated and reordered events', async () => {
    const world = destinationCharge();
    const fake = fakeStripe(world);
    const t0 = await now();
    const first = refund(world, 3_000, t0);
    const result = await run(fake, world, refunded(world, t0), { policy: { refundApplicationFee: true } }, async (handle) => {
      const early = refunded(world, t0);
      await handle.signal(stripeEventSignal, early);
      await env.sleep(DAY);
      expect(fake.reversals).toHaveLength(1);
      const state = await queryState<ReversalDetails>(handle);
      expect(state.step).toBe('watching');
      expect(state.details.handled).toEqual({ [first.id]: 'reversed' });
      // The rest is refunded; its event and a redelivery of the first arrive in reverse order.
      refund(world, 7_000, t0 + 5);
      await handle.signal(stripeEventSignal, refunded(world, t0 + 5));
      await handle.signal(stripeEventSignal, early);
    });
    const transfer = world.charge.transferId ?? '';
    expect(result.outcome).toBe('settled');
    expect(amounts(fake)).toEqual([[world.refunds[0]?.id, 2_700], [world.refunds[1]?.id, 6_300]]);
    expect(world.transfers[transfer]?.amountReversed).toBe(9_000);
    expect(fake.reversals.every((r) => r.refundApplicationFee && r.transferId === transfer && r.chargeId === world.charge.id)).toBe(true);
    // Keys from the workflow id and the refund id: stable across retries, one per refund.
    expect(fake.reversals.map((r) => r.idempotencyKey)).toEqual(world.refunds.map((r) => `connect.reversal:${world.charge.id}:reverse:${r.id}:${transfer}`));
  });

  it('reconciles all refunds on a late event that arrives first, then treats the older event as stale', async () => {
    const world = destinationCharge(1_000, 333);
    const fake = fakeStripe(world);
    const t0 = await now();
    refund(world, 500, t0);
    const older = refunded(world, t0);
    refund(world, 500, t0 + 1);
    const result = await run(fake, world, refunded(world, t0 + 1), {}, async (handle) => {
      await handle.signal(stripeEventSignal, older);
      await env.sleep(HOUR);
    });
    // Cumulative shares: 166 + 167 = the whole transfer, to the cent.
    expect(amounts(fake).map(([, a]) => a)).toEqual([166, 167]);
    expect(result.outcome).toBe('settled');
    expect(fake.reversals.every((r) => !r.refundApplicationFee)).toBe(true);
  });

  it('never reverses more than the transfer has left, and skips refunds Stripe already reversed', async () => {
    const world = destinationCharge(10_000, 9_000);
    const transfer = world.transfers[world.charge.transferId ?? ''];
    if (!transfer) throw new Error('fixture');
    transfer.amountReversed = 8_000; // reversed by hand in the Dashboard
    const fake = fakeStripe(world);
    const t0 = await now();
    refund(world, 2_000, t0, { transferReversalId: 'trr_by_stripe' }); // refunded with reverse_transfer=true
    refund(world, 5_000, t0 + 1);
    const result = await run(fake, world, refunded(world, t0 + 1), { policy: { watchDays: 2 } });
    expect(amounts(fake)).toEqual([[world.refunds[1]?.id, 1_000]]);
    expect(transfer.amountReversed).toBe(9_000);
    expect(result.outcome).toBe('watch_ended');
  });

  it('retries a reversal the connected balance cannot cover on the policy schedule, with a fresh key, telling account and operator once', async () => {
    const world = destinationCharge();
    world.shortBalance = 2;
    const fake = fakeStripe(world);
    const t0 = await now();
    const r = refund(world, 10_000, t0);
    const result = await run(fake, world, refunded(world, t0), { policy: { insufficientBalanceRetryHours: [2, 24] } }, async (handle) => {
      await env.sleep(HOUR);
      const state = await queryState<ReversalDetails>(handle);
      expect(state.step).toBe('waiting_for_balance');
      expect(state.details.outstanding[r.id]).toMatchObject({ attempts: 1 });
      expect(state.next?.action).toBe('retry reversals the balance could not cover');
      await env.sleep(2 * DAY);
    });
    expect(result.outcome).toBe('settled');
    expect(fake.attempts.map((a) => a.idempotencyKey.split(':').slice(-1)[0])).toEqual([world.charge.transferId, 'retry-1', 'retry-2']);
    expect(fake.attempts.every((a) => a.amount === 9_000)).toBe(true);
    expect(fake.reversals).toHaveLength(1);
    expect(sent(fake.notices)).toEqual(['connect.reversal.balance_insufficient→account', 'connect.reversal.balance_insufficient→operator']);
    expect(fake.notices[0]?.recipient.accountId).toBe('acct_seller1');
  });

  it('gives up after giveUpAfterDays and tells the operator, without dropping it silently', async () => {
    const world = destinationCharge();
    world.shortBalance = 1_000;
    const fake = fakeStripe(world);
    const t0 = await now();
    const r = refund(world, 10_000, t0);
    const result = await run(fake, world, refunded(world, t0), { policy: { insufficientBalanceRetryHours: [12], giveUpAfterDays: 2 } });
    expect(result).toMatchObject({ outcome: 'settled', abandoned: [r.id], reversals: [] });
    expect(fake.attempts).toHaveLength(4); // at 0, 12, 24 and 36 hours; the 48 h check gives up
    expect(sent(fake.notices)).toEqual(['connect.reversal.balance_insufficient→account', 'connect.reversal.balance_insufficient→operator', 'connect.reversal.abandoned→operator']);
  });

  it('reverses the disputed share when a dispute is lost, keyed by the dispute id', async () => {
    const world = destinationCharge(10_000, 8_000);
    const fake = fakeStripe(world);
    const t0 = await now();
    const lost: DisputeSnapshot = { id: `dp_${unique()}`, chargeId: world.charge.id, amount: 10_000, currency: 'usd', status: 'lost', created: t0 };
    const result = await runFlow<ReversalResult>({
      env, bundle, activities: fake.activities, workflowType: 'reverseTransfer', workflowId: `connect.reversal:${world.charge.id}`,
      input: { objectId: world.charge.id, policy: { refundApplicationFeeOnDispute: true } },
      first: flowEvent('charge.dispute.closed', lost, t0),
    });
    expect(result.outcome).toBe('settled');
    expect(fake.reversals).toEqual([expect.objectContaining({ forId: lost.id, amount: 8_000, refundApplicationFee: true, idempotencyKey: `connect.reversal:${world.charge.id}:reverse:${lost.id}:${world.charge.transferId}` })]);
  });

  it('splits a refund across a transfer group, proportionally to each transfer', async () => {
    const world = destinationCharge(10_000, 0);
    world.charge.transferId = null;
    world.transfers = {
      tr_group_a: { id: 'tr_group_a', amount: 6_000, amountReversed: 0, currency: 'usd', destination: 'acct_a', reversedFor: [] },
      tr_group_b: { id: 'tr_group_b', amount: 3_000, amountReversed: 0, currency: 'usd', destination: 'acct_b', reversedFor: [] },
    };
    world.group = ['tr_group_a', 'tr_group_b'];
    const fake = fakeStripe(world);
    const t0 = await now();
    refund(world, 5_000, t0);
    await run(fake, world, refunded(world, t0), { policy: { watchDays: 1 } });
    expect(fake.reversals.map((r) => [r.transferId, r.amount])).toEqual([['tr_group_a', 3_000], ['tr_group_b', 1_500]]);
  });

  it('refunds the application fee of a direct charge when policy asks, reading the charge as the connected account', async () => {
    const world = destinationCharge(10_000, 0);
    world.charge = { ...world.charge, transferId: null, destination: null, transferGroup: null, applicationFeeId: 'fee_direct1', applicationFeeAmount: 500 };
    world.transfers = {};
    world.fee = { id: 'fee_direct1', amount: 500, amountRefunded: 0, refundedFor: [] };
    const fake = fakeStripe(world);
    const t0 = await now();
    const r = refund(world, 4_000, t0);
    const result = await run(fake, world, refunded(world, t0, 'acct_direct1'), { policy: { refundApplicationFeeOnDirectCharges: true, watchDays: 1 } });
    expect(result.outcome).toBe('watch_ended');
    expect(fake.feeRefunds).toEqual([{ feeId: 'fee_direct1', amount: 200, idempotencyKey: `connect.reversal:${world.charge.id}:fee-refund:${r.id}` }]);
    expect(fake.reads.every((read) => read.account === 'acct_direct1')).toBe(true);
    expect(fake.reversals).toEqual([]);
  });

  it('waits for a pending refund to succeed (charge.refund.updated) before reversing it', async () => {
    const world = destinationCharge();
    const fake = fakeStripe(world);
    const t0 = await now();
    const pending = refund(world, 10_000, t0, { status: 'pending' });
    world.charge.amountRefunded = 10_000;
    const result = await run(fake, world, refunded(world, t0), {}, async (handle) => {
      await env.sleep(DAY);
      expect(fake.reversals).toEqual([]);
      pending.status = 'succeeded';
      await handle.signal(stripeEventSignal, flowEvent('charge.refund.updated', { ...pending }, t0 + 3600));
    });
    expect(result.outcome).toBe('settled');
    expect(amounts(fake)).toEqual([[pending.id, 9_000]]);
  });
});
