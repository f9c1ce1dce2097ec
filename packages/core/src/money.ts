// Stripe amounts are integers in the currency's smallest unit; people read them in major units.

/** Currencies Stripe charges in whole units (no minor unit). */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
/** Currencies with three decimals. */
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/**
 * A Stripe amount as people read it: `formatAmount(4200, 'usd')` is `42.00 USD`,
 * `formatAmount(500, 'jpy')` is `500 JPY`. Null or unknown parts read as `?`.
 */
export function formatAmount(amount: number | null | undefined, currency: string | null | undefined): string {
  const code = (currency ?? '').toLowerCase();
  const unit = code.toUpperCase() || '?';
  if (amount === null || amount === undefined || !Number.isFinite(amount)) return `? ${unit}`;
  const decimals = ZERO_DECIMAL.has(code) ? 0 : THREE_DECIMAL.has(code) ? 3 : 2;
  return `${(amount / 10 ** decimals).toFixed(decimals)} ${unit}`;
}
