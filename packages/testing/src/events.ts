import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fixturesDir } from './paths.js';

type Json = Record<string, unknown>;

let resources: Record<string, Json> | undefined;

/** Stripe's example object for a resource (`invoice`, `account`, `issuing.dispute`, ...), deep-copied. */
export function stripeObject(resource: string): Json {
  resources ??= (JSON.parse(readFileSync(join(fixturesDir, 'stripe-objects.json'), 'utf8')) as { resources: Record<string, Json> }).resources;
  const found = resources[resource];
  if (!found) throw new Error(`No Stripe fixture for resource "${resource}" in ${fixturesDir}/stripe-objects.json.`);
  return structuredClone(found);
}

/** Resource an event type's `data.object` is (`invoice.paid` → invoice, `customer.subscription.updated` → subscription). */
export function resourceForEventType(type: string): string {
  const exceptions: Record<string, string> = {
    'customer.subscription': 'subscription',
    'charge.dispute': 'dispute',
    'charge.refund': 'refund',
    'account.external_account': 'bank_account',
    'account.application': 'application',
    'billing.alert': 'billing.alert_triggered',
    'invoiceitem': 'invoiceitem',
  };
  const parts = type.split('.');
  for (let n = parts.length - 1; n >= 1; n--) {
    const prefix = parts.slice(0, n).join('.');
    if (exceptions[prefix]) return exceptions[prefix];
    const candidate = prefix.replace(/^issuing_/, 'issuing.').replace(/^treasury\./, 'treasury.');
    if (resources?.[candidate] ?? tryLoad(candidate)) return candidate;
  }
  throw new Error(`Cannot tell which Stripe object an event of type ${type} carries; pass { resource } explicitly.`);
}

function tryLoad(resource: string): boolean {
  try {
    stripeObject(resource);
    return true;
  } catch {
    return false;
  }
}

/** A fresh Stripe-style id with the given prefix. */
export function stripeId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

export interface BuildEventOptions {
  /** Fields merged over the fixture object (shallow). */
  object?: Json;
  /** Override the resource whose fixture shapes `data.object`. */
  resource?: string;
  id?: string;
  created?: number;
  livemode?: boolean;
  account?: string;
  apiVersion?: string;
  previousAttributes?: Json;
}

/**
 * A Stripe event envelope shaped like Stripe's, with `data.object` from Stripe's example object
 * for the event's resource and your overrides on top.
 */
export function buildEvent(type: string, options: BuildEventOptions = {}): Json {
  const resource = options.resource ?? resourceForEventType(type);
  const object = { ...stripeObject(resource), ...(options.object ?? {}) };
  return {
    id: options.id ?? stripeId('evt'),
    object: 'event',
    api_version: options.apiVersion ?? '2026-10-28.endive',
    created: options.created ?? Math.floor(Date.now() / 1000),
    livemode: options.livemode ?? false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    ...(options.account ? { account: options.account } : {}),
    data: {
      object,
      ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}),
    },
  };
}

/** An open invoice that failed payment, as `invoice.payment_failed` carries it. */
export function failedInvoice(overrides: Json = {}): Json {
  const subscription = stripeId('sub');
  return {
    id: stripeId('in'),
    billing_reason: 'subscription_cycle',
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription } },
    subscription,
    status: 'open',
    customer: stripeId('cus'),
    collection_method: 'charge_automatically',
    attempt_count: 1,
    attempted: true,
    next_payment_attempt: Math.floor(Date.now() / 1000) + 3 * 86400,
    amount_due: 4200,
    amount_remaining: 4200,
    currency: 'usd',
    hosted_invoice_url: 'https://invoice.stripe.com/i/acct_test/test_hosted',
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Realistic events: what Stripe sends in the typical case each stripe-flows route handles, and
// the objects a flow reads next to it. Used by `stripe-flows trigger` and its scenarios.

const DAY_S = 86_400;
const nowS = () => Math.floor(Date.now() / 1000);

/** An object Stripe holds next to an event's object (the transfer a refunded charge funded, ...). */
export interface RelatedObject {
  /** Stripe object name (`customer`, `transfer`, `invoiceitem`, ...). */
  resource: string;
  object: Json & { id: string };
  /** The connected account the object lives on (objects read with `Stripe-Account`). */
  stripeAccount?: string;
}

export interface RealisticEventOptions {
  /** Connected account the event comes from (`event.account`); also the object's account where it has one. */
  account?: string;
  id?: string;
  created?: number;
}

/** Event types whose object lives on a connected account: they always carry `event.account`. */
const CONNECTED_ACCOUNT_TYPES = new Set(['account.updated', 'capability.updated', 'account.application.deauthorized', 'payout.failed', 'payout.paid']);

/** Whether Stripe sends this event type only from connected accounts (Connect endpoint). */
export function isConnectedAccountEventType(type: string): boolean {
  return CONNECTED_ACCOUNT_TYPES.has(type);
}

/** A subscription invoice in the state an invoice event reports. */
function invoiceFor(type: string): Json {
  const now = nowS();
  const failed = failedInvoice();
  const transitions = { finalized_at: now - 3 * DAY_S, marked_uncollectible_at: null, paid_at: null, voided_at: null };
  switch (type) {
    case 'invoice.payment_failed':
      return { ...failed, status_transitions: transitions };
    case 'invoice.payment_action_required':
      return { ...failed, attempt_count: 1, next_payment_attempt: null, status_transitions: transitions };
    case 'invoice.paid':
      return { ...failed, status: 'paid', attempt_count: 2, next_payment_attempt: null, amount_paid: 4200, amount_remaining: 0, status_transitions: { ...transitions, paid_at: now } };
    case 'invoice.voided':
      return { ...failed, status: 'void', next_payment_attempt: null, status_transitions: { ...transitions, voided_at: now } };
    case 'invoice.marked_uncollectible':
      return { ...failed, status: 'uncollectible', attempt_count: 4, next_payment_attempt: null, status_transitions: { ...transitions, marked_uncollectible_at: now } };
    case 'invoice.finalized':
      return { ...draftInvoice(), status: 'open', number: `SF-${String(now).slice(-6)}`, hosted_invoice_url: failed.hosted_invoice_url, next_payment_attempt: now + 3600, status_transitions: { ...transitions, finalized_at: now } };
    default:
      return draftInvoice();
  }
}

/**
 * A draft subscription-cycle invoice as `invoice.created` carries it: the subscription's line,
 * auto-advancing about an hour later.
 */
export function draftInvoice(overrides: Json = {}): Json {
  const now = nowS();
  const subscription = stripeId('sub');
  const id = stripeId('in');
  return {
    id,
    status: 'draft',
    billing_reason: 'subscription_cycle',
    customer: stripeId('cus'),
    subscription,
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription } },
    collection_method: 'charge_automatically',
    auto_advance: true,
    automatically_finalizes_at: now + 3600,
    attempt_count: 0,
    attempted: false,
    next_payment_attempt: null,
    amount_due: 2000,
    amount_paid: 0,
    amount_remaining: 2000,
    subtotal: 2000,
    total: 2000,
    currency: 'usd',
    number: null,
    hosted_invoice_url: null,
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    lines: {
      object: 'list',
      has_more: false,
      url: `/v1/invoices/${id}/lines`,
      data: [
        {
          id: stripeId('il'), object: 'line_item', type: 'subscription', amount: 2000, currency: 'usd', description: '1 × Pro (at $20.00 / month)',
          invoice: id, quantity: 1, metadata: {}, period: { start: now, end: now + 30 * DAY_S }, subscription,
          parent: { type: 'subscription_item_details', invoice_item_details: null, subscription_item_details: { invoice_item: null, proration: false, subscription, subscription_item: stripeId('si') } },
        },
      ],
    },
    ...overrides,
  };
}

/** A trialing subscription without a payment method, in the state a subscription event reports. */
function subscriptionFor(type: string): Json {
  const now = nowS();
  const base = {
    id: stripeId('sub'), customer: stripeId('cus'), status: 'trialing', collection_method: 'charge_automatically',
    trial_start: now - 11 * DAY_S, trial_end: now + 3 * DAY_S, cancel_at: null, canceled_at: null, ended_at: null, cancel_at_period_end: false,
    default_payment_method: null, default_source: null, latest_invoice: null, schedule: null, pause_collection: null, transfer_data: null,
    trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
  };
  if (type === 'customer.subscription.updated') return { ...base, default_payment_method: stripeId('pm') };
  if (type === 'customer.subscription.deleted') {
    return { ...base, status: 'canceled', canceled_at: now, ended_at: now, cancellation_details: { comment: null, feedback: null, reason: 'cancellation_requested' } };
  }
  return base;
}

/** A connected account still collecting requirements (a fresh Express account). */
function onboardingAccount(id: string): Json {
  const due = ['business_profile.url', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'];
  return {
    id, type: 'express', charges_enabled: false, payouts_enabled: false, details_submitted: false,
    capabilities: { card_payments: 'inactive', transfers: 'inactive' },
    requirements: { alternatives: [], current_deadline: null, currently_due: due, eventually_due: due, past_due: [], pending_verification: [], disabled_reason: 'requirements.past_due', errors: [] },
  };
}

/** A destination charge (platform) that funded a transfer, or a direct charge with an application fee (connected account). */
function chargeFor(type: string, account: string | undefined): Json {
  const amount = 5000;
  const refunded = type === 'charge.refunded';
  const base = { id: stripeId('ch'), amount, amount_captured: amount, amount_refunded: refunded ? amount : 0, refunded, captured: true, paid: true, status: 'succeeded', currency: 'usd', disputed: false, customer: null };
  if (account) return { ...base, application_fee: stripeId('fee'), application_fee_amount: 500, transfer: null, transfer_data: null, transfer_group: null, on_behalf_of: null };
  return { ...base, application_fee: null, application_fee_amount: null, transfer: stripeId('tr'), transfer_data: { amount: 4500, destination: stripeId('acct') }, transfer_group: null };
}

/** A connected account's payout to its bank account. */
function payoutFor(type: string): Json {
  const now = nowS();
  const failed = type === 'payout.failed';
  return {
    id: stripeId('po'), amount: 12000, currency: 'usd', automatic: true, created: now - 2 * DAY_S, arrival_date: now, destination: stripeId('ba'),
    status: failed ? 'failed' : 'paid', failure_code: failed ? 'account_closed' : null, failure_message: failed ? 'The bank account has been closed.' : null,
    failure_balance_transaction: failed ? stripeId('txn') : null, method: 'standard', type: 'bank_account', reconciliation_status: 'not_applicable',
  };
}

function objectFor(type: string, account: string | undefined): Json {
  const now = nowS();
  if (type.startsWith('invoice.')) return invoiceFor(type);
  if (type.startsWith('customer.subscription.')) return subscriptionFor(type);
  switch (type) {
    case 'billing.alert.triggered':
      return {
        object: 'billing.alert_triggered', customer: stripeId('cus'), created: now, livemode: false, value: 100_250,
        alert: {
          id: stripeId('alrt'), object: 'billing.alert', alert_type: 'usage_threshold', livemode: false, status: 'active', title: 'API requests over 100k',
          usage_threshold: { filters: null, gte: 100_000, meter: stripeId('mtr'), recurrence: 'one_time' },
        },
      };
    case 'account.updated':
      return onboardingAccount(account ?? stripeId('acct'));
    case 'capability.updated':
      return { id: 'card_payments', object: 'capability', account: account ?? stripeId('acct'), requested: true, requested_at: now - DAY_S, status: 'pending', requirements: { alternatives: [], current_deadline: null, currently_due: [], eventually_due: [], past_due: [], pending_verification: ['individual.verification.document'], disabled_reason: null, errors: [] } };
    case 'account.application.deauthorized':
      return { id: stripeId('ca'), object: 'application', name: 'stripe-flows platform' };
    case 'charge.refunded':
      return chargeFor(type, account);
    case 'charge.dispute.closed':
      return { id: stripeId('dp'), charge: stripeId('ch'), amount: 5000, currency: 'usd', status: 'lost', reason: 'fraudulent', created: now - 30 * DAY_S, is_charge_refundable: false };
    case 'charge.refund.updated':
      return { id: stripeId('re'), charge: stripeId('ch'), amount: 5000, currency: 'usd', status: 'succeeded', created: now - 60, reason: 'requested_by_customer', transfer_reversal: null, metadata: {} };
    case 'payout.failed':
    case 'payout.paid':
      return payoutFor(type);
    default: {
      // No scene for this type: Stripe's example object with a fresh id of the same kind.
      const example = stripeObject(resourceForEventType(type));
      const prefix = typeof example.id === 'string' && example.id.includes('_') ? example.id.slice(0, example.id.indexOf('_')) : undefined;
      return prefix ? { id: stripeId(prefix) } : {};
    }
  }
}

/**
 * An event of `type` shaped like the one Stripe sends in the typical case each stripe-flows route
 * handles: fresh ids, and `data.object` (Stripe's example object underneath) in the state the type
 * implies — a failed open invoice for `invoice.payment_failed`, a draft subscription invoice for
 * `invoice.created`, a refunded destination charge for `charge.refunded`, a connected account's
 * failed payout for `payout.failed`. Connected accounts' event types always carry `account` (a
 * fresh `acct_` unless given); with `account`, a charge is a direct charge on that account.
 */
export function realisticEvent(type: string, options: RealisticEventOptions = {}): Json {
  const account = options.account ?? (isConnectedAccountEventType(type) ? stripeId('acct') : undefined);
  const previousAttributes = type === 'account.updated'
    ? { requirements: { currently_due: [] } }
    : type === 'customer.subscription.updated'
      ? { default_payment_method: null }
      : undefined;
  const event = buildEvent(type, {
    object: objectFor(type, account),
    ...(account ? { account } : {}),
    ...(options.id ? { id: options.id } : {}),
    ...(options.created !== undefined ? { created: options.created } : {}),
    ...(previousAttributes ? { previousAttributes } : {}),
  });
  if (account) {
    // The account is the object itself (account.updated), or the object's own account field where
    // it has one (a capability, a person, a bank account).
    const object = (event.data as { object: Json }).object;
    if (object.object === 'account') object.id = account;
    else if ('account' in object) object.account = account;
  }
  return event;
}

const refId = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'object' && value !== null && typeof (value as Json).id === 'string' ? ((value as Json).id as string) : undefined;

/** The transfer (and destination account) a destination charge funded. */
function fundedTransfer(charge: Json): RelatedObject[] {
  const transfer = refId(charge.transfer);
  const data = (charge.transfer_data ?? null) as Json | null;
  const destination = refId(data?.destination);
  if (!transfer || !destination) return [];
  const amount = typeof data?.amount === 'number' ? data.amount : charge.amount;
  return [
    { resource: 'account', object: { id: destination, charges_enabled: true, payouts_enabled: true, details_submitted: true } },
    { resource: 'transfer', object: { id: transfer, amount, currency: charge.currency, destination, source_transaction: charge.id, amount_reversed: 0, reversed: false, transfer_group: charge.transfer_group ?? null } },
  ];
}

/**
 * What Stripe holds next to an event's object, as the flows read it (derived from the event, so
 * it follows any change made to the event): the customer of an invoice, the pending invoice items
 * a draft invoice will take, the charge, transfer and refund behind a refund, the account and bank
 * account behind a payout. The event's own object is not included.
 */
export function relatedObjects(event: Json): RelatedObject[] {
  const type = String(event.type);
  const object = ((event.data as Json | undefined)?.object ?? {}) as Json;
  const account = typeof event.account === 'string' ? event.account : undefined;
  const on = account ? { stripeAccount: account } : {};
  const customer = refId(object.customer);
  const related: RelatedObject[] = [];
  if ((type.startsWith('invoice.') || type.startsWith('customer.subscription.') || type === 'billing.alert.triggered') && customer?.startsWith('cus_')) {
    related.push({ resource: 'customer', object: { id: customer, invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null }, default_source: null }, ...on });
  }
  if (type === 'invoice.created' && customer && object.status === 'draft') {
    // Charges waiting for this invoice: what draft invoice assembly adds.
    const period = { start: nowS() - 30 * DAY_S, end: nowS() };
    for (const [amount, description] of [[3000, 'Support hours (2 × $15.00)'], [1200, 'Extra seats (3 × $4.00)']] as const) {
      related.push({ resource: 'invoiceitem', object: { id: stripeId('ii'), customer, currency: object.currency ?? 'usd', amount, description, invoice: null, period, metadata: {}, quantity: 1 }, ...on });
    }
  }
  switch (type) {
    case 'capability.updated': {
      const owner = refId(object.account);
      if (owner) {
        const pending = object.status === 'pending' ? ['individual.verification.document'] : [];
        related.push({
          resource: 'account',
          object: {
            id: owner, charges_enabled: object.status === 'active', payouts_enabled: object.status === 'active', details_submitted: true,
            capabilities: { [String(object.id)]: object.status },
            requirements: { alternatives: [], current_deadline: null, currently_due: [], eventually_due: [], past_due: [], pending_verification: pending, disabled_reason: null, errors: [] },
          },
        });
      }
      break;
    }
    case 'charge.refunded': {
      related.push(...fundedTransfer(object));
      if (typeof object.application_fee === 'string') {
        related.push({ resource: 'application_fee', object: { id: object.application_fee, amount: object.application_fee_amount ?? 0, charge: object.id, currency: object.currency, account: account ?? null, amount_refunded: 0, refunded: false } });
      }
      if (typeof object.amount_refunded === 'number' && object.amount_refunded > 0) {
        related.push({ resource: 'refund', object: { id: stripeId('re'), charge: object.id, amount: object.amount_refunded, currency: object.currency, status: 'succeeded', created: nowS() - 5, transfer_reversal: null, metadata: {} }, ...on });
      }
      break;
    }
    case 'charge.refund.updated':
    case 'charge.dispute.closed': {
      const chargeId = refId(object.charge);
      if (!chargeId) break;
      const refund = type === 'charge.refund.updated';
      const charge: Json = account
        ? { id: chargeId, amount: object.amount, currency: object.currency, amount_refunded: refund ? object.amount : 0, refunded: refund, application_fee: stripeId('fee'), application_fee_amount: 500, transfer: null, transfer_data: null, transfer_group: null }
        : { id: chargeId, amount: object.amount, currency: object.currency, amount_refunded: refund ? object.amount : 0, refunded: refund, disputed: !refund, application_fee: null, transfer: stripeId('tr'), transfer_data: { amount: Math.floor((Number(object.amount) * 9) / 10), destination: stripeId('acct') }, transfer_group: null };
      related.push({ resource: 'charge', object: charge as Json & { id: string }, ...on }, ...fundedTransfer(charge));
      break;
    }
    case 'payout.failed':
    case 'payout.paid': {
      const bank = refId(object.destination);
      if (account) related.push({ resource: 'account', object: { id: account, charges_enabled: true, payouts_enabled: type === 'payout.paid', details_submitted: true } });
      if (account && bank?.startsWith('ba_')) {
        related.push({ resource: 'bank_account', object: { id: bank, account, status: type === 'payout.failed' ? 'errored' : 'verified', last4: '6789', currency: 'usd', default_for_currency: true } });
      }
      break;
    }
  }
  return related;
}
