// Billing activities on stripe-node against two Stripe stand-ins: the project's Stripe API double
// (stateful; every request recorded) and Stripe's own stripe-mock (validates each request against
// Stripe's OpenAPI spec). The same contract cases run against both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import type Stripe from 'stripe';
import type { Notification } from '@stripe-flows/core';
import { failedInvoice, startStripeMock, stripeId, StripeApiDouble, type RunningStripeMock } from '@stripe-flows/testing';
import { createBillingActivities } from '../src/index.js';

let double: StripeApiDouble;
let mock: RunningStripeMock;
const notices: Notification[] = [];
// Activity failures are the point of some cases: keep the SDK's failure logs out of the output.
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR', () => undefined) });
/** Run an activity in the mock activity context, keeping its return type. */
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args) as Promise<R>;

beforeAll(async () => {
  [double, mock] = await Promise.all([StripeApiDouble.start(), startStripeMock()]);
});
afterAll(async () => {
  await Promise.all([double?.stop(), mock?.stop()]);
});

interface Target {
  name: string;
  stripe: () => Stripe;
  /** An open invoice the target knows (seeded in the double; any id in stripe-mock). */
  openInvoice: (extra?: Record<string, unknown>) => string;
  subscription: () => string;
}

const targets: Target[] = [
  {
    name: 'Stripe API double',
    stripe: () => double.client(),
    openInvoice: (extra = {}) => {
      const invoice = failedInvoice(extra);
      double.seed('invoice', invoice as { id: string });
      return invoice.id as string;
    },
    subscription: () => {
      const id = stripeId('sub');
      double.seed('subscription', { id, status: 'past_due' });
      return id;
    },
  },
  {
    name: 'stripe-mock (Stripe OpenAPI spec)',
    stripe: () => mock.client(),
    openInvoice: () => stripeId('in'),
    subscription: () => stripeId('sub'),
  },
];

for (const target of targets) {
  describe(`billing activities against ${target.name}`, () => {
    const activities = () => createBillingActivities({ stripe: target.stripe(), notifier: { notify: async (n) => void notices.push(n) } });

    it('retrieveInvoice returns the projection flows read, without contact details', async () => {
      const id = target.openInvoice();
      const invoice = await run(activities().retrieveInvoice, { invoiceId: id });
      expect(invoice.id).toBe(id);
      expect(Object.keys(invoice).sort()).toEqual(
        ['amountDue', 'amountRemaining', 'attemptCount', 'collectionMethod', 'currency', 'customerId', 'hostedInvoiceUrl', 'id', 'nextPaymentAttempt', 'status', 'subscriptionId'].sort(),
      );
    });

    it('markInvoiceUncollectible, voidInvoice and cancelSubscription are accepted as Stripe specifies them', async () => {
      const a = activities();
      const marked = await run(a.markInvoiceUncollectible, { invoiceId: target.openInvoice(), idempotencyKey: `k-${stripeId('x')}` });
      const voided = await run(a.voidInvoice, { invoiceId: target.openInvoice(), idempotencyKey: `k-${stripeId('x')}` });
      const subscription = target.subscription();
      const canceled = await run(a.cancelSubscription, { subscriptionId: subscription, idempotencyKey: `k-${stripeId('x')}` });
      expect(canceled.id).toBe(subscription);
      if (target.name === 'Stripe API double') {
        expect([marked.status, voided.status, canceled.status]).toEqual(['uncollectible', 'void', 'canceled']);
      } else {
        expect(marked.id).toMatch(/^in_/);
      }
    });
  });
}

describe('billing activities: wire details (Stripe API double)', () => {
  const activities = () => createBillingActivities({ stripe: double.client(), notifier: { notify: async (n) => void notices.push(n) } });

  it('sends the idempotency key and the connected account, and a replay has no second effect', async () => {
    const id = stripeId('in');
    double.seed('invoice', { ...failedInvoice(), id }, { stripeAccount: 'acct_1BillingTest' });
    const key = `billing.dunning:${id}:final-action:mark_uncollectible`;
    await run(activities().markInvoiceUncollectible, { invoiceId: id, account: 'acct_1BillingTest', idempotencyKey: key });
    await run(activities().markInvoiceUncollectible, { invoiceId: id, account: 'acct_1BillingTest', idempotencyKey: key }); // activity retry
    const posts = double.requests.filter((r) => r.method === 'POST' && r.path === `/v1/invoices/${id}/mark_uncollectible`);
    expect(posts.map((r) => [r.idempotencyKey, r.stripeAccount, r.replayed])).toEqual([
      [key, 'acct_1BillingTest', false],
      [key, 'acct_1BillingTest', true],
    ]);
    expect(double.sideEffects({ path: `/v1/invoices/${id}/mark_uncollectible` })).toHaveLength(1);
  });

  it('turns a 4xx into a non-retryable failure naming the call and Stripe code', async () => {
    const error = await run(activities().voidInvoice, { invoiceId: 'in_doesnotexist', idempotencyKey: 'k1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('stripe.resource_missing');
    expect((error as ApplicationFailure).message).toContain('POST /v1/invoices/in_doesnotexist/void');
  });

  it('refuses an irreversible step the invoice no longer allows (void of a paid invoice) without retrying', async () => {
    const id = target0Paid();
    const error = await run(activities().voidInvoice, { invoiceId: id, idempotencyKey: 'k-void-paid' }).catch((e: unknown) => e);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('stripe.invoice_not_editable');
  });

  it('leaves 429 and 500 retryable (Temporal retries with the same idempotency key)', async () => {
    const id = stripeId('in');
    double.seed('invoice', { ...failedInvoice(), id });
    for (const fault of [{ type: 'status', status: 429, shouldRetry: true }, { type: 'status', status: 500 }] as const) {
      double.inject({ path: `/v1/invoices/${id}/mark_uncollectible`, fault });
      const error = await run(activities().markInvoiceUncollectible, { invoiceId: id, idempotencyKey: `k-${id}` }).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(ApplicationFailure);
      expect((error as { statusCode?: number }).statusCode).toBe(fault.status);
    }
    const invoice = await run(activities().markInvoiceUncollectible, { invoiceId: id, idempotencyKey: `k-${id}` });
    expect(invoice.status).toBe('uncollectible');
    expect(double.sideEffects({ path: `/v1/invoices/${id}/mark_uncollectible` })).toHaveLength(1);
  });

  it('notify hands the notification to the notifier port as is', async () => {
    const n: Notification = { kind: 'dunning.reminder', recipient: { role: 'customer', customerId: 'cus_1' }, workflowId: 'billing.dunning:in_1', idempotencyKey: 'billing.dunning:in_1:notice-1', data: { invoiceId: 'in_1' } };
    await run(activities().notify, n);
    expect(notices.at(-1)).toEqual(n);
  });

  function target0Paid(): string {
    const id = stripeId('in');
    double.seed('invoice', { ...failedInvoice(), id, status: 'paid', amount_remaining: 0 });
    return id;
  }
});
