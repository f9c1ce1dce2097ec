// The double's webhook endpoints, through stripe-node as `stripe-flows endpoints sync` uses them:
// the secret only on create, create-only params, Stripe's validation errors, list and delete.
import type Stripe from 'stripe';
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

describe('/v1/webhook_endpoints', () => {
  it('creates an endpoint and shows its signing secret on create only', async () => {
    const created = await stripe.webhookEndpoints.create({
      url: 'https://flows.example.com/webhooks/stripe',
      enabled_events: ['invoice.paid', 'invoice.payment_failed'],
      connect: true,
      api_version: '2025-03-31.basil',
      metadata: { stripe_flows_endpoint: 'connect' },
    });
    expect(created).toMatchObject({
      object: 'webhook_endpoint',
      url: 'https://flows.example.com/webhooks/stripe',
      enabled_events: ['invoice.paid', 'invoice.payment_failed'],
      api_version: '2025-03-31.basil',
      status: 'enabled',
      description: null,
      metadata: { stripe_flows_endpoint: 'connect' },
    });
    expect(created.id).toMatch(/^we_/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    // As on Stripe, `connect` is a create parameter, not a field of the object.
    expect(created).not.toHaveProperty('connect');
    const read = await stripe.webhookEndpoints.retrieve(created.id);
    expect(read).not.toHaveProperty('secret');
    expect((await stripe.webhookEndpoints.list()).data.map((e) => e.id)).toContain(created.id);
  });

  it('updates events, url and status; create-only parameters are refused', async () => {
    const { id } = await stripe.webhookEndpoints.create({ url: 'https://a.example.com/hook', enabled_events: ['charge.refunded'] });
    const updated = await stripe.webhookEndpoints.update(id, { enabled_events: ['charge.refunded', 'charge.refund.updated'], url: 'https://b.example.com/hook', disabled: true });
    expect(updated).toMatchObject({ enabled_events: ['charge.refunded', 'charge.refund.updated'], url: 'https://b.example.com/hook', status: 'disabled' });
    expect(updated).not.toHaveProperty('secret');
    expect((await stripe.webhookEndpoints.update(id, { disabled: false })).status).toBe('enabled');
    await expect(stripe.webhookEndpoints.update(id, { connect: true } as Stripe.WebhookEndpointUpdateParams)).rejects.toMatchObject({
      code: 'parameter_unknown',
      param: 'connect',
    });
  });

  it("answers Stripe's validation errors: missing url or events, unknown event type, bad url", async () => {
    const create = (params: Record<string, unknown>) => stripe.webhookEndpoints.create(params as unknown as Stripe.WebhookEndpointCreateParams);
    await expect(create({ enabled_events: ['invoice.paid'] })).rejects.toMatchObject({ code: 'parameter_missing', param: 'url', statusCode: 400 });
    await expect(create({ url: 'https://a.example.com/hook' })).rejects.toMatchObject({ code: 'parameter_missing', param: 'enabled_events' });
    await expect(create({ url: 'https://a.example.com/hook', enabled_events: ['invoice.paid', 'invoice.payed'] })).rejects.toMatchObject({
      param: 'enabled_events[1]',
      message: expect.stringContaining('"invoice.payed" is not an event type Stripe sends'),
    });
    await expect(create({ url: 'not a url', enabled_events: ['*'] })).rejects.toMatchObject({ param: 'url', code: 'url_invalid' });
    const { id } = await create({ url: 'https://a.example.com/hook', enabled_events: ['*'] });
    await expect(stripe.webhookEndpoints.update(id, { enabled_events: ['nope.nope' as 'invoice.paid'] })).rejects.toMatchObject({ param: 'enabled_events[0]' });
  });

  it('deletes an endpoint', async () => {
    const { id } = await stripe.webhookEndpoints.create({ url: 'https://gone.example.com/hook', enabled_events: ['invoice.paid'] });
    expect(await stripe.webhookEndpoints.del(id)).toMatchObject({ id, object: 'webhook_endpoint', deleted: true });
    await expect(stripe.webhookEndpoints.retrieve(id)).rejects.toMatchObject({ code: 'resource_missing', statusCode: 404 });
  });
});

describe('seeded events', () => {
  it('carry exactly their own data.object (the fixture event is a plan.created)', async () => {
    double.seed('event', { id: 'evt_seeded1', type: 'invoice.paid', account: 'acct_x1', data: { object: { id: 'in_1', object: 'invoice', status: 'paid' } } });
    const event = double.get('event', 'evt_seeded1');
    expect(event?.data).toEqual({ object: { id: 'in_1', object: 'invoice', status: 'paid' } });
  });
});
