import { z } from 'zod';
import { stripeIdRef } from '@stripe-flows/core';

const ids = () => z.array(z.string()).nullable().optional().transform((v) => v ?? []);

/**
 * An account's or capability's `requirements`. Error `reason` texts are left out: they can echo
 * what the account submitted. Only the requirement and Stripe's error code travel.
 */
export const requirementsProjection = z
  .object({
    currently_due: ids(),
    eventually_due: ids(),
    past_due: ids(),
    pending_verification: ids(),
    current_deadline: z.number().int().nullable().optional(),
    disabled_reason: z.string().nullable().optional(),
    errors: z
      .array(z.object({ code: z.string(), requirement: z.string() }))
      .nullable()
      .optional(),
  })
  .transform((r) => ({
    currentlyDue: r.currently_due,
    eventuallyDue: r.eventually_due,
    pastDue: r.past_due,
    pendingVerification: r.pending_verification,
    currentDeadline: r.current_deadline ?? null,
    disabledReason: r.disabled_reason ?? null,
    errors: (r.errors ?? []).map((e) => ({ code: e.code, requirement: e.requirement })),
  }));
export type Requirements = z.output<typeof requirementsProjection>;

const noRequirements: Requirements = {
  currentlyDue: [], eventuallyDue: [], pastDue: [], pendingVerification: [], currentDeadline: null, disabledReason: null, errors: [],
};

/**
 * What onboarding reads of a connected account. No business profile, email, company or person
 * data: only switches, capability statuses and requirement names.
 */
export const accountProjection = z
  .object({
    id: z.string().startsWith('acct_', 'must be a connected account id (acct_...)'),
    charges_enabled: z.boolean(),
    payouts_enabled: z.boolean(),
    details_submitted: z.boolean(),
    /** `{ card_payments: 'active', transfers: 'pending', ... }`: every capability's status, as of this snapshot. */
    capabilities: z.record(z.string(), z.string()).nullable().optional(),
    requirements: requirementsProjection.nullable().optional(),
  })
  .transform((a) => ({
    id: a.id,
    chargesEnabled: a.charges_enabled,
    payoutsEnabled: a.payouts_enabled,
    detailsSubmitted: a.details_submitted,
    ...(a.capabilities ? { capabilities: a.capabilities } : {}),
    requirements: a.requirements ?? noRequirements,
  }));
export type AccountSnapshot = z.output<typeof accountProjection>;

/** A capability (`card_payments`, `transfers`, ...) of a connected account. */
export const capabilityProjection = z
  .object({
    id: z.string().min(1),
    account: stripeIdRef(),
    status: z.enum(['active', 'inactive', 'pending', 'unrequested', 'disabled']),
    requirements: requirementsProjection.nullable().optional(),
  })
  .transform((c) => ({ id: c.id, accountId: c.account, status: c.status, requirements: c.requirements ?? noRequirements }));
export type CapabilitySnapshot = z.output<typeof capabilityProjection>;

/** `account.application.deauthorized`: the account disconnected the platform. */
export const applicationProjection = z.object({ id: z.string().min(1) }).transform((a) => ({ applicationId: a.id }));

/**
 * What the reversal flow reads of a charge: amounts and how it funded a connected account
 * (destination charge: `transfer` / `transfer_data.destination`; separate charges and transfers:
 * `transfer_group`; direct charge: `application_fee`). No billing details, no card data.
 */
export const chargeProjection = z
  .object({
    id: z.string().startsWith('ch_', 'must be a charge id (ch_...)'),
    amount: z.number().int().nonnegative(),
    amount_refunded: z.number().int().nonnegative(),
    currency: z.string().length(3),
    refunded: z.boolean().optional(),
    transfer: stripeIdRef().nullable().optional(),
    transfer_data: z.object({ destination: stripeIdRef().nullable().optional() }).nullable().optional(),
    transfer_group: z.string().nullable().optional(),
    application_fee: stripeIdRef().nullable().optional(),
    application_fee_amount: z.number().int().nullable().optional(),
  })
  .transform((c) => ({
    id: c.id,
    amount: c.amount,
    amountRefunded: c.amount_refunded,
    currency: c.currency,
    transferId: c.transfer ?? null,
    destination: c.transfer_data?.destination ?? null,
    transferGroup: c.transfer_group ?? null,
    applicationFeeId: c.application_fee ?? null,
    applicationFeeAmount: c.application_fee_amount ?? null,
  }));
export type ChargeSnapshot = z.output<typeof chargeProjection>;

/** A refund of a charge (`charge.refund.updated`, and the refunds list the flow reads). */
export const refundProjection = z
  .object({
    id: z.string().startsWith('re_', 'must be a refund id (re_...)').or(z.string().startsWith('pyr_')),
    amount: z.number().int().nonnegative(),
    charge: stripeIdRef().nullable(),
    created: z.number().int(),
    status: z.string().nullable().optional(),
    transfer_reversal: stripeIdRef().nullable().optional(),
  })
  .transform((r) => ({
    id: r.id,
    amount: r.amount,
    chargeId: r.charge,
    created: r.created,
    status: r.status ?? 'succeeded',
    // Set when the refund was made with reverse_transfer=true: Stripe already reversed.
    transferReversalId: r.transfer_reversal ?? null,
  }));
export type RefundSnapshot = z.output<typeof refundProjection>;

/** A dispute, for `charge.dispute.closed`: which charge, how much, and how it ended. */
export const disputeProjection = z
  .object({
    id: z.string().startsWith('dp_', 'must be a dispute id (dp_...)').or(z.string().startsWith('du_')),
    charge: stripeIdRef(),
    amount: z.number().int().nonnegative(),
    currency: z.string().length(3),
    status: z.string(),
    created: z.number().int(),
  })
  .transform((d) => ({ id: d.id, chargeId: d.charge, amount: d.amount, currency: d.currency, status: d.status, created: d.created }));
export type DisputeSnapshot = z.output<typeof disputeProjection>;

/** What the reversal flow reads of a transfer: how much of it is left to reverse. */
export interface TransferSnapshot {
  id: string;
  amount: number;
  amountReversed: number;
  currency: string;
  destination: string | null;
  /** Refund/dispute ids (reversal metadata `stripe_flows_for`) this transfer was already reversed for. */
  reversedFor: string[];
}

/** A connected account's payout. `destination` is the external account id only, never its details. */
export const payoutProjection = z
  .object({
    id: z.string().startsWith('po_', 'must be a payout id (po_...)'),
    amount: z.number().int(),
    currency: z.string().length(3),
    status: z.enum(['paid', 'pending', 'in_transit', 'canceled', 'failed']),
    created: z.number().int(),
    arrival_date: z.number().int().nullable().optional(),
    automatic: z.boolean().optional(),
    destination: stripeIdRef().nullable().optional(),
    failure_code: z.string().nullable().optional(),
  })
  .transform((p) => ({
    id: p.id,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    created: p.created,
    arrivalDate: p.arrival_date ?? null,
    automatic: p.automatic ?? true,
    destination: p.destination ?? null,
    failureCode: p.failure_code ?? null,
  }));
export type PayoutSnapshot = z.output<typeof payoutProjection>;

/** An external account (bank account or card) of a connected account: id, last4 and status only. */
export const externalAccountProjection = z
  .object({
    id: z.string().min(1),
    object: z.enum(['bank_account', 'card']),
    last4: z.string().nullable().optional(),
    status: z.string().nullable().optional(),
    default_for_currency: z.boolean().nullable().optional(),
  })
  .transform((e) => ({
    id: e.id,
    kind: e.object,
    last4: e.last4 ?? null,
    status: e.status ?? null,
    defaultForCurrency: e.default_for_currency ?? false,
  }));
export type ExternalAccountSnapshot = z.output<typeof externalAccountProjection>;
