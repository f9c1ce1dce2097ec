// The resource table: one row per Stripe resource the double knows. Adding a resource with
// generic CRUD is one row here; behaviour beyond CRUD lives in the route modules.

/** Generic operations a resource gets routes for (`/v1/<path>`, `/v1/<path>/:id`). */
export type CrudOp = 'create' | 'retrieve' | 'update' | 'delete' | 'list';

/** One row of the resource table: how a resource is addressed, created, listed and shown. */
export interface ResourceSpec {
  /** Id prefix without the underscore (`in` → `in_...`). */
  readonly prefix: string;
  /** Top-level collection path segment (`/v1/<path>`). */
  readonly path?: string;
  /** Child collection under a parent object (`/v1/<parent path>/:parentId/<path>`). */
  readonly nested?: { readonly parent: string; readonly path: string; readonly field: string };
  /** Generic routes to register (resources with custom routes list only what stays generic). */
  readonly ops: readonly CrudOp[];
  /** Query params a list can filter on by equality. */
  readonly filters?: readonly string[];
  /** Params a create call must carry. */
  readonly required?: readonly string[];
  /** Params that reference other objects, checked on create/update (`customer` → customer). */
  readonly refs?: Readonly<Record<string, string>>;
  /** Fields overriding the published fixture for fresh objects (the fixtures carry sample noise). */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** Embedded lists that responses cut to the first 10 items, as Stripe does. */
  readonly embeddedLists?: readonly string[];
  /** Name used in "No such <noun>: '<id>'" (defaults to the resource name). */
  readonly noun?: string;
}

const emptyList = (url: string | null) => ({ object: 'list', data: [], has_more: false, url });

/**
 * The resources the double stores, keyed by Stripe object name. A row with `path` and `ops` gets
 * generic routes; routes with behaviour of their own live in the route modules.
 */
export const RESOURCES = {
  invoice: {
    prefix: 'in',
    path: 'invoices',
    ops: ['retrieve', 'list'],
    filters: ['customer', 'status', 'subscription', 'collection_method'],
    required: ['customer'],
    refs: { customer: 'customer', subscription: 'subscription' },
    embeddedLists: ['lines'],
    defaults: {
      status: 'draft',
      lines: emptyList(null),
      amount_due: 0, amount_paid: 0, amount_remaining: 0, amount_overpaid: 0,
      subtotal: 0, subtotal_excluding_tax: 0, total: 0, total_excluding_tax: 0,
      total_taxes: [], total_pretax_credit_amounts: [], total_discount_amounts: [],
      attempt_count: 0, attempted: false, auto_advance: false,
      paid: false, paid_out_of_band: false,
      number: null, hosted_invoice_url: null, invoice_pdf: null,
      due_date: null, effective_at: null, next_payment_attempt: null, webhooks_delivered_at: null,
      automatically_finalizes_at: null, last_finalization_error: null, from_invoice: null,
      parent: null, shipping_cost: null, shipping_details: null, customer_shipping: null,
      status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    },
  },
  invoiceitem: {
    prefix: 'ii',
    path: 'invoiceitems',
    ops: ['retrieve', 'update', 'list'],
    filters: ['customer', 'invoice'],
    required: ['customer'],
    refs: { customer: 'customer', invoice: 'invoice', subscription: 'subscription' },
    defaults: { invoice: null, parent: null, quantity: 1, quantity_decimal: '1', test_clock: null },
    noun: 'invoiceitem',
  },
  subscription: {
    prefix: 'sub',
    path: 'subscriptions',
    ops: ['retrieve', 'list'],
    filters: ['customer', 'status', 'price'],
    required: ['customer'],
    refs: { customer: 'customer' },
    embeddedLists: ['items'],
    defaults: {
      status: 'active', cancel_at: null, canceled_at: null, ended_at: null, cancel_at_period_end: false,
      trial_start: null, trial_end: null, latest_invoice: null, schedule: null, test_clock: null,
      cancellation_details: { comment: null, feedback: null, reason: null },
    },
  },
  customer: {
    prefix: 'cus',
    path: 'customers',
    ops: ['create', 'retrieve', 'update', 'delete', 'list'],
    filters: ['email'],
    defaults: { discount: null },
  },
  payment_method: {
    prefix: 'pm',
    path: 'payment_methods',
    ops: ['create', 'retrieve', 'update', 'list'],
    filters: ['customer', 'type'],
    refs: { customer: 'customer' },
    noun: 'PaymentMethod',
  },
  account: {
    prefix: 'acct',
    path: 'accounts',
    ops: ['create', 'retrieve', 'update', 'delete', 'list'],
  },
  // Account links have no id; the row gives them a shape and their create-time checks.
  account_link: {
    prefix: 'acctlink',
    path: 'account_links',
    ops: [],
    required: ['account', 'type'],
    refs: { account: 'account' },
  },
  // A connected account's bank accounts: `GET /v1/accounts/:id/external_accounts[/:id]`; seed with `account`.
  bank_account: {
    prefix: 'ba',
    nested: { parent: 'account', path: 'external_accounts', field: 'account' },
    ops: ['retrieve', 'list'],
    noun: 'external account',
  },
  transfer: {
    prefix: 'tr',
    path: 'transfers',
    ops: ['create', 'retrieve', 'update', 'list'],
    filters: ['destination', 'transfer_group'],
    required: ['amount', 'currency', 'destination'],
    refs: { destination: 'account' },
    embeddedLists: ['reversals'],
    defaults: { amount_reversed: 0, reversed: false, reversals: emptyList(null), source_transaction: null },
  },
  transfer_reversal: {
    prefix: 'trr',
    nested: { parent: 'transfer', path: 'reversals', field: 'transfer' },
    ops: ['retrieve', 'update', 'list'],
    defaults: { destination_payment_refund: null, source_refund: null },
  },
  refund: {
    prefix: 're',
    path: 'refunds',
    ops: ['retrieve', 'update', 'list'],
    filters: ['charge', 'payment_intent'],
    refs: { charge: 'charge' },
  },
  payout: {
    prefix: 'po',
    path: 'payouts',
    ops: ['create', 'retrieve', 'update', 'list'],
    filters: ['status', 'destination'],
    required: ['amount', 'currency'],
    defaults: { status: 'pending', failure_code: null, failure_message: null, original_payout: null, reversed_by: null },
  },
  application_fee: {
    prefix: 'fee',
    path: 'application_fees',
    ops: ['retrieve', 'list'],
    filters: ['charge'],
    embeddedLists: ['refunds'],
    defaults: { amount_refunded: 0, refunded: false, refunds: emptyList(null) },
    noun: 'application fee',
  },
  fee_refund: {
    prefix: 'fr',
    nested: { parent: 'application_fee', path: 'refunds', field: 'fee' },
    ops: ['retrieve', 'update', 'list'],
  },
  charge: {
    prefix: 'ch',
    path: 'charges',
    ops: ['create', 'retrieve', 'update', 'list'],
    filters: ['customer', 'payment_intent', 'transfer_group'],
    required: ['amount', 'currency'],
    refs: { customer: 'customer' },
    defaults: {
      status: 'succeeded', paid: true, captured: true, amount_refunded: 0, refunded: false,
      disputed: false, failure_code: null, failure_message: null,
    },
  },
  // `data` replaces the fixture's (a plan.created): a seeded event carries exactly its own object.
  event: {
    prefix: 'evt',
    path: 'events',
    ops: ['retrieve'],
    defaults: { data: null },
  },
  // Create and update are custom (webhook-endpoints.ts): the secret is shown once, on create.
  webhook_endpoint: {
    prefix: 'we',
    path: 'webhook_endpoints',
    ops: ['retrieve', 'delete', 'list'],
    required: ['url', 'enabled_events'],
    defaults: { api_version: null, application: null, description: null, status: 'enabled' },
    noun: 'webhook endpoint',
  },
  price: {
    prefix: 'price',
    path: 'prices',
    ops: ['create', 'retrieve', 'update', 'list'],
    filters: ['product', 'active', 'type'],
  },
  product: {
    prefix: 'prod',
    path: 'products',
    ops: ['create', 'retrieve', 'update', 'delete', 'list'],
    filters: ['active'],
  },
  // No ids of their own: stored under their identifier, routed by meters.ts.
  'billing.meter_event': { prefix: 'mtrevt', ops: [], noun: 'meter event' },
  'billing.meter_event_adjustment': { prefix: 'mtrevtadj', ops: [], noun: 'meter event adjustment' },
} as const satisfies Record<string, ResourceSpec>;

/** A Stripe resource the double stores (its Stripe `object` name). */
export type DoubleResource = keyof typeof RESOURCES;

export const RESOURCE_NAMES = Object.keys(RESOURCES) as DoubleResource[];

export function spec(resource: DoubleResource): ResourceSpec {
  return RESOURCES[resource];
}

export function isDoubleResource(name: unknown): name is DoubleResource {
  return typeof name === 'string' && Object.hasOwn(RESOURCES, name);
}

export function noun(resource: DoubleResource): string {
  return spec(resource).noun ?? resource;
}

const byPrefix = new Map(RESOURCE_NAMES.map((name) => [spec(name).prefix, name] as const));

/** The resource an id belongs to, from its prefix (`in_123` → invoice). */
export function resourceOfId(id: string): DoubleResource | undefined {
  const cut = id.indexOf('_');
  return cut > 0 ? byPrefix.get(id.slice(0, cut)) : undefined;
}
