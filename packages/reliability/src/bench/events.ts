// Events the benchmarks send: Stripe-shaped invoice.payment_failed bodies (fresh invoice each, or
// padded to a size with line items and metadata), and the exact signalWithStart calls the
// receiver's dispatcher makes for them, recorded so a bare script can replay them.
import type { Client, WorkflowSignalWithStartOptions } from '@temporalio/client';
import { Dispatcher, RouteRegistry, stripeEventEnvelopeSchema, type DomainDefinition, type StripeEventEnvelope } from '@stripe-flows/core';
import { buildEvent, failedInvoice, stripeId } from '@stripe-flows/testing';

/** Signing secret of the benchmark's receivers (loopback only, never a real endpoint's). */
export const BENCH_WEBHOOK_SECRET = 'whsec_stripe_flows_bench_only';

/** A raw `invoice.payment_failed` body for a fresh open invoice: a new dunning flow per event. */
export function failedPaymentBody(): string {
  const invoice = failedInvoice({ next_payment_attempt: null });
  return JSON.stringify(buildEvent('invoice.payment_failed', { object: invoice }));
}

/**
 * An `invoice.payment_failed` body of about `bytes`: Stripe's whole invoice object where it fits
 * (about 4 KB; below that, the fields a failed-payment invoice needs), then as many line items as
 * fit (what makes real invoice events large), then metadata to reach the size.
 */
export function sizedFailedPaymentBody(bytes: number): string {
  const failed = failedInvoice({ next_payment_attempt: null });
  const whole = buildEvent('invoice.payment_failed', { object: failed });
  const event = Buffer.byteLength(JSON.stringify(whole)) <= bytes ? whole : { ...whole, data: { object: { object: 'invoice', ...failed } } };
  const invoice = (event['data'] as { object: Record<string, unknown> }).object;
  const id = invoice['id'] as string;
  const lines: Array<Record<string, unknown>> = [];
  invoice['lines'] = { object: 'list', data: lines, has_more: false, total_count: 0, url: `/v1/invoices/${id}/lines` };
  invoice['metadata'] = {};
  const size = () => Buffer.byteLength(JSON.stringify(event));
  const now = Math.floor(Date.now() / 1000);
  while (size() + 900 <= bytes) {
    lines.push({
      id: stripeId('il'), object: 'line_item', amount: 1250, currency: 'usd', description: `${lines.length + 1} × Seat (at $12.50 / month)`,
      discount_amounts: [], discountable: true, discounts: [], invoice: id, livemode: false, metadata: { seat: String(lines.length + 1) },
      parent: { type: 'subscription_item_details', invoice_item_details: null, subscription_item_details: { invoice_item: null, proration: false, proration_details: { credited_items: null }, subscription: invoice['subscription'], subscription_item: stripeId('si') } },
      period: { end: now + 30 * 86_400, start: now }, pretax_credit_amounts: [], pricing: { price_details: { price: stripeId('price'), product: stripeId('prod') }, type: 'price_details', unit_amount_decimal: '1250' },
      quantity: 1, taxes: [],
    });
    (invoice['lines'] as { total_count: number }).total_count = lines.length;
  }
  const metadata = invoice['metadata'] as Record<string, string>;
  for (let i = 0; size() < bytes; i++) {
    const room = bytes - size() - `,"note_${i}":""`.length;
    metadata[`note_${i}`] = 'x'.repeat(Math.max(1, Math.min(200, room)));
  }
  return JSON.stringify(event);
}

/** One signalWithStart exactly as the dispatcher made it, JSON-safe (signal by name). */
export interface DispatchCall {
  workflowType: string;
  options: WorkflowSignalWithStartOptions;
}

/**
 * The signalWithStart calls the receiver's dispatcher makes for these bodies, taken from the
 * real Dispatcher over a client that records instead of calling Temporal.
 */
export async function recordDispatchCalls(bodies: readonly string[], domains: ReadonlyArray<Pick<DomainDefinition, 'name' | 'routes'>>): Promise<DispatchCall[]> {
  const calls: DispatchCall[] = [];
  const dispatcher = new Dispatcher({ client: recordingClient(calls), registry: new RouteRegistry(domains), deadlineMs: 5000 });
  for (const body of bodies) await dispatcher.dispatch(parseEnvelope(body));
  return JSON.parse(JSON.stringify(calls)) as DispatchCall[];
}

/** The envelope of a body the bench built (valid by construction). */
export function parseEnvelope(body: string): StripeEventEnvelope {
  return stripeEventEnvelopeSchema.parse(JSON.parse(body));
}

/**
 * The part of a Temporal client the dispatcher uses for start routes, answering at once; calls are
 * pushed to `calls` when given. Stands in for Temporal where only the receiver's own work counts.
 */
export function recordingClient(calls?: DispatchCall[]): Client {
  const fake = {
    withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
    workflow: {
      signalWithStart: (workflowType: string, options: WorkflowSignalWithStartOptions) => {
        calls?.push({ workflowType, options });
        return Promise.resolve({ workflowId: options.workflowId, signaledRunId: 'bench' });
      },
    },
  };
  return fake as unknown as Client;
}
