import { describe, expect, it } from 'vitest';
import { formatAmount } from '../src/money.js';

describe('formatAmount', () => {
  it('reads Stripe amounts in major units, by the currency\'s decimals', () => {
    expect(formatAmount(4200, 'usd')).toBe('42.00 USD');
    expect(formatAmount(5, 'eur')).toBe('0.05 EUR');
    expect(formatAmount(500, 'jpy')).toBe('500 JPY');
    expect(formatAmount(1234, 'KWD')).toBe('1.234 KWD');
    expect(formatAmount(-150, 'gbp')).toBe('-1.50 GBP');
  });

  it('says what it does not know', () => {
    expect(formatAmount(null, 'usd')).toBe('? USD');
    expect(formatAmount(100, null)).toBe('1.00 ?');
  });
});
