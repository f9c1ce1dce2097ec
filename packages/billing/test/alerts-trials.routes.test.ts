// Routes of the usage alert and trial ending flows against events built from Stripe's own example
// objects: object ids, projections, search ids, start input, and what redelivery does to the id.
import { describe, expect, it } from 'vitest';
import { RouteRegistry, stripeEventEnvelopeSchema, type AnyRoute, type StripeEventEnvelope } from '@stripe-flows/core';
import { buildEvent, stripeObject, type BuildEventOptions } from '@stripe-flows/testing';
import { alertsTrialsRoutes, usageAlertObjectId } from '../src/routes.js';
import { billingRoutes } from '../src/routes.js';

const routes = alertsTrialsRoutes();

function routeFor(eventType: string, list: readonly AnyRoute[] = routes): AnyRoute {
  const found = list.find((r) => r.eventType === eventType);
  if (!found) throw new Error(`no route for ${eventType}`);
  return found;
}

/** An envelope as the receiver hands it to the dispatcher (parsed, then typed by its route). */
function event(type: string, options: BuildEventOptions = {}): StripeEventEnvelope {
  return stripeEventEnvelopeSchema.parse(buildEvent(type, options));
}

/** What the dispatcher does with one route: object id, projection, search ids, input, summary. */
function dispatchView(route: AnyRoute, e: StripeEventEnvelope) {
  const typed = e as never;
  return {
    objectId: route.objectId(typed),
    projection: route.projection.parse(e.data.object),
    searchIds: route.searchIds?.(typed),
    input: route.input?.(typed),
    summary: route.summary?.(typed),
  };
}

describe('billing.alert.triggered → billing.alert (handleUsageAlert)', () => {
  const route = routeFor('billing.alert.triggered');

  it("accepts Stripe's example billing.alert_triggered and projects ids, meter, threshold and value only", () => {
    const fixture = stripeObject('billing.alert_triggered') as { created: number; customer: string; alert: { id: string } };
    const view = dispatchView(route, event('billing.alert.triggered'));
    expect(route).toMatchObject({ flow: 'alert', workflowType: 'handleUsageAlert', mode: 'start' });
    expect(view.objectId).toBe(`${fixture.alert.id}:${fixture.customer}:${fixture.created}`);
    expect(view.projection).toEqual({
      alertId: 'obj_123',
      alertTitle: 'title',
      alertType: 'usage_threshold',
      meterId: 'obj_123', // the fixture expands the meter; the projection keeps its id only
      threshold: 102680,
      recurrence: 'one_time',
      customerId: 'customer',
      value: 111972721,
      triggeredAt: fixture.created,
    });
    expect(view.searchIds).toEqual({ customerId: 'customer' });
    expect(view.input).toEqual({});
    expect(view.summary).toBe('Usage alert obj_123 for customer: 111972721 (threshold 102680)');
  });

  it('gives a redelivery the same flow and a later trigger of the same alert and customer a new one', () => {
    const trigger = (created: number) => ({
      ...stripeObject('billing.alert_triggered'),
      alert: { ...stripeObject('billing.alert'), id: 'alrt_1Api', usage_threshold: { filters: null, gte: 1000, meter: 'mtr_1Calls', recurrence: 'one_time' } },
      customer: 'cus_1Acme',
      created,
    });
    const first = event('billing.alert.triggered', { id: 'evt_1First', object: trigger(1_760_000_000) });
    const redelivered = event('billing.alert.triggered', { id: 'evt_1First', object: trigger(1_760_000_000) });
    const nextPeriod = event('billing.alert.triggered', { id: 'evt_1Later', object: trigger(1_762_600_000) });
    const ids = [first, redelivered, nextPeriod].map((e) => route.objectId(e as never));
    expect(ids).toEqual(['alrt_1Api:cus_1Acme:1760000000', 'alrt_1Api:cus_1Acme:1760000000', 'alrt_1Api:cus_1Acme:1762600000']);
    expect(usageAlertObjectId({ alert: { id: 'alrt_1Api' }, customer: 'cus_1Acme', created: 1_760_000_000 })).toBe(ids[0]);
    expect(route.projection.parse(first.data.object)).toMatchObject({ meterId: 'mtr_1Calls', threshold: 1000 });
  });

  it('rejects (so the dispatcher quarantines) a trigger without a customer or value', () => {
    const noCustomer = event('billing.alert.triggered', { object: { customer: null } });
    const noValue = event('billing.alert.triggered', { object: { value: 'lots' } });
    expect(route.projection.safeParse(noCustomer.data.object).success).toBe(false);
    expect(route.projection.safeParse(noValue.data.object).success).toBe(false);
  });

  it('passes the usage alert policy as start input', () => {
    const withPolicy = routeFor('billing.alert.triggered', alertsTrialsRoutes({ usageAlert: { limitAction: 'cancel_at_period_end' } }));
    expect(withPolicy.input?.(event('billing.alert.triggered') as never)).toEqual({ policy: { limitAction: 'cancel_at_period_end' } });
  });
});

describe('customer.subscription.* → billing.trial (remindTrialEnding)', () => {
  const subscription = stripeObject('subscription') as { id: string; customer: string; trial_end: number };

  it("accepts Stripe's example subscription on trial_will_end and projects payment-method presence only", () => {
    const route = routeFor('customer.subscription.trial_will_end');
    const view = dispatchView(route, event('customer.subscription.trial_will_end', { object: { status: 'trialing' } }));
    expect(route).toMatchObject({ flow: 'trial', workflowType: 'remindTrialEnding', mode: 'start' });
    expect(view.objectId).toBe(subscription.id);
    expect(view.projection).toEqual({
      id: subscription.id,
      status: 'trialing',
      customerId: subscription.customer,
      collectionMethod: 'charge_automatically',
      trialEnd: subscription.trial_end,
      hasSubscriptionPaymentMethod: false,
      missingPaymentMethodBehavior: 'create_invoice',
    });
    expect(view.searchIds).toEqual({ customerId: subscription.customer });
    expect(view.summary).toBe(`Trial of ${subscription.id} for ${subscription.customer} ends ${new Date(subscription.trial_end * 1000).toISOString()}`);
  });

  it('tells a subscription default payment method or source apart from none, never carrying its id', () => {
    const route = routeFor('customer.subscription.updated');
    const withPm = route.projection.parse(event('customer.subscription.updated', { object: { default_payment_method: 'pm_1Card' } }).data.object);
    const withSource = route.projection.parse(event('customer.subscription.updated', { object: { default_source: 'card_1Old' } }).data.object);
    expect([withPm, withSource]).toMatchObject([{ hasSubscriptionPaymentMethod: true }, { hasSubscriptionPaymentMethod: true }]);
    expect(JSON.stringify([withPm, withSource])).not.toMatch(/pm_1Card|card_1Old/);
  });

  it('reads the customer id from an expanded customer too, without its contact details', () => {
    const route = routeFor('customer.subscription.trial_will_end');
    const customer = { ...stripeObject('customer'), id: 'cus_1Expanded', email: 'jenny@example.com', name: 'Jenny Rosen' };
    const e = event('customer.subscription.trial_will_end', { object: { customer } });
    const view = dispatchView(route, e);
    expect(view.searchIds).toEqual({ customerId: 'cus_1Expanded' });
    expect(view.projection).toMatchObject({ customerId: 'cus_1Expanded' });
    expect(JSON.stringify(view.projection)).not.toMatch(/jenny|Jenny/);
  });

  it('routes updated and deleted only to a running flow of the same subscription', () => {
    for (const type of ['customer.subscription.updated', 'customer.subscription.deleted']) {
      const route = routeFor(type);
      const e = event(type, { object: { status: type.endsWith('deleted') ? 'canceled' : 'active' }, previousAttributes: { status: 'trialing' } });
      expect(route).toMatchObject({ flow: 'trial', workflowType: 'remindTrialEnding', mode: 'signal' });
      expect(route.objectId(e as never)).toBe(subscription.id);
      expect(route.projection.safeParse(e.data.object).success).toBe(true);
    }
  });

  it('rejects a subscription status the flow does not know, so the event is quarantined, not misread', () => {
    const route = routeFor('customer.subscription.updated');
    const result = route.projection.safeParse(event('customer.subscription.updated', { object: { status: 'frozen' } }).data.object);
    expect(result.success).toBe(false);
  });

  it('passes the trial ending policy as start input', () => {
    const route = routeFor('customer.subscription.trial_will_end', alertsTrialsRoutes({ trialEnding: { reminderHoursBeforeEnd: [24] } }));
    expect(route.input?.(event('customer.subscription.trial_will_end') as never)).toEqual({ policy: { reminderHoursBeforeEnd: [24] } });
  });
});

describe('merging with the billing routes', () => {
  it('registers next to the existing billing routes without routing an event type twice to one flow', () => {
    // Once merged, billingRoutes() holds these routes itself: compare against the rest of billing.
    const others = billingRoutes().filter((r) => r.flow !== 'alert' && r.flow !== 'trial');
    const registry = new RouteRegistry([{ name: 'billing', routes: [...others, ...alertsTrialsRoutes()] }]);
    const table = registry.table().filter((r) => r.flow === 'alert' || r.flow === 'trial');
    expect(table.map((r) => `${r.eventType} → billing.${r.flow} (${r.mode})`)).toEqual([
      'billing.alert.triggered → billing.alert (start)',
      'customer.subscription.deleted → billing.trial (signal)',
      'customer.subscription.trial_will_end → billing.trial (start)',
      'customer.subscription.updated → billing.trial (signal)',
    ]);
  });
});
