import { describe, expect, expectTypeOf, it } from 'vitest';
import type Stripe from 'stripe';
import { z } from 'zod';
import { defineDomain, defineRoute, RouteRegistry, selectDomains, type StripeEventOf } from '../src/index.js';
import { stripeEventEnvelopeSchema } from '../src/envelope.js';

const projection = z.object({ id: z.string() });

describe('typed routes', () => {
  it('gives a route for invoice.payment_failed an invoice event, without a cast', () => {
    const route = defineRoute({
      eventType: 'invoice.payment_failed',
      flow: 'dunning',
      workflowType: 'collectInvoicePayment',
      mode: 'start',
      projection,
      objectId: (event) => {
        expectTypeOf(event).toEqualTypeOf<Stripe.InvoicePaymentFailedEvent>();
        expectTypeOf(event.data.object).toEqualTypeOf<Stripe.Invoice>();
        return event.data.object.id;
      },
    });
    expectTypeOf<StripeEventOf<'account.updated'>['data']['object']>().toEqualTypeOf<Stripe.Account>();
    expect(route.objectId({ data: { object: { id: 'in_1' } } } as never)).toBe('in_1');
  });
});

describe('RouteRegistry', () => {
  const domain = defineDomain({
    name: 'billing',
    workflowsPath: '/dev/null',
    createActivities: () => ({}),
    routes: [
      defineRoute({ eventType: 'invoice.paid', flow: 'dunning', workflowType: 'w', mode: 'signal', projection, objectId: (e) => e.data.object.id }),
      defineRoute({ eventType: 'invoice.payment_failed', flow: 'dunning', workflowType: 'w', mode: 'start', projection, objectId: (e) => e.data.object.id }),
    ],
  });

  it('looks routes up by type and lists the table', () => {
    const registry = new RouteRegistry([domain]);
    expect(registry.routesFor('invoice.paid').map((r) => `${r.domain}.${r.route.flow}`)).toEqual(['billing.dunning']);
    expect(registry.routesFor('customer.created')).toEqual([]);
    expect(registry.eventTypes()).toEqual(['invoice.paid', 'invoice.payment_failed']);
  });

  it('says which webhook endpoint each routed type arrives on (platform unless a route says otherwise)', () => {
    const connectDomain = defineDomain({
      name: 'connect',
      workflowsPath: '/dev/null',
      createActivities: () => ({}),
      routes: [
        defineRoute({ eventType: 'account.updated', flow: 'onboarding', workflowType: 'w', mode: 'start', projection, endpoints: ['connect'], objectId: (e) => e.data.object.id }),
        defineRoute({ eventType: 'charge.refunded', flow: 'reversal', workflowType: 'w', mode: 'start', projection, endpoints: ['platform', 'connect'], objectId: (e) => e.data.object.id }),
      ],
    });
    const registry = new RouteRegistry([domain, connectDomain]);
    expect(registry.eventTypesFor('platform')).toEqual(['charge.refunded', 'invoice.paid', 'invoice.payment_failed']);
    expect(registry.eventTypesFor('connect')).toEqual(['account.updated', 'charge.refunded']);
    expect(registry.table().map((r) => `${r.eventType}: ${r.endpoints.join('+')}`)).toEqual([
      'account.updated: connect',
      'charge.refunded: platform+connect',
      'invoice.paid: platform',
      'invoice.payment_failed: platform',
    ]);
  });

  it('refuses a domain registered twice and bad names, with the reason', () => {
    expect(() => new RouteRegistry([domain, domain])).toThrow('Domain "billing" is registered twice.');
    expect(() => defineDomain({ ...domain, name: 'Billing!' })).toThrow(/Domain name "Billing!" is invalid/);
    expect(() => selectDomains([domain], ['billing', 'nope'])).toThrow('DOMAINS names unknown domain(s) nope; this build has: billing.');
    expect(selectDomains([domain], undefined)).toEqual([domain]);
  });
});

describe('envelope', () => {
  it('accepts a Stripe event and names every bad field of a non-event', () => {
    const ok = stripeEventEnvelopeSchema.safeParse({
      id: 'evt_1', object: 'event', type: 'invoice.paid', created: 1700000000, livemode: false, api_version: '2026-10-28.endive',
      data: { object: { id: 'in_1' } },
    });
    expect(ok.success).toBe(true);
    const bad = stripeEventEnvelopeSchema.safeParse({ id: 'x', object: 'event', type: 'Invoice Paid', created: -1, livemode: 'no', data: {} });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['id', 'type', 'created', 'livemode', 'data.object']));
  });
});
