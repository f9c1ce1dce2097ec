// The double's customer payment methods list, through stripe-node as flows call it.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StripeApiDouble } from '../src/stripe-double/index.js';

let double: StripeApiDouble;
let stripe: Stripe;

beforeAll(async () => {
  double = await StripeApiDouble.start();
  stripe = double.client();
});
afterAll(async () => {
  await double.stop();
});

describe('GET /v1/customers/:id/payment_methods', () => {
  it("lists only that customer's payment methods, newest first, filtered by type", async () => {
    double.seed('customer', { id: 'cus_pmlist' });
    double.seed('customer', { id: 'cus_other' });
    double.seed('payment_method', { id: 'pm_card_old', customer: 'cus_pmlist', type: 'card', created: 1_700_000_000 });
    double.seed('payment_method', { id: 'pm_sepa', customer: 'cus_pmlist', type: 'sepa_debit', created: 1_700_000_100 });
    double.seed('payment_method', { id: 'pm_card_new', customer: 'cus_pmlist', type: 'card', created: 1_700_000_200 });
    double.seed('payment_method', { id: 'pm_not_mine', customer: 'cus_other', type: 'card' });
    double.seed('payment_method', { id: 'pm_detached', customer: null, type: 'card' });

    const all = await stripe.customers.listPaymentMethods('cus_pmlist');
    expect(all.data.map((pm) => pm.id)).toEqual(['pm_card_new', 'pm_sepa', 'pm_card_old']);
    expect(all.url).toBe('/v1/customers/cus_pmlist/payment_methods');
    const cards = await stripe.customers.listPaymentMethods('cus_pmlist', { type: 'card' });
    expect(cards.data.map((pm) => pm.id)).toEqual(['pm_card_new', 'pm_card_old']);
    const firstPage = await stripe.customers.listPaymentMethods('cus_pmlist', { limit: 1 });
    expect([firstPage.data.map((pm) => pm.id), firstPage.has_more]).toEqual([['pm_card_new'], true]);
  });

  it('answers an empty list for a customer without payment methods', async () => {
    double.seed('customer', { id: 'cus_nopm' });
    const list = await stripe.customers.listPaymentMethods('cus_nopm');
    expect([list.data, list.has_more]).toEqual([[], false]);
  });

  it("answers 404 resource_missing for an unknown customer, like Stripe", async () => {
    const error = (await stripe.customers.listPaymentMethods('cus_missing').catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect([error.statusCode, error.code, error.message]).toEqual([404, 'resource_missing', "No such customer: 'cus_missing'"]);
  });

  it("keeps a connected account's payment methods to that account", async () => {
    double.seed('customer', { id: 'cus_connected' }, { stripeAccount: 'acct_1PmList' });
    double.seed('payment_method', { id: 'pm_connected', customer: 'cus_connected', type: 'card' }, { stripeAccount: 'acct_1PmList' });
    const asAccount = await stripe.customers.listPaymentMethods('cus_connected', {}, { stripeAccount: 'acct_1PmList' });
    expect(asAccount.data.map((pm) => pm.id)).toEqual(['pm_connected']);
    const asPlatform = await stripe.customers.listPaymentMethods('cus_connected').catch((e: unknown) => e);
    expect((asPlatform as Stripe.errors.StripeError).statusCode).toBe(404);
  });
});
