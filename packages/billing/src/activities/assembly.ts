import Stripe from 'stripe';
import { stripeCall } from '@stripe-flows/core';
import { unassignedInvoiceItems, type AssemblyContext, type ChargesSource, type PendingCharge } from '../charges.js';
import {
  addLineSchema,
  draftInvoiceProjection,
  InvalidInvoiceLinesError,
  invoiceStatusSchema,
  invoiceLineProjection,
  validateInvoiceLines,
  type AddLine,
  type DraftInvoiceSnapshot,
  type RemoveLine,
  type UpdateLine,
} from '../invoice-lines.js';
import { project } from './project.js';
import { requestOptions, type BillingActivityDeps, type createNotifyActivity } from './shared.js';
import { ApplicationFailure } from '@temporalio/common';

export interface LinesCall<L> {
  invoiceId: string;
  account?: string;
  lines: L[];
  /** Keys to set on the invoice; "" unsets a key. */
  invoiceMetadata?: Record<string, string>;
  idempotencyKey: string;
}

/** What a line call leaves behind: enough to log, not the whole invoice (history stays small). */
export interface LinesResult {
  status: DraftInvoiceSnapshot['status'];
  total: number | null;
  lineCount: number;
}

/** A charge a source produced that cannot go on an invoice as it is. */
export interface RejectedCharge {
  source: string;
  key: string;
  problems: string[];
}

/**
 * Our validated line → stripe-node's params. The schemas mirror Stripe's line params field for
 * field; only decimals differ (strings in workflow history, stripe-node Decimals on the wire).
 */
function toStripeLine<T>(line: AddLine | UpdateLine): T {
  const { quantity_decimal, price_data, ...rest } = line;
  return {
    ...rest,
    ...(quantity_decimal !== undefined ? { quantity_decimal: Stripe.Decimal.from(quantity_decimal) } : {}),
    ...(price_data
      ? {
          price_data: {
            ...price_data,
            ...(price_data.unit_amount_decimal !== undefined ? { unit_amount_decimal: Stripe.Decimal.from(price_data.unit_amount_decimal) } : {}),
          },
        }
      : {}),
  } as T;
}

/** Invalid input is the caller's to fix: fail the step without retrying, naming every bad field. */
function checked<E extends 'add_lines' | 'update_lines' | 'remove_lines'>(endpoint: E, lines: readonly unknown[]) {
  try {
    return validateInvoiceLines(endpoint, lines);
  } catch (error) {
    if (error instanceof InvalidInvoiceLinesError) {
      throw ApplicationFailure.create({ type: 'InvalidInvoiceLines', message: error.message, nonRetryable: true, details: [error.problems] });
    }
    throw error;
  }
}

function result(invoice: Stripe.Invoice): LinesResult {
  return { status: invoiceStatusSchema.parse(invoice.status), total: invoice.total ?? null, lineCount: invoice.lines?.data.length ?? 0 };
}

/**
 * Draft-invoice assembly: read the draft with every line, gather pending charges from the
 * ChargesSource port, and the three line endpoints plus finalize.
 */
export function createAssemblyActivities({ stripe, chargesSources }: Pick<BillingActivityDeps, 'stripe' | 'chargesSources'>) {
  const sources: ChargesSource[] = [unassignedInvoiceItems(stripe), ...(chargesSources ?? [])];
  return {
    /** The invoice with all its lines (paged past the first 10 the invoice carries). */
    async retrieveDraftInvoice(call: { invoiceId: string; account?: string }): Promise<DraftInvoiceSnapshot> {
      const invoice = await stripeCall(`GET /v1/invoices/${call.invoiceId}`, () => stripe.invoices.retrieve(call.invoiceId, {}, requestOptions(call)));
      const snapshot = project(draftInvoiceProjection, invoice, `invoice ${call.invoiceId}`);
      if (!snapshot.hasMoreLines) return snapshot;
      const lines = await stripeCall(`GET /v1/invoices/${call.invoiceId}/lines`, () =>
        stripe.invoices.listLineItems(call.invoiceId, { limit: 100 }, requestOptions(call)).autoPagingToArray({ limit: 10_000 }),
      );
      return { ...snapshot, lines: lines.map((line) => project(invoiceLineProjection, line, `invoice ${call.invoiceId} lines`)), hasMoreLines: false };
    },

    /** Every source's pending charges; a charge whose line is invalid is rejected, not sent. */
    async collectPendingCharges(context: AssemblyContext): Promise<{ charges: PendingCharge[]; rejected: RejectedCharge[] }> {
      const charges: PendingCharge[] = [];
      const rejected: RejectedCharge[] = [];
      const seen = new Set<string>();
      for (const source of sources) {
        for (const charge of await source.pendingCharges(context)) {
          if (seen.has(charge.key)) continue;
          seen.add(charge.key);
          const parsed = addLineSchema.safeParse(charge.line);
          if (parsed.success) charges.push({ key: charge.key, line: charge.line });
          else rejected.push({ source: source.name, key: charge.key, problems: parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`) });
        }
      }
      return { charges, rejected };
    },

    async addInvoiceLines(call: LinesCall<AddLine>): Promise<LinesResult> {
      const lines = checked('add_lines', call.lines);
      const invoice = await stripeCall(`POST /v1/invoices/${call.invoiceId}/add_lines`, () =>
        stripe.invoices.addLines(
          call.invoiceId,
          { lines: lines.map((l) => toStripeLine<Stripe.InvoiceAddLinesParams.Line>(l)), ...(call.invoiceMetadata ? { invoice_metadata: call.invoiceMetadata } : {}) },
          requestOptions(call),
        ),
      );
      return result(invoice);
    },

    async updateInvoiceLines(call: LinesCall<UpdateLine>): Promise<LinesResult> {
      const lines = checked('update_lines', call.lines);
      const invoice = await stripeCall(`POST /v1/invoices/${call.invoiceId}/update_lines`, () =>
        stripe.invoices.updateLines(
          call.invoiceId,
          { lines: lines.map((l) => toStripeLine<Stripe.InvoiceUpdateLinesParams.Line>(l)), ...(call.invoiceMetadata ? { invoice_metadata: call.invoiceMetadata } : {}) },
          requestOptions(call),
        ),
      );
      return result(invoice);
    },

    async removeInvoiceLines(call: LinesCall<RemoveLine>): Promise<LinesResult> {
      const lines = checked('remove_lines', call.lines);
      const invoice = await stripeCall(`POST /v1/invoices/${call.invoiceId}/remove_lines`, () =>
        stripe.invoices.removeLines(
          call.invoiceId,
          { lines, ...(call.invoiceMetadata ? { invoice_metadata: call.invoiceMetadata } : {}) },
          requestOptions(call),
        ),
      );
      return result(invoice);
    },

    /** Invoice metadata alone, for an assembly that changed no line. */
    async stampInvoiceMetadata(call: { invoiceId: string; account?: string; metadata: Record<string, string>; idempotencyKey: string }): Promise<void> {
      await stripeCall(`POST /v1/invoices/${call.invoiceId}`, () => stripe.invoices.update(call.invoiceId, { metadata: call.metadata }, requestOptions(call)));
    },

    async finalizeInvoice(call: { invoiceId: string; account?: string; idempotencyKey: string }): Promise<{ status: DraftInvoiceSnapshot['status'] }> {
      const invoice = await stripeCall(`POST /v1/invoices/${call.invoiceId}/finalize`, () =>
        stripe.invoices.finalizeInvoice(call.invoiceId, { auto_advance: true }, requestOptions(call)),
      );
      return { status: invoiceStatusSchema.parse(invoice.status) };
    },
  };
}

export type AssemblyActivities = ReturnType<typeof createAssemblyActivities> & ReturnType<typeof createNotifyActivity>;
