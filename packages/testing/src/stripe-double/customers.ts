// Customer sub-resources: the customer's payment methods (`GET /v1/customers/:id/payment_methods`,
// stripe-node's `customers.listPaymentMethods`), filtered by `type` like Stripe's, newest first.
// Payment methods belong to a customer through their `customer` field (seed it, or attach one).
import { listResponse } from './crud.js';
import { stringParam } from './form.js';
import { pathParam, route, type Route } from './router.js';
import { idOf } from './store.js';

export function customerRoutes(): Route[] {
  return [
    route('GET', '/v1/customers/:id/payment_methods', (ctx) => {
      const customer = ctx.store.require('customer', pathParam(ctx, 'id'), ctx.account);
      const type = stringParam(ctx.params.type);
      const methods = ctx.store
        .list('payment_method', ctx.account)
        .filter((pm) => idOf(pm.customer) === customer.id && (type === undefined || pm.type === type));
      return listResponse(ctx, 'payment_method', methods, `/v1/customers/${customer.id}/payment_methods`);
    }),
  ];
}
