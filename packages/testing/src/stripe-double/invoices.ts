// Invoices and invoice items. State machine: draft → open → paid | uncollectible | void, with
// uncollectible → paid | void; only drafts take line changes or can be deleted.
// Every invoiceitem-type line is backed by an `ii_` object: the line is a view of that item.
import { createFromParams, checkRefs, checkRequired, deletedResponse, listResponse, render } from './crud.js';
import {
  cardDeclined,
  invalidParam,
  invalidState,
  invoiceNotEditable,
  missingParam,
  unknownParam,
} from './errors.js';
import { arrayParam, boolParam, intParam, isRecord, stringParam } from './form.js';
import { applyParams, deepMerge, mergeMetadata } from './merge.js';
import { pathParam, route, type RequestContext, type Route } from './router.js';
import { idOf, newId, unixNow, type Normalizer, type StripeObject, type Store } from './store.js';

/** Stripe's cap on invoice items per invoice. */
export const MAX_INVOICE_ITEMS = 250;

const TOTAL_FIELDS = ['amount_due', 'amount_remaining', 'subtotal', 'total'];

// Fields a finalized invoice still accepts on update.
const FINALIZED_UPDATABLE = new Set([
  'metadata', 'description', 'footer', 'auto_advance', 'custom_fields', 'default_payment_method',
  'default_source', 'rendering', 'expand',
]);

// Stripe's test payment methods that decline.
const DECLINING_PAYMENT_METHODS: Record<string, { code: string; message: string }> = {
  pm_card_chargeDeclined: { code: 'generic_decline', message: 'Your card was declined.' },
  pm_card_chargeDeclinedInsufficientFunds: { code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  pm_card_chargeDeclinedFraudulent: { code: 'fraudulent', message: 'Your card was declined.' },
};

type Lines = { object: 'list'; data: StripeObject[]; has_more: boolean; url: string };

/** `lines[0]` + `metadata` → `lines[0][metadata]`; top-level when there is no prefix. */
const paramName = (prefix: string, name: string) => (prefix ? `${prefix}[${name}]` : name);

// ---------------------------------------------------------------------------------------------
// Shape: lines, totals, the invoice item behind a line

function linesOf(invoice: StripeObject): StripeObject[] {
  const lines = invoice.lines;
  return isRecord(lines) && Array.isArray(lines.data) ? (lines.data as StripeObject[]) : [];
}

function setLines(invoice: StripeObject, data: StripeObject[]): void {
  const lines: Lines = { object: 'list', data, has_more: false, url: `/v1/invoices/${invoice.id}/lines` };
  invoice.lines = lines;
}

function invoiceItemIdOf(line: Record<string, unknown>): string | undefined {
  const parent = line.parent;
  const details = isRecord(parent) && isRecord(parent.invoice_item_details) ? parent.invoice_item_details : undefined;
  return idOf(line.invoice_item) ?? idOf(details?.invoice_item);
}

function recomputeTotals(invoice: StripeObject): void {
  const subtotal = linesOf(invoice).reduce((sum, line) => sum + (typeof line.amount === 'number' ? line.amount : 0), 0);
  const paid = typeof invoice.amount_paid === 'number' ? invoice.amount_paid : 0;
  invoice.subtotal = subtotal;
  invoice.subtotal_excluding_tax = subtotal;
  invoice.total = subtotal;
  invoice.total_excluding_tax = subtotal;
  // A negative total is credited to the customer's balance; nothing is due.
  invoice.amount_due = Math.max(subtotal, 0);
  invoice.amount_remaining = Math.max(subtotal - paid, 0);
}

/** The line item view of an invoice item, shaped like invoice-with-lines.json plus the current API's fields. */
function lineFor(store: Store, invoice: StripeObject, item: StripeObject, lineId: string): StripeObject {
  const pricing = isRecord(item.pricing) ? item.pricing : { type: 'price_details', price_details: null, unit_amount_decimal: null };
  const priceId = isRecord(pricing.price_details) ? idOf(pricing.price_details.price) : undefined;
  const subscription = idOf(invoice.subscription) ?? null;
  return {
    id: lineId,
    object: 'line_item',
    amount: item.amount,
    amount_excluding_tax: item.amount,
    currency: item.currency,
    description: item.description ?? null,
    discount_amounts: [],
    discountable: item.discountable ?? true,
    discounts: [],
    invoice: invoice.id,
    invoice_item: item.id,
    livemode: false,
    metadata: structuredClone(item.metadata ?? {}),
    parent: {
      type: 'invoice_item_details',
      invoice_item_details: { invoice_item: item.id, proration: false, proration_details: { credited_items: null }, subscription },
      subscription_item_details: null,
    },
    period: structuredClone(item.period),
    pretax_credit_amounts: [],
    price: priceId ? structuredClone(store.find('price', priceId) ?? null) : null,
    pricing: structuredClone(pricing),
    proration: false,
    proration_details: { credited_items: null },
    quantity: item.quantity,
    quantity_decimal: item.quantity_decimal ?? String(item.quantity),
    subscription,
    subtotal: item.amount,
    tax_amounts: [],
    tax_rates: [],
    taxes: [],
    type: 'invoiceitem',
    unit_amount_excluding_tax: isRecord(item.pricing) ? item.pricing.unit_amount_decimal : null,
  };
}

function refreshLine(store: Store, invoice: StripeObject, itemId: string): void {
  const item = store.find('invoiceitem', itemId);
  if (!item) return;
  setLines(invoice, linesOf(invoice).map((line) => (invoiceItemIdOf(line) === itemId ? lineFor(store, invoice, item, line.id) : line)));
  recomputeTotals(invoice);
}

/**
 * Completes seeded/synthesized invoices: a proper `lines` list whose invoiceitem lines are backed
 * by stored invoice items, and totals derived from the lines unless the seed set them.
 */
export const normalizeInvoice: Normalizer = (invoice, changed, store, account) => {
  if (!('lines' in changed) && isRecord(invoice.lines) && Array.isArray(invoice.lines.data)) {
    setLines(invoice, linesOf(invoice));
    return;
  }
  const given = changed.lines;
  const partials = Array.isArray(given) ? given : isRecord(given) && Array.isArray(given.data) ? given.data : [];
  setLines(invoice, partials.filter(isRecord).map((partial) => seededLine(store, invoice, partial, account)));
  if (!TOTAL_FIELDS.some((field) => field in changed)) recomputeTotals(invoice);
};

function seededLine(store: Store, invoice: StripeObject, partial: Record<string, unknown>, account: string | undefined): StripeObject {
  const lineId = typeof partial.id === 'string' ? partial.id : newId('il');
  const parent = partial.parent;
  const isSubscriptionLine = partial.type === 'subscription' || (isRecord(parent) && parent.type === 'subscription_item_details');
  if (isSubscriptionLine) {
    return deepMerge(
      { id: lineId, object: 'line_item', amount: 0, currency: invoice.currency, description: null, discountable: true, invoice: invoice.id,
        invoice_item: null, livemode: false, metadata: {}, period: { start: unixNow(), end: unixNow() }, quantity: 1, type: 'subscription',
        subscription: idOf(invoice.subscription) ?? null, parent: { type: 'subscription_item_details', invoice_item_details: null } },
      partial,
    ) as StripeObject;
  }
  const itemId = invoiceItemIdOf(partial);
  let item = itemId ? store.find('invoiceitem', itemId) : undefined;
  if (!item) {
    const amount = typeof partial.amount === 'number' ? partial.amount : 0;
    const quantity = typeof partial.quantity === 'number' ? partial.quantity : 1;
    const priceId = idOf(partial.price);
    item = store.put('invoiceitem', store.build('invoiceitem', {
      ...(itemId ? { id: itemId } : {}),
      amount, quantity, net_amount: amount, quantity_decimal: String(quantity), currency: partial.currency ?? invoice.currency,
      customer: idOf(invoice.customer) ?? null, description: partial.description ?? null, metadata: partial.metadata ?? {},
      period: partial.period ?? { start: unixNow(), end: unixNow() },
      pricing: { type: 'price_details', price_details: priceId ? { price: priceId, product: null } : null, unit_amount_decimal: String(amount / quantity) },
    }), account);
  }
  item.invoice = invoice.id;
  const line = deepMerge(lineFor(store, invoice, item, lineId), partial) as StripeObject;
  line.invoice = invoice.id;
  return line;
}

// ---------------------------------------------------------------------------------------------
// Pricing input → invoice item fields

interface PricedFields {
  amount: number;
  quantity: number;
  currency: string;
  pricing: Record<string, unknown>;
}

/** amount | price_data | pricing.price (or legacy price), with quantity. */
function pricedFields(ctx: RequestContext, input: Record<string, unknown>, param: string, currency: string, required: boolean): PricedFields | undefined {
  const at = (name: string) => paramName(param, name);
  const quantity = intParam(input.quantity, at('quantity')) ?? (stringParam(input.quantity_decimal) ? Number(input.quantity_decimal) : 1);
  if (!Number.isFinite(quantity) || quantity < 0) throw invalidParam(at('quantity'), `Invalid quantity: ${String(input.quantity ?? input.quantity_decimal)}.`);
  const pricing = (unit: number, price: string | null, product: string | null) => ({
    type: 'price_details', price_details: price ? { price, product } : null, unit_amount_decimal: String(unit),
  });
  const amount = intParam(input.amount, at('amount'));
  if (amount !== undefined) {
    return { amount, quantity, currency, pricing: pricing(quantity === 0 ? 0 : amount / quantity, null, null) };
  }
  if (isRecord(input.price_data)) {
    const data = input.price_data;
    const product = stringParam(data.product);
    const dataParam = at('price_data');
    if (!product) throw missingParam(paramName(dataParam, 'product'));
    const unit = intParam(data.unit_amount, paramName(dataParam, 'unit_amount')) ?? (stringParam(data.unit_amount_decimal) ? Number(data.unit_amount_decimal) : undefined);
    if (unit === undefined || !Number.isFinite(unit)) throw missingParam(paramName(dataParam, 'unit_amount'));
    const priceCurrency = stringParam(data.currency) ?? currency;
    // Stripe creates an inactive one-off price for price_data.
    const price = ctx.store.put('price', ctx.store.build('price', {
      active: false, currency: priceCurrency, product, unit_amount: unit, unit_amount_decimal: String(unit), type: 'one_time', recurring: null,
      billing_scheme: 'per_unit', lookup_key: null, nickname: null, tiers_mode: null, transform_quantity: null,
    }), ctx.account);
    return { amount: Math.round(unit * quantity), quantity, currency: priceCurrency, pricing: pricing(unit, price.id, product) };
  }
  const priceId = isRecord(input.pricing) ? stringParam(input.pricing.price) : stringParam(input.price);
  if (priceId) {
    const price = ctx.store.require('price', priceId, ctx.account, isRecord(input.pricing) ? paramName(at('pricing'), 'price') : at('price'));
    const unit = typeof price.unit_amount === 'number' ? price.unit_amount : Number(price.unit_amount_decimal ?? 0);
    return { amount: Math.round(unit * quantity), quantity, currency: stringParam(price.currency) ?? currency, pricing: pricing(unit, price.id, idOf(price.product) ?? null) };
  }
  if (required) throw invalidParam(param || 'amount', `Provide one of amount, price_data, or pricing[price]${param ? ` for ${param}` : ''}.`, 'parameter_missing');
  return undefined;
}

function periodParam(value: unknown, param: string): { start: number; end: number } | undefined {
  if (!isRecord(value)) return undefined;
  const start = intParam(value.start, `${param}[start]`);
  const end = intParam(value.end, `${param}[end]`);
  if (start === undefined || end === undefined) throw missingParam(`${param}[${start === undefined ? 'start' : 'end'}]`);
  if (end < start) throw invalidParam(`${param}[end]`, `${param}[end] must be on or after ${param}[start].`);
  return { start, end };
}

function newInvoiceItem(ctx: RequestContext, customer: string | null, invoice: StripeObject | null, input: Record<string, unknown>, param: string): StripeObject {
  const currency = stringParam(input.currency) ?? stringParam(invoice?.currency) ?? 'usd';
  const priced = pricedFields(ctx, input, param, currency, true)!;
  const at = (name: string) => paramName(param, name);
  const now = unixNow();
  const item = ctx.store.build('invoiceitem', {
    amount: priced.amount,
    net_amount: priced.amount,
    currency: priced.currency,
    customer,
    invoice: invoice?.id ?? null,
    date: now,
    description: stringParam(input.description) ?? null,
    discountable: boolParam(input.discountable, at('discountable')) ?? true,
    metadata: mergeMetadata({}, input.metadata ?? {}, at('metadata')),
    period: periodParam(input.period, at('period')) ?? { start: now, end: now },
    quantity: priced.quantity,
    quantity_decimal: String(priced.quantity),
    pricing: priced.pricing,
    subscription: stringParam(input.subscription) ?? null,
  });
  return ctx.store.put('invoiceitem', item, ctx.account);
}

// ---------------------------------------------------------------------------------------------
// Guards and transitions

function requireInvoice(ctx: RequestContext): StripeObject {
  return ctx.store.require('invoice', pathParam(ctx, 'id'), ctx.account);
}

function assertDraft(invoice: StripeObject, action: string): void {
  if (invoice.status !== 'draft') {
    throw invoiceNotEditable(`You can only ${action} a draft invoice; invoice ${invoice.id} is ${String(invoice.status)}.`);
  }
}

function transitions(invoice: StripeObject): Record<string, unknown> {
  if (!isRecord(invoice.status_transitions)) invoice.status_transitions = {};
  return invoice.status_transitions as Record<string, unknown>;
}

function nextNumber(store: Store, invoice: StripeObject): string {
  const customer = store.find('customer', idOf(invoice.customer) ?? '');
  const prefix = stringParam(customer?.invoice_prefix) ?? 'DOUBLE';
  const issued = store.list('invoice').filter((i) => typeof i.number === 'string').length;
  return `${prefix}-${String(issued + 1).padStart(4, '0')}`;
}

function finalize(ctx: RequestContext, invoice: StripeObject): void {
  const now = unixNow();
  invoice.status = 'open';
  invoice.number = nextNumber(ctx.store, invoice);
  invoice.hosted_invoice_url = `${ctx.baseUrl}/hosted_invoices/${invoice.id}`;
  invoice.invoice_pdf = `${ctx.baseUrl}/hosted_invoices/${invoice.id}/pdf`;
  invoice.effective_at = now;
  transitions(invoice).finalized_at = now;
  // Stripe marks an invoice with nothing due as paid when it is finalized.
  if (invoice.amount_due === 0) markPaid(invoice, false);
}

function markPaid(invoice: StripeObject, outOfBand: boolean): void {
  invoice.status = 'paid';
  invoice.paid = true;
  invoice.paid_out_of_band = outOfBand;
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.next_payment_attempt = null;
  transitions(invoice).paid_at = unixNow();
}

const renderInvoice = (ctx: RequestContext, invoice: StripeObject) => render(ctx, 'invoice', invoice);

// ---------------------------------------------------------------------------------------------
// Line edits (draft only)

function lineInputs(ctx: RequestContext): Record<string, unknown>[] {
  const lines = arrayParam(ctx.params.lines);
  if (!lines || lines.length === 0) throw missingParam('lines');
  return lines.map((line, i) => {
    if (!isRecord(line)) throw invalidParam(`lines[${i}]`, `Invalid lines[${i}]: must be a hash.`);
    return line;
  });
}

function applyInvoiceMetadata(ctx: RequestContext, invoice: StripeObject): void {
  if ('invoice_metadata' in ctx.params) invoice.metadata = mergeMetadata(invoice.metadata, ctx.params.invoice_metadata, 'invoice_metadata');
}

function countInvoiceItems(invoice: StripeObject): number {
  return linesOf(invoice).filter((line) => invoiceItemIdOf(line) !== undefined).length;
}

function assertCapacity(invoice: StripeObject, adding: number): void {
  const count = countInvoiceItems(invoice);
  if (count + adding > MAX_INVOICE_ITEMS) {
    throw invalidParam(
      'lines',
      `An invoice can have at most ${MAX_INVOICE_ITEMS} invoice items; invoice ${invoice.id} has ${count} and this request adds ${adding}.`,
    );
  }
}

function addLines(ctx: RequestContext): Record<string, unknown> {
  const invoice = requireInvoice(ctx);
  assertDraft(invoice, 'add lines to');
  const inputs = lineInputs(ctx);
  assertCapacity(invoice, inputs.length);
  const customer = idOf(invoice.customer) ?? null;
  const added = inputs.map((input, i) => {
    const param = `lines[${i}]`;
    const itemId = stringParam(input.invoice_item);
    const item = itemId ? assignExisting(ctx, invoice, itemId, input, param) : newInvoiceItem(ctx, customer, invoice, input, param);
    return lineFor(ctx.store, invoice, item, newId('il'));
  });
  setLines(invoice, [...linesOf(invoice), ...added]);
  applyInvoiceMetadata(ctx, invoice);
  recomputeTotals(invoice);
  return renderInvoice(ctx, invoice);
}

/** `lines[i][invoice_item]`: attach a pending invoice item, optionally overriding its descriptive fields. */
function assignExisting(ctx: RequestContext, invoice: StripeObject, itemId: string, input: Record<string, unknown>, param: string): StripeObject {
  const item = ctx.store.require('invoiceitem', itemId, ctx.account, `${param}[invoice_item]`);
  const current = idOf(item.invoice);
  if (current) {
    throw invalidParam(`${param}[invoice_item]`, `The invoice item ${itemId} is already attached to invoice ${current}. Remove it with behavior=unassign first.`);
  }
  const customer = idOf(invoice.customer);
  if (customer && idOf(item.customer) && idOf(item.customer) !== customer) {
    throw invalidParam(`${param}[invoice_item]`, `The invoice item ${itemId} belongs to customer ${idOf(item.customer)}, not ${customer}.`);
  }
  for (const key of ['amount', 'price_data', 'pricing', 'quantity']) {
    if (key in input) throw invalidParam(`${param}[${key}]`, `You cannot pass ${param}[${key}] together with ${param}[invoice_item]; the invoice item sets it.`);
  }
  applyItemChanges(item, input, param, 'merge');
  item.invoice = invoice.id;
  return item;
}

function applyItemChanges(item: StripeObject, input: Record<string, unknown>, param: string, metadataMode: 'merge' | 'replace'): void {
  if ('description' in input) item.description = stringParam(input.description) ?? null;
  if ('discountable' in input) item.discountable = boolParam(input.discountable, paramName(param, 'discountable')) ?? true;
  if ('period' in input) item.period = periodParam(input.period, paramName(param, 'period')) ?? item.period;
  if ('metadata' in input) {
    item.metadata = mergeMetadata(metadataMode === 'merge' ? item.metadata : {}, input.metadata, paramName(param, 'metadata'));
  }
}

function updateLines(ctx: RequestContext): Record<string, unknown> {
  const invoice = requireInvoice(ctx);
  assertDraft(invoice, 'update lines on');
  const lines = linesOf(invoice);
  for (const [i, input] of lineInputs(ctx).entries()) {
    const param = `lines[${i}]`;
    if ('invoice_item' in input) throw unknownParam(`${param}[invoice_item]`);
    const index = lineIndex(invoice, lines, input, param);
    const line = lines[index]!;
    const itemId = invoiceItemIdOf(line);
    const item = itemId ? ctx.store.find('invoiceitem', itemId) : undefined;
    if (!item) {
      // Subscription lines: metadata is replaced, not merged.
      if ('metadata' in input) line.metadata = mergeMetadata({}, input.metadata, `${param}[metadata]`);
      if ('description' in input) line.description = stringParam(input.description) ?? null;
      if ('period' in input) line.period = periodParam(input.period, `${param}[period]`) ?? line.period;
      continue;
    }
    const priced = pricedFields(ctx, input, param, String(item.currency), false);
    if (priced) Object.assign(item, { amount: priced.amount, net_amount: priced.amount, quantity: priced.quantity, quantity_decimal: String(priced.quantity), pricing: priced.pricing });
    else if ('quantity' in input) repriceQuantity(item, intParam(input.quantity, `${param}[quantity]`) ?? 1);
    applyItemChanges(item, input, param, 'merge');
    lines[index] = lineFor(ctx.store, invoice, item, line.id);
  }
  setLines(invoice, lines);
  applyInvoiceMetadata(ctx, invoice);
  recomputeTotals(invoice);
  return renderInvoice(ctx, invoice);
}

function repriceQuantity(item: StripeObject, quantity: number): void {
  const unit = isRecord(item.pricing) ? Number(item.pricing.unit_amount_decimal) : NaN;
  const perUnit = Number.isFinite(unit) ? unit : Number(item.amount) / Math.max(Number(item.quantity) || 1, 1);
  item.quantity = quantity;
  item.quantity_decimal = String(quantity);
  item.amount = Math.round(perUnit * quantity);
  item.net_amount = item.amount;
}

function lineIndex(invoice: StripeObject, lines: readonly StripeObject[], input: Record<string, unknown>, param: string): number {
  const id = stringParam(input.id);
  if (!id) throw missingParam(`${param}[id]`);
  const index = lines.findIndex((line) => line.id === id);
  if (index < 0) throw invalidParam(`${param}[id]`, `No such invoice line item: '${id}' on invoice '${invoice.id}'`, 'resource_missing');
  return index;
}

function removeLines(ctx: RequestContext): Record<string, unknown> {
  const invoice = requireInvoice(ctx);
  assertDraft(invoice, 'remove lines from');
  const lines = linesOf(invoice);
  const removed = new Set<string>();
  for (const [i, input] of lineInputs(ctx).entries()) {
    const param = `lines[${i}]`;
    const line = lines[lineIndex(invoice, lines, input, param)]!;
    const behavior = stringParam(input.behavior);
    if (!behavior) throw missingParam(`${param}[behavior]`);
    if (behavior !== 'delete' && behavior !== 'unassign') {
      throw invalidParam(`${param}[behavior]`, `Invalid ${param}[behavior]: must be one of delete or unassign (got '${behavior}').`);
    }
    const itemId = invoiceItemIdOf(line);
    if (!itemId) {
      throw invalidParam(`${param}[id]`, `Line ${line.id} comes from a subscription, not an invoice item, and cannot be removed.`);
    }
    if (behavior === 'delete') ctx.store.remove('invoiceitem', itemId);
    else {
      const item = ctx.store.find('invoiceitem', itemId);
      if (item) item.invoice = null;
    }
    removed.add(line.id);
  }
  setLines(invoice, lines.filter((line) => !removed.has(line.id)));
  applyInvoiceMetadata(ctx, invoice);
  recomputeTotals(invoice);
  return renderInvoice(ctx, invoice);
}

// ---------------------------------------------------------------------------------------------
// Routes

export function invoiceRoutes(): Route[] {
  return [
    route('POST', '/v1/invoices', (ctx) => {
      const customer = ctx.store.find('customer', String(ctx.params.customer), ctx.account);
      const params: Record<string, unknown> = { ...ctx.params };
      delete params.pending_invoice_items_behavior;
      const invoice = createFromParams(ctx, 'invoice', params, {
        status: 'draft',
        currency: stringParam(ctx.params.currency) ?? stringParam(customer?.currency) ?? 'usd',
        customer_email: customer?.email ?? null,
        customer_name: customer?.name ?? null,
      });
      // `pending_invoice_items_behavior=include` pulls the customer's unattached items in.
      if (ctx.params.pending_invoice_items_behavior === 'include') {
        const pending = ctx.store.list('invoiceitem', ctx.account).filter((item) => idOf(item.customer) === invoice.customer && !idOf(item.invoice));
        assertCapacity(invoice, pending.length);
        setLines(invoice, pending.reverse().map((item) => {
          item.invoice = invoice.id;
          return lineFor(ctx.store, invoice, item, newId('il'));
        }));
        recomputeTotals(invoice);
      }
      return renderInvoice(ctx, invoice);
    }),
    route('POST', '/v1/invoices/:id', (ctx) => {
      const invoice = requireInvoice(ctx);
      if (invoice.status !== 'draft') {
        const locked = Object.keys(ctx.params).find((key) => !FINALIZED_UPDATABLE.has(key));
        if (locked) throw invoiceNotEditable(`Invoice ${invoice.id} is ${String(invoice.status)}; a finalized invoice cannot change ${locked}.`, locked);
      }
      checkRefs(ctx, 'invoice', ctx.params);
      applyParams(invoice, ctx.params);
      return renderInvoice(ctx, invoice);
    }),
    route('DELETE', '/v1/invoices/:id', (ctx) => {
      const invoice = requireInvoice(ctx);
      if (invoice.status !== 'draft') {
        throw invoiceNotEditable(`You can only delete draft invoices; invoice ${invoice.id} is ${String(invoice.status)}. Void it instead.`);
      }
      // Items on a deleted draft go back to pending.
      for (const line of linesOf(invoice)) {
        const item = ctx.store.find('invoiceitem', invoiceItemIdOf(line) ?? '');
        if (item) item.invoice = null;
      }
      ctx.store.remove('invoice', invoice.id);
      return deletedResponse('invoice', invoice.id);
    }),
    route('GET', '/v1/invoices/:id/lines', (ctx) => {
      const invoice = requireInvoice(ctx);
      return listResponse(ctx, 'invoice', linesOf(invoice), `/v1/invoices/${invoice.id}/lines`);
    }),
    route('POST', '/v1/invoices/:id/finalize', (ctx) => {
      const invoice = requireInvoice(ctx);
      if (invoice.status !== 'draft') {
        throw invoiceNotEditable(`This invoice is already finalized, you can't re-finalize a non-draft invoice (${invoice.id} is ${String(invoice.status)}).`);
      }
      const autoAdvance = boolParam(ctx.params.auto_advance, 'auto_advance');
      if (autoAdvance !== undefined) invoice.auto_advance = autoAdvance;
      finalize(ctx, invoice);
      return renderInvoice(ctx, invoice);
    }),
    route('POST', '/v1/invoices/:id/pay', (ctx) => {
      const invoice = requireInvoice(ctx);
      if (invoice.status === 'paid') throw invoiceNotEditable(`Invoice ${invoice.id} is already paid.`);
      if (invoice.status === 'void') throw invoiceNotEditable(`Invoice ${invoice.id} is void; a voided invoice cannot be paid.`);
      // Stripe finalizes a draft before attempting payment.
      if (invoice.status === 'draft') finalize(ctx, invoice);
      if (invoice.status === 'paid') return renderInvoice(ctx, invoice);
      if (boolParam(ctx.params.paid_out_of_band, 'paid_out_of_band')) {
        markPaid(invoice, true);
        return renderInvoice(ctx, invoice);
      }
      invoice.attempted = true;
      invoice.attempt_count = (Number(invoice.attempt_count) || 0) + 1;
      const paymentMethod = stringParam(ctx.params.payment_method) ?? idOf(invoice.default_payment_method);
      const decline = paymentMethod ? DECLINING_PAYMENT_METHODS[paymentMethod] : undefined;
      if (decline) throw cardDeclined(decline.code, decline.message);
      markPaid(invoice, false);
      return renderInvoice(ctx, invoice);
    }),
    route('POST', '/v1/invoices/:id/send', (ctx) => {
      const invoice = requireInvoice(ctx);
      if (invoice.collection_method !== 'send_invoice') {
        throw invalidState(`You can only manually send an invoice if its collection method is 'send_invoice' (${invoice.id} uses '${String(invoice.collection_method)}').`);
      }
      if (invoice.status === 'draft') finalize(ctx, invoice);
      if (invoice.status !== 'open') throw invoiceNotEditable(`You can only send open invoices; invoice ${invoice.id} is ${String(invoice.status)}.`);
      return renderInvoice(ctx, invoice);
    }),
    route('POST', '/v1/invoices/:id/void', (ctx) => {
      const invoice = requireInvoice(ctx);
      if (invoice.status !== 'open' && invoice.status !== 'uncollectible') {
        const why: Record<string, string> = {
          draft: 'Draft invoices cannot be voided; delete the draft instead.',
          paid: 'A paid invoice cannot be voided; refund the payment or issue a credit note instead.',
          void: 'The invoice is already void; voiding is irreversible.',
        };
        throw invoiceNotEditable(`You can only void open or uncollectible invoices; invoice ${invoice.id} is ${String(invoice.status)}. ${why[String(invoice.status)] ?? ''}`.trim());
      }
      invoice.status = 'void';
      invoice.amount_remaining = 0;
      invoice.next_payment_attempt = null;
      transitions(invoice).voided_at = unixNow();
      return renderInvoice(ctx, invoice);
    }),
    route('POST', '/v1/invoices/:id/mark_uncollectible', (ctx) => {
      const invoice = requireInvoice(ctx);
      if (invoice.status !== 'open') {
        throw invoiceNotEditable(`You can only mark open invoices as uncollectible; invoice ${invoice.id} is ${String(invoice.status)}.`);
      }
      invoice.status = 'uncollectible';
      invoice.next_payment_attempt = null;
      transitions(invoice).marked_uncollectible_at = unixNow();
      return renderInvoice(ctx, invoice);
    }),
    route('POST', '/v1/invoices/:id/add_lines', addLines),
    route('POST', '/v1/invoices/:id/update_lines', updateLines),
    route('POST', '/v1/invoices/:id/remove_lines', removeLines),
    ...invoiceItemRoutes(),
  ];
}

function invoiceItemRoutes(): Route[] {
  // A draft invoice the item sits on (null when pending); finalized invoices lock their items.
  const editableInvoiceOf = (ctx: RequestContext, item: StripeObject): StripeObject | null => {
    const invoiceId = idOf(item.invoice);
    const invoice = invoiceId ? ctx.store.find('invoice', invoiceId) : undefined;
    if (!invoice) return null;
    if (invoice.status !== 'draft') throw invoiceNotEditable(`Invoice item ${item.id} is on ${String(invoice.status)} invoice ${invoice.id} and can no longer be changed.`);
    return invoice;
  };
  return [
    route('POST', '/v1/invoiceitems', (ctx) => {
      checkRequired('invoiceitem', ctx.params);
      checkRefs(ctx, 'invoiceitem', ctx.params);
      const customer = String(ctx.params.customer);
      const invoiceId = stringParam(ctx.params.invoice);
      const invoice = invoiceId ? ctx.store.require('invoice', invoiceId, ctx.account, 'invoice') : null;
      if (invoice) {
        if (invoice.status !== 'draft') throw invoiceNotEditable(`Invoice ${invoice.id} is ${String(invoice.status)}; invoice items can only be added to draft invoices.`, 'invoice');
        if (idOf(invoice.customer) !== customer) throw invalidParam('invoice', `Invoice ${invoice.id} belongs to customer ${idOf(invoice.customer)}, not ${customer}.`);
        assertCapacity(invoice, 1);
      }
      const item = newInvoiceItem(ctx, customer, invoice, ctx.params, '');
      if (invoice) {
        setLines(invoice, [...linesOf(invoice), lineFor(ctx.store, invoice, item, newId('il'))]);
        recomputeTotals(invoice);
      }
      return render(ctx, 'invoiceitem', item);
    }),
    route('POST', '/v1/invoiceitems/:id', (ctx) => {
      const item = ctx.store.require('invoiceitem', pathParam(ctx, 'id'), ctx.account);
      const invoice = editableInvoiceOf(ctx, item);
      const priced = pricedFields(ctx, ctx.params, '', String(item.currency), false);
      if (priced) Object.assign(item, { amount: priced.amount, net_amount: priced.amount, quantity: priced.quantity, quantity_decimal: String(priced.quantity), pricing: priced.pricing });
      else if ('quantity' in ctx.params) repriceQuantity(item, intParam(ctx.params.quantity, 'quantity') ?? 1);
      applyItemChanges(item, ctx.params, '', 'merge');
      if (invoice) refreshLine(ctx.store, invoice, item.id);
      return render(ctx, 'invoiceitem', item);
    }),
    route('DELETE', '/v1/invoiceitems/:id', (ctx) => {
      const item = ctx.store.require('invoiceitem', pathParam(ctx, 'id'), ctx.account);
      const invoice = editableInvoiceOf(ctx, item);
      if (invoice) {
        setLines(invoice, linesOf(invoice).filter((line) => invoiceItemIdOf(line) !== item.id));
        recomputeTotals(invoice);
      }
      ctx.store.remove('invoiceitem', item.id);
      return deletedResponse('invoiceitem', item.id);
    }),
  ];
}
