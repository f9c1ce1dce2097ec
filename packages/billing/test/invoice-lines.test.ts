// The line endpoints' contract: the reference response parses, and bad lines[] input is refused
// before any call with a message naming the line index and field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '@stripe-flows/testing';
import { draftInvoiceProjection, InvalidInvoiceLinesError, validateInvoiceLines } from '../src/index.js';

function problems(endpoint: 'add_lines' | 'update_lines' | 'remove_lines', lines: unknown[]): string[] {
  try {
    validateInvoiceLines(endpoint, lines);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInvoiceLinesError);
    return (error as InvalidInvoiceLinesError).problems;
  }
  throw new Error('expected the lines to be refused');
}

const taxAmount = { amount: 10, taxable_amount: 100, tax_rate_data: { display_name: 'VAT', inclusive: false, percentage: 10 } };

describe('draft invoice projection', () => {
  it('parses the reference response of add_lines / update_lines / remove_lines', () => {
    const invoice = draftInvoiceProjection.parse(JSON.parse(readFileSync(join(fixturesDir, 'invoice-with-lines.json'), 'utf8')));
    expect(invoice).toMatchObject({ id: 'in_1NuhUa2eZvKYlo2CWYVhyvD9', status: 'draft', customerId: 'cus_9s6XKzkNRiz8i3', hasMoreLines: false });
    expect(invoice.lines).toHaveLength(2);
    expect(invoice.lines[0]).toEqual({ id: 'il_1NuhUa2eZvKYlo2CC98Fg3Bo', kind: 'invoice_item', invoiceItemId: 'ii_1NuhUa2eZvKYlo2CGeF7Qgx0', amount: 799, description: 'test description', metadata: {} });
  });

  it('reads newer API versions, where a line names its invoice item under parent', () => {
    const invoice = draftInvoiceProjection.parse({
      id: 'in_1', status: 'draft', customer: 'cus_1', currency: 'usd', lines: { has_more: false, data: [
        { id: 'il_a', amount: 5, metadata: {}, parent: { type: 'invoice_item_details', invoice_item_details: { invoice_item: 'ii_a' } } },
        { id: 'il_b', amount: 9, metadata: { plan: 'pro' }, parent: { type: 'subscription_item_details', invoice_item_details: null } },
      ] },
    });
    expect(invoice.lines.map((l) => [l.kind, l.invoiceItemId])).toEqual([['invoice_item', 'ii_a'], ['subscription', null]]);
  });
});

describe('validateInvoiceLines', () => {
  it('accepts each endpoint\'s documented line shapes', () => {
    expect(validateInvoiceLines('add_lines', [
      { amount: -500, description: 'Goodwill credit' },
      { price_data: { currency: 'usd', product: 'prod_1', unit_amount_decimal: '12.5' }, quantity_decimal: '2.5', period: { start: 1, end: 2 } },
      { pricing: { price: 'price_1' }, quantity: 3, discounts: [{ coupon: 'co_1' }], tax_rates: ['txr_1'], tax_amounts: Array(20).fill(taxAmount) },
      { invoice_item: 'ii_123', metadata: { order: '42' } },
    ])).toHaveLength(4);
    expect(validateInvoiceLines('update_lines', [{ id: 'il_1', description: 'Renamed', discountable: false }])).toHaveLength(1);
    expect(validateInvoiceLines('remove_lines', [{ id: 'il_1', behavior: 'delete' }, { id: 'il_2', behavior: 'unassign' }])).toHaveLength(2);
  });

  it('names the line index and field of every problem in add_lines', () => {
    expect(problems('add_lines', [
      { amount: 100, description: 'ok' },
      { amount: 100, tax_amounts: Array(21).fill(taxAmount) },
      { price_data: { currency: 'USD', product: 'prod_1', unit_amount: 5 } },
      { amount: 100, price_data: { currency: 'usd', product: 'prod_1', unit_amount: 5 } },
      { invoice_item: 'il_notanitem' },
      { amount: 1.5 },
      { amount: 100, colour: 'red' },
      { amount: 100, quantity: 1, quantity_decimal: '1.5' },
    ])).toEqual([
      'lines[1].tax_amounts: at most 20 tax amounts per line',
      'lines[2].price_data.currency: must be a lowercase ISO currency code like "usd"',
      'lines[3]: give exactly one of amount, price_data, pricing.price, or invoice_item (to assign an existing unassigned invoice item)',
      'lines[4].invoice_item: must be an invoice item id (ii_...), not a line id',
      'lines[5].amount: Invalid input: expected int, received number',
      'lines[6]: Unrecognized key: "colour"',
      'lines[7].quantity_decimal: give quantity or quantity_decimal, not both',
    ]);
  });

  it('refuses update_lines without a line id, or with invoice_item, and bad remove behaviors', () => {
    expect(problems('update_lines', [{ description: 'x' }, { id: 'il_1', invoice_item: 'ii_1' }])).toEqual([
      'lines[0].id: Invalid input: expected string, received undefined',
      'lines[1]: Unrecognized key: "invoice_item"',
    ]);
    expect(problems('remove_lines', [{ id: 'ii_1', behavior: 'destroy' }])).toEqual([
      'lines[0].id: must be an invoice line id (il_...)',
      'lines[0].behavior: Invalid option: expected one of "delete"|"unassign"',
    ]);
    expect(problems('remove_lines', [])).toEqual(['lines: give at least one line']);
  });
});
