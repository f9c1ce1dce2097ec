// Assembly activities on stripe-node against the Stripe API double: the exact form-encoded
// requests of add_lines / update_lines / remove_lines, the draft-only rule, the charges sources.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { stripeId, StripeApiDouble } from '@stripe-flows/testing';
import { createAssemblyActivities, suppliedCharges } from '../src/index.js';
import type { AssemblyActivities } from '../src/index.js';

let double: StripeApiDouble;
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR', () => undefined) });
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args) as Promise<R>;
let customer: string;
let invoiceId: string;
let activities: ReturnType<typeof createAssemblyActivities>;

beforeAll(async () => {
  double = await StripeApiDouble.start();
});
afterAll(async () => {
  await double?.stop();
});
beforeEach(() => {
  customer = stripeId('cus');
  invoiceId = stripeId('in');
  double.seed('customer', { id: customer });
  double.seed('invoice', { id: invoiceId, customer, status: 'draft', currency: 'usd', billing_reason: 'subscription_cycle', auto_advance: true });
  activities = createAssemblyActivities({
    stripe: double.client(),
    chargesSources: [
      suppliedCharges('usage-db', async (ctx) => [
        { key: `usage-${ctx.invoiceId}-1`, line: { amount: 1250, description: 'API calls, March' } },
        { key: `usage-${ctx.invoiceId}-bad`, line: { amount: 10, price_data: { currency: 'usd', product: 'prod_1', unit_amount: 1 } } },
      ]),
    ],
  });
});

/** The last request to a path, its body decoded the way Stripe reads it. */
function lastBody(path: string): string {
  const request = [...double.requests].reverse().find((r) => r.path === path);
  if (!request) throw new Error(`no request to ${path}`);
  return decodeURIComponent(request.rawBody.replace(/\+/g, ' '));
}

describe('assembly activities (Stripe API double)', () => {
  it('add_lines sends lines[i][...] form fields, assigns invoice items, and stamps invoice_metadata', async () => {
    const item = stripeId('ii');
    double.seed('invoiceitem', { id: item, customer, amount: 300, currency: 'usd', invoice: null, description: 'Setup fee' });
    const result = await run(activities.addInvoiceLines, {
      invoiceId,
      lines: [{ description: 'Consulting', amount: 5000, metadata: { stripe_flows_charge: 'c-1' } }, { invoice_item: item }],
      invoiceMetadata: { assembled: 'true', stale_key: '' },
      idempotencyKey: 'billing.assembly:test:add-1',
    });
    expect(result).toMatchObject({ status: 'draft', total: 5300 });
    const body = lastBody(`/v1/invoices/${invoiceId}/add_lines`);
    expect(body).toContain('lines[0][description]=Consulting');
    expect(body).toContain('lines[0][amount]=5000');
    expect(body).toContain('lines[0][metadata][stripe_flows_charge]=c-1');
    expect(body).toContain(`lines[1][invoice_item]=${item}`);
    expect(body).toContain('invoice_metadata[assembled]=true');
    expect(body).toContain('invoice_metadata[stale_key]=');
    expect(double.requests.at(-1)?.idempotencyKey).toBe('billing.assembly:test:add-1');
    expect(double.get('invoiceitem', item)?.invoice).toBe(invoiceId);
  });

  it('update_lines and remove_lines send id, metadata and behavior', async () => {
    await run(activities.addInvoiceLines, { invoiceId, lines: [{ amount: 100, description: 'a' }, { amount: 200, description: 'b' }], idempotencyKey: 'k-add' });
    const invoice = await run(activities.retrieveDraftInvoice, { invoiceId });
    const [a, b] = invoice.lines;
    await run(activities.updateInvoiceLines, { invoiceId, lines: [{ id: a!.id, description: 'Renamed', metadata: { period: '2026-11' } }], idempotencyKey: 'k-upd' });
    expect(lastBody(`/v1/invoices/${invoiceId}/update_lines`)).toContain(`lines[0][id]=${a!.id}&lines[0][description]=Renamed&lines[0][metadata][period]=2026-11`);
    await run(activities.removeInvoiceLines, { invoiceId, lines: [{ id: b!.id, behavior: 'unassign' }], idempotencyKey: 'k-rm' });
    expect(lastBody(`/v1/invoices/${invoiceId}/remove_lines`)).toBe(`lines[0][id]=${b!.id}&lines[0][behavior]=unassign`);
    const after = await run(activities.retrieveDraftInvoice, { invoiceId });
    expect(after.lines.map((l) => [l.id, l.description, l.metadata])).toEqual([[a!.id, 'Renamed', { period: '2026-11' }]]);
  });

  it('refuses invalid lines before any call, naming index and field, without retrying', async () => {
    const before = double.requests.length;
    const error = await run(activities.addInvoiceLines, { invoiceId, lines: [{ amount: 1 }, { description: 'no price' }], idempotencyKey: 'k-bad' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('InvalidInvoiceLines');
    expect((error as ApplicationFailure).message).toContain('lines[1]: give exactly one of amount, price_data, pricing.price, or invoice_item');
    expect(double.requests.length).toBe(before);
  });

  it('fails without retry when the invoice is no longer a draft', async () => {
    double.update('invoice', invoiceId, { status: 'open' });
    const error = await run(activities.addInvoiceLines, { invoiceId, lines: [{ amount: 1 }], idempotencyKey: 'k-open' }).catch((e: unknown) => e);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('stripe.invoice_not_editable');
  });

  it('reads every line of a long draft, past the 10 an invoice embeds', async () => {
    const lines = Array.from({ length: 23 }, (_, i) => ({ amount: 100 + i, description: `line ${i}` }));
    await run(activities.addInvoiceLines, { invoiceId, lines, idempotencyKey: 'k-many' });
    const invoice = await run(activities.retrieveDraftInvoice, { invoiceId });
    expect(invoice.lines).toHaveLength(23);
    expect(invoice.hasMoreLines).toBe(false);
  });

  it('collects the customer\'s unassigned invoice items and supplied charges, rejecting invalid ones', async () => {
    const pending = stripeId('ii');
    const otherCurrency = stripeId('ii');
    double.seed('invoiceitem', { id: pending, customer, amount: 700, currency: 'usd', invoice: null });
    double.seed('invoiceitem', { id: otherCurrency, customer, amount: 700, currency: 'eur', invoice: null });
    const { charges, rejected } = await run(activities.collectPendingCharges, { invoiceId, customerId: customer, currency: 'usd', billingReason: 'subscription_cycle' });
    expect(charges).toEqual([
      { key: pending, line: { invoice_item: pending } },
      { key: `usage-${invoiceId}-1`, line: { amount: 1250, description: 'API calls, March' } },
    ]);
    expect(rejected).toEqual([
      { source: 'usage-db', key: `usage-${invoiceId}-bad`, problems: ['line: give exactly one of amount, price_data, pricing.price, or invoice_item (to assign an existing unassigned invoice item)'] },
    ]);
  });

  it('finalizes with an idempotency key', async () => {
    await run(activities.addInvoiceLines, { invoiceId, lines: [{ amount: 900, description: 'x' }], idempotencyKey: 'k-f1' });
    const result = await run(activities.finalizeInvoice, { invoiceId, idempotencyKey: 'billing.assembly:x:finalize' });
    expect(result.status).toBe('open');
    expect(double.sideEffects({ path: `/v1/invoices/${invoiceId}/finalize` }).map((r) => r.idempotencyKey)).toEqual(['billing.assembly:x:finalize']);
  });
});

// Type check: the flow's activity interface is what createAssemblyActivities + notify provide.
export type _Check = AssemblyActivities['addInvoiceLines'];
