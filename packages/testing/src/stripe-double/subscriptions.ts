// Subscriptions: create with items, update (a canceled one only takes cancellation_details and
// metadata), cancel (`DELETE /v1/subscriptions/:id`, stripe-node's `subscriptions.cancel`).
import { createFromParams, render } from './crud.js';
import { invalidParam, invalidState } from './errors.js';
import { arrayParam, intParam, isRecord, stringParam } from './form.js';
import { applyParams, mergeMetadata } from './merge.js';
import { pathParam, route, type RequestContext, type Route } from './router.js';
import { newId, unixNow, type StripeObject } from './store.js';

const CANCELED_UPDATABLE = new Set(['cancellation_details', 'metadata', 'expand']);

function subscriptionItems(ctx: RequestContext, subscriptionId: string): Record<string, unknown> {
  const inputs = arrayParam(ctx.params.items) ?? [];
  const now = unixNow();
  const data = inputs.map((input, i) => {
    if (!isRecord(input)) throw invalidParam(`items[${i}]`, `Invalid items[${i}]: must be a hash.`);
    const priceId = stringParam(input.price);
    const price = priceId ? ctx.store.require('price', priceId, ctx.account, `items[${i}][price]`) : null;
    return {
      id: newId('si'),
      object: 'subscription_item',
      created: now,
      current_period_start: now,
      current_period_end: now + 30 * 24 * 3600,
      discounts: [],
      metadata: mergeMetadata({}, input.metadata ?? {}, `items[${i}][metadata]`),
      price: price ? structuredClone(price) : null,
      quantity: intParam(input.quantity, `items[${i}][quantity]`) ?? 1,
      subscription: subscriptionId,
      tax_rates: [],
    };
  });
  return { object: 'list', data, has_more: false, url: `/v1/subscription_items?subscription=${subscriptionId}` };
}

function requireSubscription(ctx: RequestContext): StripeObject {
  return ctx.store.require('subscription', pathParam(ctx, 'id'), ctx.account);
}

export function subscriptionRoutes(): Route[] {
  return [
    route('POST', '/v1/subscriptions', (ctx) => {
      const params: Record<string, unknown> = { ...ctx.params };
      delete params.items;
      const subscription = createFromParams(ctx, 'subscription', params, { status: 'active' });
      subscription.items = subscriptionItems(ctx, subscription.id);
      return render(ctx, 'subscription', subscription);
    }),
    route('POST', '/v1/subscriptions/:id', (ctx) => {
      const subscription = requireSubscription(ctx);
      if (subscription.status === 'canceled') {
        const locked = Object.keys(ctx.params).find((key) => !CANCELED_UPDATABLE.has(key));
        if (locked) throw invalidState('A canceled subscription can only update its cancellation_details and metadata.', undefined, locked);
      }
      const params: Record<string, unknown> = { ...ctx.params };
      if ('items' in params) {
        subscription.items = subscriptionItems(ctx, subscription.id);
        delete params.items;
      }
      applyParams(subscription, params);
      return render(ctx, 'subscription', subscription);
    }),
    route('DELETE', '/v1/subscriptions/:id', (ctx) => {
      const subscription = requireSubscription(ctx);
      if (subscription.status === 'canceled') {
        throw invalidState(`Subscription ${subscription.id} is already canceled; a canceled subscription cannot be canceled again.`);
      }
      const now = unixNow();
      const details = isRecord(ctx.params.cancellation_details) ? ctx.params.cancellation_details : {};
      Object.assign(subscription, {
        status: 'canceled',
        canceled_at: now,
        ended_at: now,
        cancel_at_period_end: false,
        cancellation_details: {
          comment: stringParam(details.comment) ?? null,
          feedback: stringParam(details.feedback) ?? null,
          reason: 'cancellation_requested',
        },
      });
      return render(ctx, 'subscription', subscription);
    }),
  ];
}
