// Where the charges a draft invoice should carry come from: the ChargesSource port.
import type Stripe from 'stripe';
import { stripeCall } from '@stripe-flows/core';
import type { AddLine } from './invoice-lines.js';

/** What a charges source knows about the invoice being assembled. */
export interface AssemblyContext {
  invoiceId: string;
  customerId: string | null;
  currency: string;
  billingReason: string | null;
  /** Connected account the invoice lives on (Connect). */
  account?: string;
}

/**
 * A charge waiting to be billed. `key` identifies it for good (your usage record id, an `ii_`
 * id): the flow tags each added line with it, so a replay never adds the same charge twice.
 */
export interface PendingCharge {
  key: string;
  line: AddLine;
}

/** Port: where pending charges come from. */
export interface ChargesSource {
  /** Short name, shown in the flow's state and in rejection messages. */
  name: string;
  pendingCharges(context: AssemblyContext): Promise<PendingCharge[]>;
}

/**
 * The customer's unassigned (pending) invoice items in the invoice's currency, each assigned to
 * the invoice with `invoice_item`.
 */
export function unassignedInvoiceItems(stripe: Stripe): ChargesSource {
  return {
    name: 'unassigned-invoice-items',
    async pendingCharges(context) {
      if (!context.customerId) return [];
      const options = context.account ? { stripeAccount: context.account } : {};
      const items = await stripeCall(`GET /v1/invoiceitems?customer=${context.customerId}&pending=true`, () =>
        stripe.invoiceItems.list({ customer: context.customerId ?? undefined, pending: true, limit: 100 }, options).autoPagingToArray({ limit: 1000 }),
      );
      return items
        .filter((item) => !item.invoice && item.currency === context.currency)
        .map((item) => ({ key: item.id, line: { invoice_item: item.id } }));
    },
  };
}

/** Charges you supply (from your own system), as a list or a function of the invoice. */
export function suppliedCharges(
  name: string,
  charges: readonly PendingCharge[] | ((context: AssemblyContext) => Promise<readonly PendingCharge[]>),
): ChargesSource {
  return {
    name,
    async pendingCharges(context) {
      return [...(typeof charges === 'function' ? await charges(context) : charges)];
    },
  };
}
