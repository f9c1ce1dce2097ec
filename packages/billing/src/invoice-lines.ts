// The contract of Stripe's draft-invoice line endpoints (add_lines, update_lines, remove_lines):
// zod schemas for each endpoint's `lines[]`, checked before any call so bad input gets a message
// naming the line index and the field, and changes nothing.
import { z } from 'zod';

const MAX_TAX_AMOUNTS = 20;
const decimalString = z.string().regex(/^\d+(\.\d{1,12})?$/, 'must be a non-negative decimal string like "1.5"');
const metadata = z
  .record(z.string().min(1).max(40, 'keys are at most 40 characters'), z.string().max(500, 'values are at most 500 characters'))
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 keys');
const period = z
  .object({ start: z.number().int().positive(), end: z.number().int().positive() })
  .refine((p) => p.end >= p.start, { message: 'end must not be before start', path: ['end'] });
const discount = z
  .object({ coupon: z.string().min(1).optional(), discount: z.string().min(1).optional(), promotion_code: z.string().min(1).optional() })
  .strict()
  .refine((d) => [d.coupon, d.discount, d.promotion_code].filter(Boolean).length === 1, 'give exactly one of coupon, discount, promotion_code');
const taxAmount = z
  .object({
    amount: z.number().int().nonnegative(),
    taxable_amount: z.number().int(),
    taxability_reason: z.string().optional(),
    tax_rate_data: z
      .object({
        display_name: z.string().min(1),
        inclusive: z.boolean(),
        percentage: z.number().nonnegative(),
        country: z.string().length(2).optional(),
        description: z.string().optional(),
        jurisdiction: z.string().optional(),
        jurisdiction_level: z.enum(['city', 'country', 'county', 'district', 'multiple', 'state']).optional(),
        state: z.string().optional(),
        tax_type: z.string().optional(),
      })
      .strict(),
  })
  .strict();
const priceData = z
  .object({
    currency: z.string().regex(/^[a-z]{3}$/, 'must be a lowercase ISO currency code like "usd"'),
    product: z.string().min(1).optional(),
    product_data: z
      .object({ name: z.string().min(1), description: z.string().optional(), metadata: metadata.optional(), tax_code: z.string().optional(), unit_label: z.string().optional() })
      .strict()
      .optional(),
    tax_behavior: z.enum(['exclusive', 'inclusive', 'unspecified']).optional(),
    unit_amount: z.number().int().optional(),
    unit_amount_decimal: decimalString.optional(),
  })
  .strict()
  .refine((p) => (p.product === undefined) !== (p.product_data === undefined), 'give exactly one of product, product_data')
  .refine((p) => (p.unit_amount === undefined) !== (p.unit_amount_decimal === undefined), 'give exactly one of unit_amount, unit_amount_decimal');

/** Fields add_lines and update_lines share. */
const lineFields = {
  /** Amount in the smallest currency unit; negative is a credit. */
  amount: z.number().int().optional(),
  description: z.string().max(5000).optional(),
  discountable: z.boolean().optional(),
  discounts: z.array(discount).optional(),
  metadata: metadata.optional(),
  period: period.optional(),
  price_data: priceData.optional(),
  pricing: z.object({ price: z.string().min(1) }).strict().optional(),
  quantity: z.number().int().nonnegative().optional(),
  quantity_decimal: decimalString.optional(),
  tax_amounts: z.array(taxAmount).max(MAX_TAX_AMOUNTS, `at most ${MAX_TAX_AMOUNTS} tax amounts per line`).optional(),
  tax_rates: z.array(z.string().min(1)).optional(),
};

type Priced = { amount?: number | undefined; price_data?: unknown; pricing?: unknown; quantity?: number | undefined; quantity_decimal?: string | undefined };
const pricedBy = (l: Priced) => [l.amount !== undefined, l.price_data !== undefined, l.pricing !== undefined].filter(Boolean).length;
const oneQuantity = (l: Priced) => l.quantity === undefined || l.quantity_decimal === undefined;

/** One line of `POST /v1/invoices/:id/add_lines`. */
export const addLineSchema = z
  .object({ ...lineFields, invoice_item: z.string().startsWith('ii_', 'must be an invoice item id (ii_...), not a line id').optional() })
  .strict()
  .refine((l) => (l.invoice_item !== undefined ? pricedBy(l) === 0 : pricedBy(l) === 1), {
    message: 'give exactly one of amount, price_data, pricing.price, or invoice_item (to assign an existing unassigned invoice item)',
  })
  .refine(oneQuantity, { message: 'give quantity or quantity_decimal, not both', path: ['quantity_decimal'] });

/** One line of `POST /v1/invoices/:id/update_lines`. */
export const updateLineSchema = z
  .object({ id: z.string().startsWith('il_', 'must be an invoice line id (il_...)'), ...lineFields })
  .strict()
  .refine((l) => pricedBy(l) <= 1, { message: 'give at most one of amount, price_data, pricing.price' })
  .refine(oneQuantity, { message: 'give quantity or quantity_decimal, not both', path: ['quantity_decimal'] });

/** One line of `POST /v1/invoices/:id/remove_lines`. */
export const removeLineSchema = z
  .object({
    id: z.string().startsWith('il_', 'must be an invoice line id (il_...)'),
    /** delete: the invoice item is gone; unassign: it is freed for another invoice. */
    behavior: z.enum(['delete', 'unassign']),
  })
  .strict();

export type AddLine = z.input<typeof addLineSchema>;
export type UpdateLine = z.input<typeof updateLineSchema>;
export type RemoveLine = z.input<typeof removeLineSchema>;

/** `invoice_metadata`: keys to set; an empty value unsets a key, an empty object unsets all. */
export const invoiceMetadataSchema = z.record(z.string().min(1).max(40), z.string().max(500));

/** Bad `lines[]` input: every problem, each naming the line index and field. */
export class InvalidInvoiceLinesError extends Error {
  override readonly name = 'InvalidInvoiceLinesError';
  constructor(
    readonly endpoint: 'add_lines' | 'update_lines' | 'remove_lines',
    readonly problems: string[],
  ) {
    super(`Invalid lines for ${endpoint}; nothing was sent to Stripe: ${problems.join('; ')}.`);
  }
}

const SCHEMAS = { add_lines: addLineSchema, update_lines: updateLineSchema, remove_lines: removeLineSchema } as const;

/** Check a `lines[]` array for an endpoint; throws {@link InvalidInvoiceLinesError} naming each bad field. */
export function validateInvoiceLines<E extends keyof typeof SCHEMAS>(endpoint: E, lines: readonly unknown[]): Array<z.output<(typeof SCHEMAS)[E]>> {
  const result = z.array(SCHEMAS[endpoint] as z.ZodType).min(1, 'give at least one line').safeParse(lines);
  if (result.success) return result.data as Array<z.output<(typeof SCHEMAS)[E]>>;
  throw new InvalidInvoiceLinesError(
    endpoint,
    result.error.issues.map((issue) => {
      const [index, ...field] = issue.path;
      const where = typeof index === 'number' ? `lines[${index}]${field.map((f) => (typeof f === 'number' ? `[${f}]` : `.${String(f)}`)).join('')}` : 'lines';
      return `${where}: ${issue.message}`;
    }),
  );
}

/** A line of a draft invoice, as the assembly flow reads it. */
export const invoiceLineProjection = z
  .object({
    id: z.string().min(1),
    amount: z.number().int(),
    description: z.string().nullable().optional(),
    metadata: z.record(z.string(), z.string()).nullable().optional(),
    // Older API versions: type + invoice_item; newer: parent.{type, invoice_item_details}.
    type: z.enum(['invoiceitem', 'subscription']).optional(),
    invoice_item: z.union([z.string(), z.object({ id: z.string() }).transform((o) => o.id)]).nullable().optional(),
    parent: z
      .object({
        type: z.string(),
        invoice_item_details: z.object({ invoice_item: z.string() }).nullable().optional(),
      })
      .nullable()
      .optional(),
  })
  .transform((line) => {
    const invoiceItemId = line.parent?.invoice_item_details?.invoice_item ?? line.invoice_item ?? null;
    const kind: 'invoice_item' | 'subscription' =
      line.parent?.type === 'subscription_item_details' || line.type === 'subscription' ? 'subscription' : invoiceItemId || line.type === 'invoiceitem' ? 'invoice_item' : 'subscription';
    return { id: line.id, kind, invoiceItemId, amount: line.amount, description: line.description ?? null, metadata: line.metadata ?? {} };
  });
export type InvoiceLineSnapshot = z.output<typeof invoiceLineProjection>;

/** Invoice lifecycle: draft → open → paid | uncollectible | void. */
export const invoiceStatusSchema = z.enum(['draft', 'open', 'paid', 'uncollectible', 'void']);

/** A draft invoice with its lines: what add_lines, update_lines and remove_lines return. */
export const draftInvoiceProjection = z
  .object({
    id: z.string().startsWith('in_'),
    status: invoiceStatusSchema,
    customer: z.union([z.string().min(1), z.object({ id: z.string() }).transform((o) => o.id)]).nullable(),
    billing_reason: z.string().nullable().optional(),
    auto_advance: z.boolean().optional(),
    currency: z.string().length(3),
    total: z.number().int().optional(),
    metadata: z.record(z.string(), z.string()).nullable().optional(),
    lines: z.object({ data: z.array(invoiceLineProjection), has_more: z.boolean() }),
  })
  .transform((invoice) => ({
    id: invoice.id,
    status: invoice.status,
    customerId: invoice.customer,
    billingReason: invoice.billing_reason ?? null,
    autoAdvance: invoice.auto_advance ?? null,
    currency: invoice.currency,
    total: invoice.total ?? null,
    metadata: invoice.metadata ?? {},
    lines: invoice.lines.data,
    hasMoreLines: invoice.lines.has_more,
  }));
export type DraftInvoiceSnapshot = z.output<typeof draftInvoiceProjection>;
