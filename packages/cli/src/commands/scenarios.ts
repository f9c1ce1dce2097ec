// Named event sequences `stripe-flows trigger --scenario <name>` plays against the dev stack: what
// Stripe sends, in order, with the objects as Stripe holds them at each point. Flows wait days on
// their own schedules, so each scenario ends through an event Stripe itself would send (a retry
// that succeeds, retries exhausted, auto-advance finalizing, verification done, a refund settling).
import { draftInvoice, failedInvoice, type RelatedObject } from '@stripe-flows/testing';

type Json = Record<string, unknown>;

/** What a step can know while the scenario plays. */
export interface ScenarioContext {
  /** This run's fresh ids, by the names the scenario declares (`invoice`, `account`, ...). */
  readonly ids: Readonly<Record<string, string>>;
  /** When the scenario started (unix seconds). */
  readonly startedAt: number;
  /** The object as the Stripe API double holds it now, after what the flows did to it. */
  current(resource: string, id: string): Promise<Json>;
}

export interface ScenarioStep {
  /** What happens at Stripe, in words; printed as the step plays. */
  says: string;
  type: string;
  /** `data.object` as Stripe sends it at this point; also what the double holds when the event is sent. */
  object(ctx: ScenarioContext): Json | Promise<Json>;
  /** Connected account the event comes from (Connect endpoint). */
  account?(ctx: ScenarioContext): string;
  previousAttributes?: Json;
  /** Other objects as Stripe holds them at this point, seeded before the event. */
  seed?(ctx: ScenarioContext): RelatedObject[];
  /** Before sending, wait until this flow's `state` query reports this step (it has acted on what came before). */
  waitFor?: { workflowId(ctx: ScenarioContext): string; step: string };
}

/** The end state a scenario drives a flow to. */
export interface ScenarioExpectation {
  workflowId(ctx: ScenarioContext): string;
  /** `details.outcome` of the flow's `state` query once it completed. */
  outcome: string;
}

export interface Scenario {
  name: string;
  description: string;
  /** Fresh ids per run: name → Stripe id prefix. */
  ids: Readonly<Record<string, string>>;
  steps: readonly ScenarioStep[];
  expect: readonly ScenarioExpectation[];
}

const DAY = 86_400;
const now = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------
// Billing: one subscription invoice, as dunning reads it

const invoiceIds = { invoice: 'in', customer: 'cus', subscription: 'sub' } as const;

function subscriptionInvoice(ctx: ScenarioContext, state: Json): Json {
  const { invoice, customer, subscription } = ctx.ids as Record<keyof typeof invoiceIds, string>;
  return failedInvoice({
    id: invoice,
    customer,
    subscription,
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription } },
    status_transitions: { finalized_at: ctx.startedAt - 3600, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    ...state,
  });
}

const customerSeed = (ctx: ScenarioContext): RelatedObject => ({ resource: 'customer', object: { id: ctx.ids.customer as string, invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null } } });
const subscriptionSeed = (ctx: ScenarioContext, status: string): RelatedObject => ({
  resource: 'subscription',
  object: { id: ctx.ids.subscription as string, customer: ctx.ids.customer, status, collection_method: 'charge_automatically', cancel_at: null, canceled_at: null, ended_at: null, trial_end: null, cancel_at_period_end: false },
});
const dunningOf = (ctx: ScenarioContext) => `billing.dunning:${ctx.ids.invoice}`;

/** Attempt `n` of 4 failed; Stripe's smart retries schedule the next one days later (none after the 4th). */
function failedAttempt(n: number, of: number): ScenarioStep {
  return {
    says: `payment attempt ${n} of ${of} fails${n < of ? `; Stripe schedules retry ${n + 1}` : '; no retry left'}`,
    type: 'invoice.payment_failed',
    object: (ctx) => subscriptionInvoice(ctx, { attempt_count: n, next_payment_attempt: n < of ? now() + ([3, 5, 7][n - 1] ?? 7) * DAY : null }),
    seed: (ctx) => [customerSeed(ctx), subscriptionSeed(ctx, 'past_due')],
    ...(n > 1 ? { waitFor: { workflowId: dunningOf, step: 'waiting_for_payment' } } : {}),
  };
}

const paymentRecovered: Scenario = {
  name: 'payment-recovered',
  description: "A subscription payment fails (invoice.payment_failed), Stripe's next retry succeeds (invoice.paid): dunning ends recovered.",
  ids: invoiceIds,
  steps: [
    {
      says: 'the renewal payment fails; Stripe schedules a retry in 3 days',
      type: 'invoice.payment_failed',
      object: (ctx) => subscriptionInvoice(ctx, { attempt_count: 1, next_payment_attempt: now() + 3 * DAY }),
      seed: (ctx) => [customerSeed(ctx), subscriptionSeed(ctx, 'past_due')],
    },
    {
      says: "Stripe's retry succeeds",
      type: 'invoice.paid',
      object: (ctx) => subscriptionInvoice(ctx, { status: 'paid', attempt_count: 2, attempted: true, next_payment_attempt: null, amount_paid: 4200, amount_remaining: 0, status_transitions: { finalized_at: ctx.startedAt - 3600, marked_uncollectible_at: null, paid_at: now(), voided_at: null } }),
      seed: (ctx) => [subscriptionSeed(ctx, 'active')],
      waitFor: { workflowId: dunningOf, step: 'waiting_for_payment' },
    },
  ],
  expect: [{ workflowId: dunningOf, outcome: 'recovered' }],
};

const paymentUncollectible: Scenario = {
  name: 'payment-uncollectible',
  description:
    "Four payment attempts fail (invoice.payment_failed 1..4), then Stripe's retry settings mark the invoice uncollectible (invoice.marked_uncollectible): dunning ends marked_uncollectible.",
  ids: invoiceIds,
  steps: [
    failedAttempt(1, 4),
    failedAttempt(2, 4),
    failedAttempt(3, 4),
    failedAttempt(4, 4),
    {
      says: 'retries exhausted: Stripe marks the invoice uncollectible (Billing settings: "mark the invoice as uncollectible")',
      type: 'invoice.marked_uncollectible',
      object: (ctx) => subscriptionInvoice(ctx, { status: 'uncollectible', attempt_count: 4, next_payment_attempt: null, status_transitions: { finalized_at: ctx.startedAt - 3600, marked_uncollectible_at: now(), paid_at: null, voided_at: null } }),
      seed: (ctx) => [subscriptionSeed(ctx, 'unpaid')],
      waitFor: { workflowId: dunningOf, step: 'waiting_for_payment' },
    },
  ],
  expect: [{ workflowId: dunningOf, outcome: 'marked_uncollectible' }],
};

// ---------------------------------------------------------------------------------------------
// Billing: a renewal's draft invoice, assembled within Stripe's one-hour window

const draftAssembly: Scenario = {
  name: 'draft-assembly',
  description:
    'A subscription renews (invoice.created, a draft) while the customer has two pending invoice items: assembly puts them on the invoice; Stripe auto-advances it (invoice.finalized): assembly ends finalized.',
  ids: { ...invoiceIds, support: 'ii', seats: 'ii', line: 'il', item: 'si' },
  steps: [
    {
      says: 'the subscription renews: Stripe creates a draft invoice and finalizes it in about an hour',
      type: 'invoice.created',
      object: (ctx) => {
        const { invoice, customer, subscription, line, item } = ctx.ids as Record<string, string>;
        const draft = draftInvoice({ id: invoice, customer, subscription, parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription } } });
        const lines = draft.lines as { data: Json[] };
        // The subscription's own line, with this run's ids.
        lines.data = lines.data.map((l) => ({ ...l, id: line, invoice, subscription, parent: { type: 'subscription_item_details', invoice_item_details: null, subscription_item_details: { invoice_item: null, proration: false, subscription, subscription_item: item } } }));
        return { ...draft, lines: { ...draft.lines as Json, url: `/v1/invoices/${invoice}/lines` } };
      },
      seed: (ctx) => {
        const period = { start: now() - 30 * DAY, end: now() };
        const pending = (id: string, amount: number, description: string): RelatedObject => ({
          resource: 'invoiceitem',
          object: { id, customer: ctx.ids.customer, currency: 'usd', amount, description, invoice: null, period, metadata: {}, quantity: 1 },
        });
        return [customerSeed(ctx), subscriptionSeed(ctx, 'active'), pending(ctx.ids.support as string, 3000, 'Support hours (2 × $15.00)'), pending(ctx.ids.seats as string, 1200, 'Extra seats (3 × $4.00)')];
      },
    },
    {
      says: 'an hour later Stripe finalizes the invoice (auto_advance)',
      type: 'invoice.finalized',
      // The invoice as the flow left it (lines added, metadata stamped), now open.
      object: async (ctx) => ({
        ...(await ctx.current('invoice', ctx.ids.invoice as string)),
        status: 'open',
        number: `SF-${String(ctx.startedAt).slice(-6)}`,
        hosted_invoice_url: 'https://invoice.stripe.com/i/acct_test/test_hosted',
        next_payment_attempt: now() + 3600,
        status_transitions: { finalized_at: now(), marked_uncollectible_at: null, paid_at: null, voided_at: null },
      }),
      waitFor: { workflowId: (ctx) => `billing.assembly:${ctx.ids.invoice}`, step: 'awaiting_finalization' },
    },
  ],
  expect: [{ workflowId: (ctx) => `billing.assembly:${ctx.ids.invoice}`, outcome: 'finalized' }],
};

// ---------------------------------------------------------------------------------------------
// Connect: an Express account from sign-up to charges and payouts enabled

const requirements = (state: Partial<Record<'currently_due' | 'eventually_due' | 'pending_verification', string[]>>, disabledReason: string | null): Json => ({
  alternatives: [], current_deadline: null, past_due: [], errors: [], currently_due: [], eventually_due: [], pending_verification: [], ...state, disabled_reason: disabledReason,
});
const DUE = ['business_profile.url', 'external_account', 'individual.verification.document', 'tos_acceptance.date', 'tos_acceptance.ip'];
const onboardingOf = (ctx: ScenarioContext) => `connect.onboarding:${ctx.ids.account}`;
const account = (ctx: ScenarioContext, state: Json): Json => ({ id: ctx.ids.account, object: 'account', type: 'express', controller: { type: 'application' }, ...state });

const accountOnboarding: Scenario = {
  name: 'account-onboarding',
  description:
    'A new Express account has requirements due (account.updated), submits them and waits for verification (capability.updated: pending), then is verified (account.updated: charges and payouts enabled): onboarding ends onboarded.',
  ids: { account: 'acct' },
  steps: [
    {
      says: 'a connected account signs up; Stripe lists what it must provide',
      type: 'account.updated',
      account: (ctx) => ctx.ids.account as string,
      object: (ctx) => account(ctx, {
        charges_enabled: false, payouts_enabled: false, details_submitted: false,
        capabilities: { card_payments: 'inactive', transfers: 'inactive' },
        requirements: requirements({ currently_due: DUE, eventually_due: DUE }, 'requirements.past_due'),
      }),
    },
    {
      says: 'the account submits its details; Stripe verifies the document (capabilities pending)',
      type: 'capability.updated',
      account: (ctx) => ctx.ids.account as string,
      object: (ctx) => ({ id: 'card_payments', object: 'capability', account: ctx.ids.account, requested: true, requested_at: ctx.startedAt, status: 'pending', requirements: requirements({ pending_verification: ['individual.verification.document'] }, null) }),
      seed: (ctx) => [{
        resource: 'account',
        object: account(ctx, {
          charges_enabled: false, payouts_enabled: false, details_submitted: true,
          capabilities: { card_payments: 'pending', transfers: 'pending' },
          requirements: requirements({ pending_verification: ['individual.verification.document'] }, 'requirements.pending_verification'),
        }) as Json & { id: string },
      }],
      waitFor: { workflowId: onboardingOf, step: 'waiting_for_account' },
    },
    {
      says: 'Stripe verifies the account: charges and payouts enabled, nothing due',
      type: 'account.updated',
      account: (ctx) => ctx.ids.account as string,
      object: (ctx) => account(ctx, {
        charges_enabled: true, payouts_enabled: true, details_submitted: true,
        capabilities: { card_payments: 'active', transfers: 'active' },
        requirements: requirements({}, null),
      }),
      previousAttributes: { charges_enabled: false, payouts_enabled: false },
      waitFor: { workflowId: onboardingOf, step: 'waiting_for_verification' },
    },
  ],
  expect: [{ workflowId: onboardingOf, outcome: 'onboarded' }],
};

// ---------------------------------------------------------------------------------------------
// Connect: a destination charge refunded, its transfer reversed

const reversalOf = (ctx: ScenarioContext) => `connect.reversal:${ctx.ids.charge}`;
const AMOUNT = 5000;
const TRANSFERRED = 4500; // the rest is the platform's fee

const destinationCharge = (ctx: ScenarioContext): Json => ({
  id: ctx.ids.charge, object: 'charge', amount: AMOUNT, amount_captured: AMOUNT, amount_refunded: AMOUNT, refunded: true, captured: true, paid: true, status: 'succeeded',
  currency: 'usd', customer: null, application_fee: null, application_fee_amount: null, disputed: false,
  transfer: ctx.ids.transfer, transfer_data: { amount: TRANSFERRED, destination: ctx.ids.account }, transfer_group: null, on_behalf_of: null,
});
const refund = (ctx: ScenarioContext, status: 'pending' | 'succeeded'): Json & { id: string } => ({
  id: ctx.ids.refund as string, object: 'refund', amount: AMOUNT, charge: ctx.ids.charge, currency: 'usd', created: ctx.startedAt, reason: 'requested_by_customer', status, transfer_reversal: null, metadata: {},
});

const refundReversal: Scenario = {
  name: 'refund-reversal',
  description:
    "A destination charge that funded a connected account's transfer is refunded in full (charge.refunded, refund pending), then the refund succeeds (charge.refund.updated): the transfer is reversed and the reversal flow ends settled.",
  ids: { charge: 'ch', transfer: 'tr', account: 'acct', refund: 're' },
  steps: [
    {
      says: `the platform refunds a $${AMOUNT / 100} destination charge in full; the card refund is pending`,
      type: 'charge.refunded',
      object: destinationCharge,
      previousAttributes: { amount_refunded: 0, refunded: false },
      seed: (ctx) => [
        { resource: 'account', object: { id: ctx.ids.account as string, charges_enabled: true, payouts_enabled: true, details_submitted: true } },
        { resource: 'transfer', object: { id: ctx.ids.transfer as string, amount: TRANSFERRED, currency: 'usd', destination: ctx.ids.account, source_transaction: ctx.ids.charge, amount_reversed: 0, reversed: false, transfer_group: null } },
        { resource: 'refund', object: refund(ctx, 'pending') },
      ],
    },
    {
      says: 'the refund succeeds',
      type: 'charge.refund.updated',
      object: (ctx) => refund(ctx, 'succeeded'),
      previousAttributes: { status: 'pending' },
      waitFor: { workflowId: reversalOf, step: 'watching' },
    },
  ],
  expect: [{ workflowId: reversalOf, outcome: 'settled' }],
};

/** Every scenario, in the order `trigger --list` shows them. */
export const scenarios: readonly Scenario[] = [paymentRecovered, paymentUncollectible, draftAssembly, accountOnboarding, refundReversal];
