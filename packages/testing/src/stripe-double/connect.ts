// Connect money movement: transfer reversals, application fee refunds, account links, payout
// cancellation. Reversals and fee refunds share one rule: never more than what remains.
import { checkRefs, checkRequired, render } from './crud.js';
import { invalidParam, invalidState } from './errors.js';
import { boolParam, intParam } from './form.js';
import { mergeMetadata } from './merge.js';
import type { DoubleResource } from './resources.js';
import { pathParam, route, type RequestContext, type Route } from './router.js';
import { newId, unixNow, type StripeObject } from './store.js';

/** How long an account link stays valid (Stripe: a few minutes). */
export const ACCOUNT_LINK_TTL_SECONDS = 300;

interface PartialReversal {
  parent: DoubleResource;
  child: DoubleResource;
  /** Field on the child naming its parent (`transfer`, `fee`). */
  parentField: string;
  /** Running total on the parent (`amount_reversed`, `amount_refunded`) and its "all of it" flag. */
  totalField: string;
  flagField: string;
  verb: string;
}

function reversePart(ctx: RequestContext, how: PartialReversal, extra: Record<string, unknown> = {}): StripeObject {
  const parent = ctx.store.require(how.parent, pathParam(ctx, 'id'), ctx.account);
  const total = Number(parent.amount) || 0;
  const done = Number(parent[how.totalField]) || 0;
  const remaining = total - done;
  if (remaining <= 0) throw invalidState(`${parent.id} has already been fully ${how.verb} (${done} of ${total}).`);
  const amount = intParam(ctx.params.amount, 'amount') ?? remaining;
  if (amount <= 0) throw invalidParam('amount', `Invalid amount: ${amount}. It must be a positive integer.`, 'parameter_invalid_integer');
  if (amount > remaining) {
    throw invalidParam(
      'amount',
      `The amount to be ${how.verb} (${amount}) is greater than what remains on ${parent.id}: ${remaining} (amount ${total}, already ${how.verb} ${done}).`,
      'parameter_invalid_integer',
    );
  }
  const child = ctx.store.put(how.child, ctx.store.build(how.child, {
    amount,
    currency: parent.currency,
    [how.parentField]: parent.id,
    metadata: mergeMetadata({}, ctx.params.metadata ?? {}),
    balance_transaction: newId('txn'),
    ...extra,
  }), ctx.account);
  parent[how.totalField] = done + amount;
  parent[how.flagField] = done + amount === total;
  return child;
}

const TRANSFER_REVERSAL: PartialReversal = {
  parent: 'transfer', child: 'transfer_reversal', parentField: 'transfer',
  totalField: 'amount_reversed', flagField: 'reversed', verb: 'reversed',
};

const FEE_REFUND: PartialReversal = {
  parent: 'application_fee', child: 'fee_refund', parentField: 'fee',
  totalField: 'amount_refunded', flagField: 'refunded', verb: 'refunded',
};

export function connectRoutes(): Route[] {
  return [
    route('POST', '/v1/transfers/:id/reversals', (ctx) => {
      // Accepted for fidelity; the double keeps no platform balance to return the fee to.
      boolParam(ctx.params.refund_application_fee, 'refund_application_fee');
      const reversal = reversePart(ctx, TRANSFER_REVERSAL, { destination_payment_refund: newId('pyr') });
      return render(ctx, 'transfer_reversal', reversal);
    }),
    route('POST', '/v1/application_fees/:id/refunds', (ctx) => render(ctx, 'fee_refund', reversePart(ctx, FEE_REFUND))),
    route('POST', '/v1/account_links', (ctx) => {
      checkRequired('account_link', ctx.params);
      checkRefs(ctx, 'account_link', ctx.params);
      const type = String(ctx.params.type);
      if (type !== 'account_onboarding' && type !== 'account_update') {
        throw invalidParam('type', `Invalid type: must be one of account_onboarding or account_update (got '${type}').`);
      }
      const created = unixNow();
      // Not stored: a link is single-use and short-lived; mint one when needed.
      return {
        object: 'account_link',
        created,
        expires_at: created + ACCOUNT_LINK_TTL_SECONDS,
        url: `${ctx.baseUrl}/account_links/${newId('link', 24).slice(5)}`,
      };
    }),
    route('POST', '/v1/payouts/:id/cancel', (ctx) => {
      const payout = ctx.store.require('payout', pathParam(ctx, 'id'), ctx.account);
      if (payout.status !== 'pending') {
        throw invalidState(`Payouts can only be canceled while they are pending; payout ${payout.id} is ${String(payout.status)}.`);
      }
      payout.status = 'canceled';
      return render(ctx, 'payout', payout);
    }),
  ];
}
