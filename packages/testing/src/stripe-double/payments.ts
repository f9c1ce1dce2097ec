// Payments-side routes flows touch: refunds (never more than the charge has left), payment
// method attach/detach. (The events list lives in events.ts.)
import { checkRefs, render } from './crud.js';
import { invalidParam, invalidState, missingParam, missingReference } from './errors.js';
import { boolParam, intParam, stringParam } from './form.js';
import { mergeMetadata } from './merge.js';
import { pathParam, route, type Route } from './router.js';
import { idOf } from './store.js';

const dollars = (cents: number, currency: unknown) =>
  `${String(currency ?? 'usd').toUpperCase() === 'USD' ? '$' : ''}${(cents / 100).toFixed(2)}`;

export function paymentRoutes(): Route[] {
  return [
    route('POST', '/v1/refunds', (ctx) => {
      checkRefs(ctx, 'refund', ctx.params);
      const chargeId = stringParam(ctx.params.charge);
      const intentId = stringParam(ctx.params.payment_intent);
      if (!chargeId && !intentId) throw missingParam('charge');
      const charge = chargeId
        ? ctx.store.require('charge', chargeId, ctx.account, 'charge')
        : ctx.store.list('charge', ctx.account).find((c) => idOf(c.payment_intent) === intentId);
      if (!charge) throw missingReference('payment_intent', intentId ?? '', 'payment_intent');
      const total = Number(charge.amount) || 0;
      const refunded = Number(charge.amount_refunded) || 0;
      if (refunded >= total) throw invalidState(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
      const amount = intParam(ctx.params.amount, 'amount') ?? total - refunded;
      if (amount <= 0) throw invalidParam('amount', `Invalid amount: ${amount}. It must be a positive integer.`, 'parameter_invalid_integer');
      if (amount > total - refunded) {
        throw invalidParam('amount', `Refund amount (${dollars(amount, charge.currency)}) is greater than unrefunded amount on charge (${dollars(total - refunded, charge.currency)})`);
      }
      boolParam(ctx.params.reverse_transfer, 'reverse_transfer');
      boolParam(ctx.params.refund_application_fee, 'refund_application_fee');
      const refund = ctx.store.put('refund', ctx.store.build('refund', {
        amount,
        charge: charge.id,
        currency: charge.currency,
        payment_intent: idOf(charge.payment_intent) ?? null,
        reason: stringParam(ctx.params.reason) ?? null,
        status: 'succeeded',
        metadata: mergeMetadata({}, ctx.params.metadata ?? {}),
      }), ctx.account);
      charge.amount_refunded = refunded + amount;
      charge.refunded = refunded + amount === total;
      return render(ctx, 'refund', refund);
    }),
    route('POST', '/v1/payment_methods/:id/attach', (ctx) => {
      const method = ctx.store.require('payment_method', pathParam(ctx, 'id'), ctx.account);
      const customer = stringParam(ctx.params.customer);
      if (!customer) throw missingParam('customer');
      ctx.store.require('customer', customer, ctx.account, 'customer');
      method.customer = customer;
      return render(ctx, 'payment_method', method);
    }),
    route('POST', '/v1/payment_methods/:id/detach', (ctx) => {
      const method = ctx.store.require('payment_method', pathParam(ctx, 'id'), ctx.account);
      if (!method.customer) throw invalidState(`The payment method ${method.id} is not attached to a customer.`);
      method.customer = null;
      return render(ctx, 'payment_method', method);
    }),
  ];
}
