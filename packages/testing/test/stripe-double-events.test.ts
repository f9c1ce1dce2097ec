// The double's event log (`GET /v1/events`), through stripe-node as replay and reconciliation call it.
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StripeApiDouble } from '../src/stripe-double/index.js';

let double: StripeApiDouble;
let stripe: Stripe;

beforeAll(async () => {
  double = await StripeApiDouble.start();
  stripe = double.client();
  const t = 1_760_000_000;
  double.seed('event', { id: 'evt_1', type: 'invoice.payment_failed', created: t, pending_webhooks: 0, data: { object: { id: 'in_1' } } });
  double.seed('event', { id: 'evt_2', type: 'invoice.paid', created: t + 10, pending_webhooks: 1, data: { object: { id: 'in_1' } } });
  double.seed('event', { id: 'evt_3', type: 'charge.refunded', created: t + 20, pending_webhooks: 0, data: { object: { id: 'ch_1' } } });
  double.seed('event', { id: 'evt_4', type: 'account.updated', created: t + 30, pending_webhooks: 0, account: 'acct_1Connected', data: { object: { id: 'acct_1Connected' } } }, { stripeAccount: 'acct_1Connected' });
});
afterAll(async () => {
  await double.stop();
});

describe('GET /v1/events', () => {
  it('lists newest first, by created range, with pagination', async () => {
    expect((await stripe.events.list()).data.map((e) => e.id)).toEqual(['evt_3', 'evt_2', 'evt_1']);
    expect((await stripe.events.list({ created: { gte: 1_760_000_010 } })).data.map((e) => e.id)).toEqual(['evt_3', 'evt_2']);
    const page = await stripe.events.list({ limit: 2 });
    expect(page.has_more).toBe(true);
    expect((await stripe.events.list({ limit: 2, starting_after: page.data[1]!.id })).data.map((e) => e.id)).toEqual(['evt_1']);
    const all: string[] = [];
    for await (const e of stripe.events.list({ limit: 1 })) all.push(e.id);
    expect(all).toEqual(['evt_3', 'evt_2', 'evt_1']);
  });

  it('filters by type (with wildcards), types[] and delivery_success', async () => {
    expect((await stripe.events.list({ type: 'invoice.*' })).data.map((e) => e.id)).toEqual(['evt_2', 'evt_1']);
    expect((await stripe.events.list({ types: ['charge.refunded', 'invoice.paid'] })).data.map((e) => e.id)).toEqual(['evt_3', 'evt_2']);
    expect((await stripe.events.list({ delivery_success: false })).data.map((e) => e.id)).toEqual(['evt_2']);
    await expect(stripe.events.list({ type: 'invoice.paid', types: ['invoice.paid'] })).rejects.toMatchObject({ code: 'parameters_exclusive' });
  });

  it("lists a connected account's events with its Stripe-Account header only", async () => {
    expect((await stripe.events.list({}, { stripeAccount: 'acct_1Connected' })).data.map((e) => e.id)).toEqual(['evt_4']);
  });
});
