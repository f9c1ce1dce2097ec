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
