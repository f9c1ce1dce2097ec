import { defineRoute } from '@stripe-flows/core';
import { invoiceEventProjection, invoiceProjection } from './schemas.js';
import { defaultAssemblyPolicy, type AssemblyPolicy } from './workflows/assembly-policy.js';
import type { DunningPolicy } from './workflows/dunning-policy.js';

function customerOf(invoice: { customer: string | { id: string } | null }): string | null {
  return typeof invoice.customer === 'string' ? invoice.customer : (invoice.customer?.id ?? null);
}

/** Billing routes; `policies` become the start input of the flows they start. */
export function billingRoutes(policies: { dunning?: Partial<DunningPolicy>; assembly?: Partial<AssemblyPolicy> } = {}) {
  const dunning = { flow: 'dunning', workflowType: 'collectInvoicePayment', projection: invoiceProjection } as const;
  const input = () => (policies.dunning ? { policy: policies.dunning } : {});
  return [
    // A failed payment or a payment needing authentication starts dunning for the invoice.
    defineRoute({
      ...dunning,
      eventType: 'invoice.payment_failed',
      mode: 'start',
      objectId: (e) => e.data.object.id,
      searchIds: (e) => ({ customerId: customerOf(e.data.object) }),
      input,
      summary: (e) => `Dunning for invoice ${e.data.object.id} (${e.data.object.amount_due} ${e.data.object.currency})`,
    }),
    defineRoute({
      ...dunning,
      eventType: 'invoice.payment_action_required',
      mode: 'start',
      objectId: (e) => e.data.object.id,
      searchIds: (e) => ({ customerId: customerOf(e.data.object) }),
      input,
      summary: (e) => `Dunning for invoice ${e.data.object.id} (authentication required)`,
    }),
    // Endings only matter to a running dunning flow.
    defineRoute({ ...dunning, eventType: 'invoice.paid', mode: 'signal', objectId: (e) => e.data.object.id }),
    defineRoute({ ...dunning, eventType: 'invoice.voided', mode: 'signal', objectId: (e) => e.data.object.id }),
    defineRoute({ ...dunning, eventType: 'invoice.marked_uncollectible', mode: 'signal', objectId: (e) => e.data.object.id }),
    ...assemblyRoutes(policies.assembly),
  ];
}

/** Draft invoice assembly: started by a draft invoice of a billing reason the policy assembles. */
function assemblyRoutes(policy: Partial<AssemblyPolicy> | undefined) {
  const assembly = { flow: 'assembly', workflowType: 'assembleDraftInvoice', projection: invoiceEventProjection } as const;
  const reasons = policy?.billingReasons ?? defaultAssemblyPolicy.billingReasons;
  return [
    defineRoute({
      ...assembly,
      eventType: 'invoice.created',
      mode: 'start',
      objectId: (e) => e.data.object.id,
      when: (e) =>
        e.data.object.status !== 'draft'
          ? `invoice is ${e.data.object.status}, not a draft`
          : reasons.includes(e.data.object.billing_reason ?? '')
            ? true
            : `billing_reason ${e.data.object.billing_reason ?? 'none'} is not assembled (policy: ${reasons.join(', ')})`,
      condition: `only draft invoices with billing_reason ${reasons.join(' or ')}`,
      searchIds: (e) => ({ customerId: customerOf(e.data.object) }),
      input: () => (policy ? { policy } : {}),
      summary: (e) => `Assembly of draft invoice ${e.data.object.id} (${e.data.object.billing_reason ?? 'unknown reason'})`,
    }),
    defineRoute({ ...assembly, eventType: 'invoice.finalized', mode: 'signal', objectId: (e) => e.data.object.id }),
    defineRoute({ ...assembly, eventType: 'invoice.deleted', mode: 'signal', objectId: (e) => e.data.object.id }),
  ];
}
