import { defineRoute, formatAmount } from '@stripe-flows/core';
import { invoiceEventProjection, invoiceProjection, trialSubscriptionProjection, usageAlertTriggeredProjection } from './schemas.js';
import { defaultAssemblyPolicy, type AssemblyPolicy } from './workflows/assembly-policy.js';
import type { DunningPolicy } from './workflows/dunning-policy.js';
import type { TrialEndingPolicy } from './workflows/trial-ending-policy.js';
import type { UsageAlertPolicy } from './workflows/usage-alert-policy.js';

function customerOf(object: { customer: string | { id: string } | null }): string | null {
  return typeof object.customer === 'string' ? object.customer : (object.customer?.id ?? null);
}

/** `invoice in_1 for cus_1 (42.00 USD due)`: an invoice as operators read it in Temporal UI. */
function owedOn(invoice: { id?: string; customer: string | { id: string } | null; amount_remaining: number; currency: string }): string {
  return `invoice ${invoice.id ?? '(no id)'} for ${customerOf(invoice) ?? 'no customer'} (${formatAmount(invoice.amount_remaining, invoice.currency)} due)`;
}

/** Billing routes; `policies` become the start input of the flows they start. */
export function billingRoutes(
  policies: {
    dunning?: Partial<DunningPolicy>;
    assembly?: Partial<AssemblyPolicy>;
    usageAlert?: Partial<UsageAlertPolicy>;
    trialEnding?: Partial<TrialEndingPolicy>;
  } = {},
) {
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
      summary: (e) => `Dunning of ${owedOn(e.data.object)}: payment attempt ${e.data.object.attempt_count} failed`,
    }),
    defineRoute({
      ...dunning,
      eventType: 'invoice.payment_action_required',
      mode: 'start',
      objectId: (e) => e.data.object.id,
      searchIds: (e) => ({ customerId: customerOf(e.data.object) }),
      input,
      summary: (e) => `Dunning of ${owedOn(e.data.object)}: the customer must authenticate the payment`,
    }),
    // Endings only matter to a running dunning flow.
    defineRoute({ ...dunning, eventType: 'invoice.paid', mode: 'signal', objectId: (e) => e.data.object.id }),
    defineRoute({ ...dunning, eventType: 'invoice.voided', mode: 'signal', objectId: (e) => e.data.object.id }),
    defineRoute({ ...dunning, eventType: 'invoice.marked_uncollectible', mode: 'signal', objectId: (e) => e.data.object.id }),
    ...assemblyRoutes(policies.assembly),
    ...alertsTrialsRoutes({ usageAlert: policies.usageAlert, trialEnding: policies.trialEnding }),
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
      summary: (e) => `Assembly of draft invoice ${e.data.object.id} for ${customerOf(e.data.object) ?? 'no customer'} (${e.data.object.billing_reason ?? 'unknown reason'})`,
    }),
    defineRoute({ ...assembly, eventType: 'invoice.finalized', mode: 'signal', objectId: (e) => e.data.object.id }),
    defineRoute({ ...assembly, eventType: 'invoice.deleted', mode: 'signal', objectId: (e) => e.data.object.id }),
  ];
}

/**
 * Object id of a usage alert flow (`billing.alert:<this>`): `<alert id>:<customer id>:<trigger created>`.
 * - A `billing.alert_triggered` has no id of its own. An alert fires once per customer, and again
 *   after it is reactivated (or per period, for recurrences Stripe may add), so alert + customer +
 *   the trigger's own `created` names exactly one trigger.
 * - A redelivery carries the same snapshot, so the same id: the running flow drops it by event id,
 *   and once the flow has ended the dispatcher's REJECT_DUPLICATE ignores it.
 * - A later trigger has a later `created`, so it starts its own flow. An id of alert + customer alone
 *   would have it rejected, because the first trigger's flow already ended.
 */
export function usageAlertObjectId(trigger: { alert: { id: string }; customer: string; created: number }): string {
  return `${trigger.alert.id}:${trigger.customer}:${trigger.created}`;
}

/** Routes of the usage alert and trial ending flows; `policies` become the start input of the flows. */
export function alertsTrialsRoutes(policies: { usageAlert?: Partial<UsageAlertPolicy>; trialEnding?: Partial<TrialEndingPolicy> } = {}) {
  const alert = { flow: 'alert', workflowType: 'handleUsageAlert', projection: usageAlertTriggeredProjection } as const;
  const trial = { flow: 'trial', workflowType: 'remindTrialEnding', projection: trialSubscriptionProjection } as const;
  return [
    // Each trigger of an alert for a customer is one short flow: notify, maybe limit, end.
    defineRoute({
      ...alert,
      eventType: 'billing.alert.triggered',
      mode: 'start',
      objectId: (e) => usageAlertObjectId(e.data.object),
      searchIds: (e) => ({ customerId: e.data.object.customer }),
      input: () => (policies.usageAlert ? { policy: policies.usageAlert } : {}),
      summary: (e) =>
        `Usage alert ${e.data.object.alert.id} for ${e.data.object.customer}: ${e.data.object.value} (threshold ${e.data.object.alert.usage_threshold?.gte ?? '?'})`,
    }),
    // About three days before a trial ends (or at once when it is ended early).
    defineRoute({
      ...trial,
      eventType: 'customer.subscription.trial_will_end',
      mode: 'start',
      objectId: (e) => e.data.object.id,
      searchIds: (e) => ({ customerId: customerOf(e.data.object) }),
      input: () => (policies.trialEnding ? { policy: policies.trialEnding } : {}),
      summary: (e) =>
        `Trial of ${e.data.object.id} for ${customerOf(e.data.object) ?? 'no customer'} ends ${e.data.object.trial_end ? new Date(e.data.object.trial_end * 1000).toISOString() : '(no trial end)'}`,
    }),
    // A payment method added, the trial moved or ended, or a cancellation: only matter to a running flow.
    defineRoute({ ...trial, eventType: 'customer.subscription.updated', mode: 'signal', objectId: (e) => e.data.object.id }),
    defineRoute({ ...trial, eventType: 'customer.subscription.deleted', mode: 'signal', objectId: (e) => e.data.object.id }),
  ];
}
