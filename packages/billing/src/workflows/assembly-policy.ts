/** How a draft invoice is assembled: passed as workflow input, defaults below. */
export interface AssemblyPolicy {
  /** Invoices (by `billing_reason`) the flow assembles; others are left alone. */
  billingReasons: string[];
  /** Lines per add_lines / update_lines / remove_lines call. */
  batchSize: number;
  /**
   * Invoice-item lines whose metadata has this key set to "true" must not bill now: they are
   * removed with behavior `unassign`, so the item waits for a later invoice. Null: off.
   */
  holdMetadataKey: string | null;
  /** Remove (behavior `delete`) invoice-item lines of amount 0. */
  deleteZeroAmountLines: boolean;
  /** Metadata stamped on every line (update_lines) that lacks it. */
  lineMetadata: Record<string, string>;
  /** `invoice_metadata` stamped on the invoice; an empty value unsets that key. */
  invoiceMetadata: Record<string, string>;
  /** `finalize`: finalize once assembled; `auto_advance`: leave it to Stripe (about 1 h after invoice.created). */
  completion: 'finalize' | 'auto_advance';
  /** How long to wait for Stripe's own finalization before ending the flow, in hours. */
  awaitFinalizationHours: number;
}

export const defaultAssemblyPolicy: AssemblyPolicy = {
  billingReasons: ['subscription_cycle'],
  batchSize: 50,
  holdMetadataKey: 'stripe_flows_hold',
  deleteZeroAmountLines: false,
  lineMetadata: {},
  invoiceMetadata: { stripe_flows_assembled: 'true' },
  completion: 'auto_advance',
  awaitFinalizationHours: 73, // Stripe finalizes within 72 h at most
};

/** Merge overrides on the defaults and check the result; throws a message naming the bad field. */
export function resolveAssemblyPolicy(overrides: Partial<AssemblyPolicy> = {}): AssemblyPolicy {
  const policy = { ...defaultAssemblyPolicy, ...overrides };
  const problems: string[] = [];
  if (!Array.isArray(policy.billingReasons) || policy.billingReasons.length === 0) problems.push('billingReasons must list at least one billing_reason');
  if (!Number.isInteger(policy.batchSize) || policy.batchSize < 1 || policy.batchSize > 250) problems.push('batchSize must be an integer from 1 to 250');
  if (!['finalize', 'auto_advance'].includes(policy.completion)) problems.push('completion must be finalize or auto_advance');
  if (!(policy.awaitFinalizationHours > 0)) problems.push('awaitFinalizationHours must be > 0');
  for (const [key, value] of Object.entries({ ...policy.lineMetadata, ...policy.invoiceMetadata })) {
    if (key.length === 0 || key.length > 40) problems.push(`metadata key "${key}" must be 1 to 40 characters`);
    if (typeof value !== 'string' || value.length > 500) problems.push(`metadata value of "${key}" must be a string of at most 500 characters`);
  }
  if (problems.length) throw new Error(`Invalid assembly policy: ${problems.join('; ')}.`);
  return policy;
}
