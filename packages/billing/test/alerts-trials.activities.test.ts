// Usage alert and trial ending activities on stripe-node against the project's Stripe API double
// (stateful, every request recorded), plus a contract pass against stripe-mock (Stripe's OpenAPI
// spec) so the requests are ones Stripe itself accepts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import type Stripe from 'stripe';
import { startStripeMock, stripeId, StripeApiDouble, type RunningStripeMock } from '@stripe-flows/testing';
import { createUsageAlertActivities } from '../src/activities/alerts.js';
import { createTrialActivities } from '../src/activities/trials.js';

let double: StripeApiDouble;
let mock: RunningStripeMock;
// Activity failures are the point of some cases: keep the SDK's failure logs out of the output.
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR', () => undefined) });
/** Run an activity in the mock activity context, keeping its return type. */
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args) as Promise<R>;
const trials = () => createTrialActivities({ stripe: double.client() });
const alerts = () => createUsageAlertActivities({ stripe: double.client() });
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

beforeAll(async () => {
  [double, mock] = await Promise.all([StripeApiDouble.start(), startStripeMock()]);
});
afterAll(async () => {
  await Promise.all([double?.stop(), mock?.stop()]);
});

/** A customer (with contact details, which must never reach the flow) and a trialing subscription. */
function trialingSubscription(
  customer: Record<string, unknown> = {},
  subscription: Record<string, unknown> = {},
  opts: { stripeAccount?: string } = {},
): { subscriptionId: string; customerId: string } {
  const customerId = stripeId('cus');
  const subscriptionId = stripeId('sub');
  double.seed('customer', { id: customerId, email: 'jenny@example.com', name: 'Jenny Rosen', default_source: null, invoice_settings: { default_payment_method: null }, ...customer }, opts);
  double.seed('subscription', {
    id: subscriptionId,
    customer: customerId,
    status: 'trialing',
    trial_end: inAnHour() + 3 * 86400,
    default_payment_method: null,
    default_source: null,
    trial_settings: { end_behavior: { missing_payment_method: 'cancel' } },
    ...subscription,
  }, opts);
  return { subscriptionId, customerId };
}

function meteredItems(meters: Array<string | null>, hasMore = false) {
  return {
    object: 'list',
    has_more: hasMore,
    url: '/v1/subscription_items',
    data: meters.map((meter, i) => ({
      id: stripeId('si'),
      object: 'subscription_item',
      quantity: 1,
      price: { id: `price_${i}`, object: 'price', recurring: { interval: 'month', interval_count: 1, meter, usage_type: meter ? 'metered' : 'licensed' } },
    })),
  };
}

describe('checkTrialPaymentMethod (Stripe API double)', () => {
  it("finds the subscription's own default payment method with one read", async () => {
    const { subscriptionId } = trialingSubscription({}, { default_payment_method: 'pm_1SubDefault' });
    const before = double.requests.length;
    const check = await run(trials().checkTrialPaymentMethod, { subscriptionId });
    expect(check.paymentMethod).toEqual({ onFile: true, via: 'subscription_default', attachedButNotDefault: false, customerDeleted: false });
    expect(check.subscription).toMatchObject({ id: subscriptionId, status: 'trialing', hasSubscriptionPaymentMethod: true, missingPaymentMethodBehavior: 'cancel' });
    const requests = double.requests.slice(before);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/subscriptions/${subscriptionId}`]);
    expect(requests[0]?.query).toEqual({ expand: ['customer'] });
  });

  it("falls back to the customer's invoice_settings.default_payment_method, then default_source, as Stripe charges", async () => {
    const viaSettings = trialingSubscription({ invoice_settings: { default_payment_method: 'pm_1CustomerDefault' }, default_source: 'card_1Also' });
    const viaSource = trialingSubscription({ default_source: 'card_1Legacy' });
    const a = await run(trials().checkTrialPaymentMethod, { subscriptionId: viaSettings.subscriptionId });
    const b = await run(trials().checkTrialPaymentMethod, { subscriptionId: viaSource.subscriptionId });
    expect([a.paymentMethod.via, b.paymentMethod.via]).toEqual(['customer_invoice_settings', 'customer_default_source']);
    expect([a.paymentMethod.onFile, b.paymentMethod.onFile]).toEqual([true, true]);
  });

  it('tells "attached but not default" from "none at all" by listing the customer\'s payment methods', async () => {
    const attached = trialingSubscription();
    double.seed('payment_method', { id: stripeId('pm'), customer: attached.customerId, type: 'card' });
    const none = trialingSubscription();
    const before = double.requests.length;
    const a = await run(trials().checkTrialPaymentMethod, { subscriptionId: attached.subscriptionId });
    const b = await run(trials().checkTrialPaymentMethod, { subscriptionId: none.subscriptionId });
    expect(a.paymentMethod).toEqual({ onFile: false, via: null, attachedButNotDefault: true, customerDeleted: false });
    expect(b.paymentMethod).toEqual({ onFile: false, via: null, attachedButNotDefault: false, customerDeleted: false });
    const lists = double.requests.slice(before).filter((r) => r.path.endsWith('/payment_methods'));
    expect(lists.map((r) => [r.path, r.query])).toEqual([
      [`/v1/customers/${attached.customerId}/payment_methods`, { limit: '1' }],
      [`/v1/customers/${none.customerId}/payment_methods`, { limit: '1' }],
    ]);
  });

  it('reports a deleted customer as having no payment method', async () => {
    const { subscriptionId } = trialingSubscription({ deleted: true });
    const check = await run(trials().checkTrialPaymentMethod, { subscriptionId });
    expect(check.paymentMethod).toEqual({ onFile: false, via: null, attachedButNotDefault: false, customerDeleted: true });
  });

  it('keeps contact details out of what it returns to the flow', async () => {
    const { subscriptionId } = trialingSubscription({ invoice_settings: { default_payment_method: 'pm_1Secret' } });
    const check = await run(trials().checkTrialPaymentMethod, { subscriptionId });
    expect(JSON.stringify(check)).not.toMatch(/jenny|Jenny|pm_1Secret/);
  });

  it("reads as the connected account when the subscription lives on one", async () => {
    const account = 'acct_1TrialConnect';
    const { subscriptionId } = trialingSubscription({}, {}, { stripeAccount: account });
    const before = double.requests.length;
    await run(trials().checkTrialPaymentMethod, { subscriptionId, account });
    expect(double.requests.slice(before).map((r) => r.stripeAccount)).toEqual([account, account]);
  });

  it('fails for good, naming the call, on an unknown subscription', async () => {
    const error = await run(trials().checkTrialPaymentMethod, { subscriptionId: 'sub_doesnotexist' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('stripe.resource_missing');
    expect((error as ApplicationFailure).message).toContain('GET /v1/subscriptions/sub_doesnotexist');
  });

  it('fails for good, naming the field, when Stripe answers a shape the projection does not know', async () => {
    const { subscriptionId } = trialingSubscription({}, { status: 'frozen' });
    const error = await run(trials().checkTrialPaymentMethod, { subscriptionId }).catch((e: unknown) => e);
    expect((error as ApplicationFailure).type).toBe('ProjectionMismatch');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toMatch(/status: .*retrying will not help/);
  });
});

describe('usage limit activities (Stripe API double)', () => {
  function customerWithSubscriptions(specs: Array<Record<string, unknown>>, opts: { stripeAccount?: string } = {}) {
    const customerId = stripeId('cus');
    double.seed('customer', { id: customerId }, opts);
    const ids = specs.map((spec) => {
      const id = stripeId('sub');
      double.seed('subscription', { id, customer: customerId, status: 'active', cancel_at_period_end: false, pause_collection: null, items: meteredItems([null]), ...spec }, opts);
      return id;
    });
    return { customerId, ids };
  }

  it("lists the customer's subscriptions with the meters their prices bill, and no one else's", async () => {
    const { customerId, ids } = customerWithSubscriptions([
      { items: meteredItems(['mtr_1Calls', null]) },
      { items: meteredItems([null]), status: 'trialing' },
      { items: meteredItems(['mtr_1Calls'], true), cancel_at_period_end: true, pause_collection: { behavior: 'void', resumes_at: null } },
    ]);
    customerWithSubscriptions([{ items: meteredItems(['mtr_1Calls']) }]); // another customer
    const list = await run(alerts().listCustomerSubscriptionsForUsage, { customerId });
    expect(list.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id))).toEqual([
      { id: ids[0], status: 'active', cancelAtPeriodEnd: false, pauseCollectionBehavior: null, meterIds: ['mtr_1Calls'], itemsTruncated: false },
      { id: ids[1], status: 'trialing', cancelAtPeriodEnd: false, pauseCollectionBehavior: null, meterIds: [], itemsTruncated: false },
      { id: ids[2], status: 'active', cancelAtPeriodEnd: true, pauseCollectionBehavior: 'void', meterIds: ['mtr_1Calls'], itemsTruncated: true },
    ]);
  });

  it('pages through every subscription (Stripe lists at most 100 a page)', async () => {
    const { customerId } = customerWithSubscriptions(Array.from({ length: 105 }, () => ({})));
    const before = double.requests.length;
    const list = await run(alerts().listCustomerSubscriptionsForUsage, { customerId });
    expect(list).toHaveLength(105);
    expect(double.requests.slice(before).map((r) => r.query.starting_after !== undefined)).toEqual([false, true]);
  });

  it('sets cancel_at_period_end once per idempotency key, as the connected account', async () => {
    const account = 'acct_1LimitConnect';
    const { ids } = customerWithSubscriptions([{}], { stripeAccount: account });
    const subscriptionId = ids[0] ?? '';
    const key = `billing.alert:alrt_1:cus_1:1760000000:limit:cancel_at_period_end:${subscriptionId}`;
    const write = { subscriptionId, account, idempotencyKey: key, action: 'cancel_at_period_end' } as const;
    const updated = await run(alerts().applyUsageLimit, write);
    await run(alerts().applyUsageLimit, write); // activity retry
    expect(updated).toMatchObject({ id: subscriptionId, cancelAtPeriodEnd: true });
    const posts = double.requests.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${subscriptionId}`);
    expect(posts.map((r) => [r.params, r.idempotencyKey, r.stripeAccount, r.replayed])).toEqual([
      [{ cancel_at_period_end: 'true' }, key, account, false],
      [{ cancel_at_period_end: 'true' }, key, account, true],
    ]);
    expect(double.sideEffects({ path: `/v1/subscriptions/${subscriptionId}` })).toHaveLength(1);
  });

  it("pauses collection with the policy's behavior", async () => {
    const { ids } = customerWithSubscriptions([{}]);
    const subscriptionId = ids[0] ?? '';
    const updated = await run(alerts().applyUsageLimit, { subscriptionId, idempotencyKey: `k-${subscriptionId}`, action: 'pause_collection', behavior: 'keep_as_draft' });
    expect(updated.pauseCollectionBehavior).toBe('keep_as_draft');
    expect(double.get('subscription', subscriptionId)?.pause_collection).toMatchObject({ behavior: 'keep_as_draft' });
    expect(double.requests.at(-1)?.params).toEqual({ pause_collection: { behavior: 'keep_as_draft' } });
  });

  it('refuses for good to limit a subscription that was canceled meanwhile', async () => {
    const { ids } = customerWithSubscriptions([{ status: 'canceled' }]);
    const subscriptionId = ids[0] ?? '';
    const error = await run(alerts().applyUsageLimit, { subscriptionId, idempotencyKey: `k-${subscriptionId}`, action: 'cancel_at_period_end' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toContain(`POST /v1/subscriptions/${subscriptionId} (cancel_at_period_end)`);
  });

  it('leaves a 500 retryable, and the retry with the same key has one effect', async () => {
    const { ids } = customerWithSubscriptions([{}]);
    const subscriptionId = ids[0] ?? '';
    const write = { subscriptionId, idempotencyKey: `k-500-${subscriptionId}`, action: 'cancel_at_period_end' } as const;
    double.inject({ path: `/v1/subscriptions/${subscriptionId}`, method: 'POST', fault: { type: 'status', status: 500 } });
    const error = await run(alerts().applyUsageLimit, write).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect((error as { statusCode?: number }).statusCode).toBe(500);
    await run(alerts().applyUsageLimit, write);
    expect(double.sideEffects({ path: `/v1/subscriptions/${subscriptionId}` })).toHaveLength(1);
  });
});

describe('requests as Stripe specifies them (stripe-mock, OpenAPI)', () => {
  const stripe = (): Stripe => mock.client();

  it('accepts the trial read (subscription with customer expanded, then the customer payment methods list)', async () => {
    const check = await run(createTrialActivities({ stripe: stripe() }).checkTrialPaymentMethod, { subscriptionId: stripeId('sub') });
    expect(check.subscription.id).toMatch(/^sub_/);
    expect(typeof check.paymentMethod.onFile).toBe('boolean');
  });

  it('accepts the subscriptions list and both limit writes', async () => {
    const a = createUsageAlertActivities({ stripe: stripe() });
    const list = await run(a.listCustomerSubscriptionsForUsage, { customerId: stripeId('cus') });
    const canceled = await run(a.applyUsageLimit, { subscriptionId: stripeId('sub'), idempotencyKey: `k-${stripeId('x')}`, action: 'cancel_at_period_end' });
    const paused = await run(a.applyUsageLimit, { subscriptionId: stripeId('sub'), idempotencyKey: `k-${stripeId('x')}`, action: 'pause_collection', behavior: 'keep_as_draft' });
    expect(list.length).toBeGreaterThan(0);
    expect([canceled.id, paused.id]).toEqual([expect.stringMatching(/^sub_/), expect.stringMatching(/^sub_/)]);
  });
});
