// Connect activities on stripe-node against the project's Stripe API double, which records every
// request: who it acted as (Stripe-Account), its idempotency key and its exact form body.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import type { Notification } from '@stripe-flows/core';
import { StripeApiDouble, stripeId } from '@stripe-flows/testing';
import { createConnectActivities, REVERSED_FOR_KEY, type OnboardingLinkNotice } from '../src/index.js';

let double: StripeApiDouble;
const notices: Notification[] = [];
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR', () => undefined) });
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args) as Promise<R>;
const links = { refreshUrl: 'https://platform.example/connect/refresh', returnUrl: 'https://platform.example/connect/return' };
const activities = (withLinks = true) =>
  createConnectActivities({ stripe: double.client(), notifier: { notify: async (n) => void notices.push(n) }, ...(withLinks ? { onboardingLinks: links } : {}) });

beforeAll(async () => {
  double = await StripeApiDouble.start();
});
afterAll(async () => {
  await double?.stop();
});
beforeEach(() => {
  double.reset();
  notices.length = 0;
});

/** Why an activity failed: the ApplicationFailure stripeCall made of Stripe's error. */
async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('onboarding activities', () => {
  const notice = (accountId: string): OnboardingLinkNotice => ({
    accountId,
    linkType: 'account_onboarding',
    collect: 'eventually_due',
    notification: { kind: 'connect.onboarding.reminder', recipient: { role: 'account', accountId }, workflowId: `connect.onboarding:${accountId}`, idempotencyKey: `connect.onboarding:${accountId}:reminder:1`, data: { accountId } },
  });

  it('retrieveAccount reads the account as the platform and keeps only requirement names and switches', async () => {
    double.seed('account', { id: 'acct_onb1', charges_enabled: false, payouts_enabled: false, details_submitted: true, email: 'owner@example.com' });
    const account = await run(activities().retrieveAccount, { accountId: 'acct_onb1' });
    expect(account).toMatchObject({ id: 'acct_onb1', chargesEnabled: false, detailsSubmitted: true });
    expect(account.requirements.currentlyDue).toContain('external_account');
    expect(JSON.stringify(account)).not.toContain('example.com');
    expect(double.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/accounts/acct_onb1' });
    expect(double.requests.at(-1)?.stripeAccount).toBeUndefined();
  });

  it('sendOnboardingLink mints a link as the platform (account param, no Stripe-Account) and sends it with the notice', async () => {
    double.seed('account', { id: 'acct_onb2' });
    const { linkExpiresAt } = await run(activities().sendOnboardingLink, notice('acct_onb2'));
    const [request] = double.sideEffects({ path: '/v1/account_links' });
    expect(request?.stripeAccount).toBeUndefined();
    expect(request?.params).toEqual({
      account: 'acct_onb2',
      type: 'account_onboarding',
      refresh_url: links.refreshUrl,
      return_url: links.returnUrl,
      collection_options: { fields: 'eventually_due' },
    });
    expect(linkExpiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(notices).toHaveLength(1);
    expect(notices[0]?.data.onboardingUrl).toMatch(new RegExp(`^${double.url}/account_links/`));
    expect(notices[0]?.idempotencyKey).toBe('connect.onboarding:acct_onb2:reminder:1');
  });

  it('mints a new link on every call: links are single-use, never reused', async () => {
    double.seed('account', { id: 'acct_onb3' });
    await run(activities().sendOnboardingLink, notice('acct_onb3'));
    await run(activities().sendOnboardingLink, notice('acct_onb3'));
    expect(double.sideEffects({ path: '/v1/account_links' })).toHaveLength(2);
    expect(notices[0]?.data.onboardingUrl).not.toBe(notices[1]?.data.onboardingUrl);
  });

  it('without configured link URLs still reminds, without a link and without calling Stripe', async () => {
    const result = await run(activities(false).sendOnboardingLink, notice('acct_onb4'));
    expect(result).toEqual({ linkExpiresAt: null });
    expect(double.requests).toHaveLength(0);
    expect(notices[0]?.data).toMatchObject({ onboardingUrl: null, linkUnavailable: expect.stringContaining('onboardingLinks') });
  });

  it('a link for an unknown account fails non-retryably with Stripe\'s code', async () => {
    const error = await failure(run(activities().sendOnboardingLink, notice('acct_missing')));
    expect(error.type).toBe('stripe.resource_missing');
    expect(error.nonRetryable).toBe(true);
    expect(notices).toHaveLength(0);
  });
});

describe('reversal activities', () => {
  function seedTransfer(amount = 9_000) {
    double.seed('account', { id: 'acct_dest1' });
    const id = stripeId('tr');
    double.seed('transfer', { id, amount, currency: 'usd', destination: 'acct_dest1', transfer_group: 'group_1' });
    return id;
  }
  const request = (transferId: string, refundId: string, amount: number) => ({
    transferId,
    amount,
    refundApplicationFee: true,
    forId: refundId,
    chargeId: 'ch_rev1',
    idempotencyKey: `connect.reversal:ch_rev1:reverse:${refundId}:${transferId}`,
  });

  it('reverseTransfer posts the exact amount, refund_application_fee and the refund id, keyed by the refund, as the platform', async () => {
    const transferId = seedTransfer();
    const reversal = await run(activities().reverseTransfer, request(transferId, 're_rev1', 2_700));
    expect(reversal.amount).toBe(2_700);
    const [post] = double.sideEffects({ path: `/v1/transfers/${transferId}/reversals` });
    expect(post?.rawBody.split('&')).toEqual(expect.arrayContaining(['amount=2700', 'refund_application_fee=true', `metadata[${REVERSED_FOR_KEY}]=re_rev1`, 'metadata[charge]=ch_rev1']));
    expect(post?.idempotencyKey).toBe(`connect.reversal:ch_rev1:reverse:re_rev1:${transferId}`);
    expect(post?.stripeAccount).toBeUndefined();

    // A retried activity (same key) is a replay, not a second reversal.
    await run(activities().reverseTransfer, request(transferId, 're_rev1', 2_700));
    expect(double.sideEffects({ path: `/v1/transfers/${transferId}/reversals` })).toHaveLength(1);
    const transfer = await run(activities().retrieveTransfer, { transferId });
    expect(transfer).toEqual({ id: transferId, amount: 9_000, amountReversed: 2_700, currency: 'usd', destination: 'acct_dest1', reversedFor: ['re_rev1'] });
  });

  it('a reversal above what remains is refused by Stripe and not retried', async () => {
    const transferId = seedTransfer(1_000);
    await run(activities().reverseTransfer, request(transferId, 're_a', 800));
    const error = await failure(run(activities().reverseTransfer, request(transferId, 're_b', 300)));
    expect(error.nonRetryable).toBe(true);
    expect(error.type).toBe('stripe.parameter_invalid_integer');
    expect(error.message).toContain(`POST /v1/transfers/${transferId}/reversals`);
  });

  it('an insufficient connected balance surfaces as stripe.balance_insufficient and reverses nothing', async () => {
    const transferId = seedTransfer();
    double.inject({ method: 'POST', path: `/v1/transfers/${transferId}/reversals`, fault: { type: 'status', status: 400, code: 'balance_insufficient', message: 'Insufficient funds in the connected account balance.' } });
    const error = await failure(run(activities().reverseTransfer, request(transferId, 're_short', 2_000)));
    expect(error.type).toBe('stripe.balance_insufficient');
    expect(error.nonRetryable).toBe(true);
    expect(double.sideEffects({ path: `/v1/transfers/${transferId}/reversals` })).toHaveLength(0);
    expect((await run(activities().retrieveTransfer, { transferId })).amountReversed).toBe(0);
  });

  it('reads a destination charge, its refunds and its transfer group as the platform', async () => {
    const transferId = seedTransfer();
    double.seed('charge', { id: 'ch_dest1', amount: 10_000, amount_refunded: 3_000, currency: 'usd', transfer: transferId, transfer_group: 'group_1', transfer_data: { destination: 'acct_dest1', amount: null } });
    double.seed('refund', { id: 're_dest2', charge: 'ch_dest1', amount: 1_000, status: 'succeeded', created: 1_700_000_100, transfer_reversal: null });
    double.seed('refund', { id: 're_dest1', charge: 'ch_dest1', amount: 2_000, status: 'succeeded', created: 1_700_000_000, transfer_reversal: null });
    const a = activities();
    expect(await run(a.retrieveCharge, { chargeId: 'ch_dest1' })).toMatchObject({ id: 'ch_dest1', transferId, destination: 'acct_dest1', transferGroup: 'group_1', amountRefunded: 3_000 });
    expect((await run(a.listRefunds, { chargeId: 'ch_dest1' })).map((r) => [r.id, r.amount])).toEqual([['re_dest1', 2_000], ['re_dest2', 1_000]]);
    expect(await run(a.listGroupTransfers, { transferGroup: 'group_1' })).toEqual([transferId]);
    expect(double.requests.every((r) => r.stripeAccount === undefined)).toBe(true);
  });

  it('reads a direct charge as the connected account (Stripe-Account) and refunds its application fee as the platform', async () => {
    double.seed('account', { id: 'acct_direct1' });
    double.seed('charge', { id: 'ch_direct1', amount: 10_000, amount_refunded: 4_000, currency: 'usd', application_fee: 'fee_direct1', application_fee_amount: 500 }, { stripeAccount: 'acct_direct1' });
    double.seed('refund', { id: 're_direct1', charge: 'ch_direct1', amount: 4_000, status: 'succeeded' }, { stripeAccount: 'acct_direct1' });
    double.seed('application_fee', { id: 'fee_direct1', amount: 500, charge: 'ch_direct1', account: 'acct_direct1' });
    const a = activities();
    // Without the header the charge is invisible: it lives on the connected account.
    expect((await failure(run(a.retrieveCharge, { chargeId: 'ch_direct1' }))).type).toBe('stripe.resource_missing');
    expect((await run(a.retrieveCharge, { chargeId: 'ch_direct1', account: 'acct_direct1' })).applicationFeeId).toBe('fee_direct1');
    expect((await run(a.listRefunds, { chargeId: 'ch_direct1', account: 'acct_direct1' })).map((r) => r.id)).toEqual(['re_direct1']);
    expect(double.requests.slice(1).map((r) => r.stripeAccount)).toEqual(['acct_direct1', 'acct_direct1']);

    const key = 'connect.reversal:ch_direct1:fee-refund:re_direct1';
    const refund = await run(a.refundApplicationFee, { feeId: 'fee_direct1', amount: 200, forId: 're_direct1', chargeId: 'ch_direct1', idempotencyKey: key });
    expect(refund.amount).toBe(200);
    const [post] = double.sideEffects({ path: '/v1/application_fees/fee_direct1/refunds' });
    expect(post?.rawBody.split('&')).toContain('amount=200');
    expect(post).toMatchObject({ idempotencyKey: key });
    expect(post?.stripeAccount).toBeUndefined();
    expect(await run(a.retrieveApplicationFee, { feeId: 'fee_direct1' })).toEqual({ id: 'fee_direct1', amount: 500, amountRefunded: 200, refundedFor: ['re_direct1'] });
  });
});

describe('payout activities', () => {
  it('reads the payout and later paid payouts as the connected account (Stripe-Account)', async () => {
    double.seed('account', { id: 'acct_po1' });
    double.seed('payout', { id: 'po_failed1', amount: 5_000, currency: 'usd', status: 'failed', failure_code: 'account_closed', destination: 'ba_po1', created: 1_700_000_000 }, { stripeAccount: 'acct_po1' });
    double.seed('payout', { id: 'po_paid1', amount: 5_000, currency: 'usd', status: 'paid', created: 1_700_100_000 }, { stripeAccount: 'acct_po1' });
    double.seed('payout', { id: 'po_paid0', amount: 700, currency: 'usd', status: 'paid', created: 1_699_000_000 }, { stripeAccount: 'acct_po1' });
    const a = activities();
    const payout = await run(a.retrievePayout, { payoutId: 'po_failed1', account: 'acct_po1' });
    expect(payout).toMatchObject({ id: 'po_failed1', status: 'failed', failureCode: 'account_closed', destination: 'ba_po1' });
    const paid = await run(a.listPaidPayoutsSince, { account: 'acct_po1', createdAfter: 1_700_000_000 });
    expect(paid.map((p) => p.id)).toEqual(['po_paid1']);
    expect(double.requests.map((r) => r.stripeAccount)).toEqual(['acct_po1', 'acct_po1']);
    expect(double.requests.at(-1)?.query).toMatchObject({ status: 'paid', created: { gt: '1700000000' } });
  });

  it('lists external accounts as the platform under the account, with last4 and status only', async () => {
    double.seed('account', { id: 'acct_po2' });
    double.seed('bank_account', { id: 'ba_po2', account: 'acct_po2', last4: '6789', status: 'errored', account_holder_name: 'Jane Austen', routing_number: '110000000' });
    const list = await run(activities().listExternalAccounts, { account: 'acct_po2' });
    expect(list).toEqual([{ id: 'ba_po2', kind: 'bank_account', last4: '6789', status: 'errored', defaultForCurrency: expect.any(Boolean) }]);
    expect(double.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/accounts/acct_po2/external_accounts' });
    expect(double.requests.at(-1)?.stripeAccount).toBeUndefined();
  });
});
