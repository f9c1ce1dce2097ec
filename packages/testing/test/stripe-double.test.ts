import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { StripeApiDouble, decodeForm, findFixturesPath, MAX_INVOICE_ITEMS } from '../src/stripe-double/index.js';

// One double for the file; tests use their own ids, and reset() where they count requests.
let double: StripeApiDouble;
let stripe: Stripe;

beforeAll(async () => {
  double = await StripeApiDouble.start();
  stripe = double.client();
});

afterAll(async () => {
  await double.stop();
});

/** A raw HTTP call, for wire-level detail stripe-node hides. */
async function raw(
  method: string,
  path: string,
  opts: { body?: string; headers?: Record<string, string>; auth?: string | null } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', ...opts.headers };
  if (opts.auth !== null) headers.Authorization = opts.auth ?? 'Bearer sk_test_raw';
  const res = await fetch(`${double.url}${path}`, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

/** The Stripe error a promise rejects with. */
async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Stripe.errors.StripeError);
    return error as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}

function seedCustomer(id: string): void {
  double.seed('customer', { id, email: `${id}@example.com` });
}

async function draftInvoice(customer: string): Promise<Stripe.Invoice> {
  seedCustomer(customer);
  return stripe.invoices.create({ customer });
}

const invoiceWithLinesFixture = JSON.parse(
  readFileSync(findFixturesPath().replace('stripe-objects.json', 'invoice-with-lines.json'), 'utf8'),
) as { lines: { data: Record<string, unknown>[] } };

describe('retrieving and errors', () => {
  it('retrieves a seeded object in the fixture shape with the overrides applied', async () => {
    const seeded = double.seed<Stripe.Invoice>('invoice', { id: 'in_seeded', customer: 'cus_seeded', status: 'open', metadata: { order: '42' } });
    expect(seeded.status).toBe('open');
    const invoice = await stripe.invoices.retrieve('in_seeded');
    expect(invoice).toMatchObject({ id: 'in_seeded', object: 'invoice', customer: 'cus_seeded', status: 'open', metadata: { order: '42' } });
    expect(invoice.account_country).toBe('US'); // from the fixture
    expect(invoice.lines).toMatchObject({ object: 'list', data: [], url: '/v1/invoices/in_seeded/lines' });
    const last = double.requests.at(-1);
    expect(last).toMatchObject({ method: 'GET', path: '/v1/invoices/in_seeded', status: 200, authorization: 'bearer' });
    expect(JSON.stringify(last)).not.toContain('sk_test_stripe_api_double');
  });

  it('answers an unknown id with 404 resource_missing, surfaced by stripe-node as StripeInvalidRequestError', async () => {
    const error = await stripeError(stripe.invoices.retrieve('in_missing'));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id', message: "No such invoice: 'in_missing'" });
    expect(error.requestId).toMatch(/^req_/);

    const wire = await raw('GET', '/v1/invoices/in_missing');
    expect(wire.status).toBe(404);
    expect(wire.headers.get('request-id')).toMatch(/^req_/);
    expect(wire.json).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'resource_missing',
        param: 'id',
        message: "No such invoice: 'in_missing'",
        doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
      },
    });
  });

  it('answers an unknown path with Unrecognized request URL', async () => {
    const wire = await raw('POST', '/v1/nothing_here', { body: 'a=1' });
    expect(wire.status).toBe(404);
    expect(wire.json.error).toMatchObject({ type: 'invalid_request_error' });
    expect((wire.json.error as { message: string }).message).toMatch(/^Unrecognized request URL \(POST: \/v1\/nothing_here\)/);
  });

  it('rejects a missing or malformed API key with 401, never recording the key', async () => {
    const missing = await raw('GET', '/v1/customers', { auth: null });
    expect(missing.status).toBe(401);
    expect((missing.json.error as { message: string }).message).toContain('You did not provide an API key');
    expect(double.requests.at(-1)?.authorization).toBe('missing');

    const error = await stripeError(double.client({ apiKey: 'pk_test_publishable_key' }).customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.statusCode).toBe(401);
    expect(error.message).toMatch(/^Invalid API Key provided: pk_test_/);
    expect(error.message).not.toContain('publishable');
    expect(double.requests.at(-1)?.authorization).toBe('invalid');
  });
});

describe('invoice state machine', () => {
  it('finalizes draft → open once, stamping status_transitions, number and hosted URL', async () => {
    const draft = await draftInvoice('cus_sm1');
    await stripe.invoices.addLines(draft.id, { lines: [{ amount: 1500, description: 'Seats' }] });
    const open = await stripe.invoices.finalizeInvoice(draft.id);
    expect(open.status).toBe('open');
    expect(open.status_transitions.finalized_at).toEqual(expect.any(Number));
    expect(open.number).toMatch(/-0*\d+$/);
    expect(open.hosted_invoice_url).toBe(`${double.url}/hosted_invoices/${draft.id}`);
    expect(open.amount_due).toBe(1500);

    const again = await stripeError(stripe.invoices.finalizeInvoice(draft.id));
    expect(again).toMatchObject({ statusCode: 400, code: 'invoice_not_editable' });
  });

  it('moves open → uncollectible → paid, and a paid invoice can no longer be voided or marked', async () => {
    const draft = await draftInvoice('cus_sm2');
    await stripe.invoices.addLines(draft.id, { lines: [{ amount: 900 }] });
    await stripe.invoices.finalizeInvoice(draft.id);
    const uncollectible = await stripe.invoices.markUncollectible(draft.id);
    expect(uncollectible.status).toBe('uncollectible');
    expect(uncollectible.status_transitions.marked_uncollectible_at).toEqual(expect.any(Number));

    const paid = await stripe.invoices.pay(draft.id);
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 900, amount_remaining: 0, attempt_count: 1 });
    expect(paid.status_transitions.paid_at).toEqual(expect.any(Number));

    const voidPaid = await stripeError(stripe.invoices.voidInvoice(draft.id));
    expect(voidPaid).toMatchObject({ statusCode: 400, code: 'invoice_not_editable' });
    expect(voidPaid.message).toContain('is paid');
    expect((await stripeError(stripe.invoices.markUncollectible(draft.id))).code).toBe('invoice_not_editable');
    expect((await stripeError(stripe.invoices.pay(draft.id))).message).toContain('already paid');
  });

  it('makes void irreversible: a void invoice cannot be voided, paid, marked uncollectible or deleted', async () => {
    const draft = await draftInvoice('cus_sm3');
    await stripe.invoices.addLines(draft.id, { lines: [{ amount: 700 }] });
    await stripe.invoices.finalizeInvoice(draft.id);
    const voided = await stripe.invoices.voidInvoice(draft.id);
    expect(voided.status).toBe('void');
    expect(voided.status_transitions.voided_at).toEqual(expect.any(Number));

    for (const attempt of [
      stripe.invoices.voidInvoice(draft.id),
      stripe.invoices.pay(draft.id),
      stripe.invoices.markUncollectible(draft.id),
      stripe.invoices.del(draft.id),
    ]) {
      expect(await stripeError(attempt)).toMatchObject({ statusCode: 400, code: 'invoice_not_editable' });
    }
    expect((await stripe.invoices.retrieve(draft.id)).status).toBe('void');
  });

  it('refuses to void a draft, and deletes drafts only', async () => {
    const draft = await draftInvoice('cus_sm4');
    const voidDraft = await stripeError(stripe.invoices.voidInvoice(draft.id));
    expect(voidDraft.message).toContain('delete the draft instead');
    const deleted = await stripe.invoices.del(draft.id);
    expect(deleted).toMatchObject({ id: draft.id, object: 'invoice', deleted: true });
    expect((await stripeError(stripe.invoices.retrieve(draft.id))).code).toBe('resource_missing');
  });

  it('marks a zero-amount invoice paid on finalize, and records paid_out_of_band', async () => {
    const empty = await draftInvoice('cus_sm5');
    expect((await stripe.invoices.finalizeInvoice(empty.id)).status).toBe('paid');

    const other = await stripe.invoices.create({ customer: 'cus_sm5' });
    await stripe.invoices.addLines(other.id, { lines: [{ amount: 100 }] });
    await stripe.invoices.finalizeInvoice(other.id);
    const paid = await stripe.invoices.pay(other.id, { paid_out_of_band: true });
    expect(paid.status).toBe('paid');
    expect((paid as unknown as { paid_out_of_band: boolean }).paid_out_of_band).toBe(true);
    expect(paid.attempt_count).toBe(0);
  });

  it('declines a test card with 402 card_error and keeps the invoice open with the attempt counted', async () => {
    const draft = await draftInvoice('cus_sm6');
    await stripe.invoices.addLines(draft.id, { lines: [{ amount: 2500 }] });
    await stripe.invoices.finalizeInvoice(draft.id);
    const declined = await stripeError(stripe.invoices.pay(draft.id, { payment_method: 'pm_card_chargeDeclinedInsufficientFunds' }));
    expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(declined).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'insufficient_funds' });
    const after = await stripe.invoices.retrieve(draft.id);
    expect(after).toMatchObject({ status: 'open', attempt_count: 1, attempted: true });
  });

  it('only sends send_invoice invoices, finalizing a draft first', async () => {
    seedCustomer('cus_sm7');
    const auto = await stripe.invoices.create({ customer: 'cus_sm7' });
    expect((await stripeError(stripe.invoices.sendInvoice(auto.id))).message).toContain("'send_invoice'");
    const manual = await stripe.invoices.create({ customer: 'cus_sm7', collection_method: 'send_invoice', days_until_due: 30 });
    await stripe.invoices.addLines(manual.id, { lines: [{ amount: 300 }] });
    const sent = await stripe.invoices.sendInvoice(manual.id);
    expect(sent).toMatchObject({ status: 'open', collection_method: 'send_invoice' });
  });
});

describe('wire format', () => {
  it('decodes bracket notation into nested objects and arrays, keeping values as strings', () => {
    const decoded = decodeForm(
      'lines[0][description]=A%20b&lines[0][metadata][0]=zero&lines[1][invoice_item]=ii_1&expand[]=lines&expand[]=customer&amount=5&invoice_metadata=',
    );
    expect(decoded).toEqual({
      lines: [{ description: 'A b', metadata: { 0: 'zero' } }, { invoice_item: 'ii_1' }],
      expand: ['lines', 'customer'],
      amount: '5',
      invoice_metadata: '',
    });
  });

  it('records the form-encoded bodies stripe-node sends for line edits', async () => {
    double.reset();
    const draft = await draftInvoice('cus_wire');
    const item = await stripe.invoiceItems.create({ customer: 'cus_wire', amount: 400, currency: 'usd', description: 'Pending' });
    const withLines = await stripe.invoices.addLines(draft.id, {
      lines: [{ description: 'Setup fee', amount: 1000, metadata: { source: 'assembly' } }, { invoice_item: item.id }],
    });
    const addLines = double.requests.find((r) => r.path.endsWith('/add_lines'));
    expect(addLines?.rawBody).toContain('lines[0][description]=Setup%20fee');
    expect(addLines?.rawBody).toContain(`lines[1][invoice_item]=${item.id}`);
    expect(addLines?.params).toEqual({
      lines: [{ description: 'Setup fee', amount: '1000', metadata: { source: 'assembly' } }, { invoice_item: item.id }],
    });

    const setupLine = withLines.lines.data[0]!;
    await stripe.invoices.removeLines(draft.id, { lines: [{ id: setupLine.id, behavior: 'unassign' }] });
    const removeLines = double.requests.find((r) => r.path.endsWith('/remove_lines'));
    expect(removeLines?.rawBody).toContain('lines[0][behavior]=unassign');
    expect(removeLines?.rawBody).toContain(`lines[0][id]=${setupLine.id}`);

    await stripe.invoices.retrieve(draft.id, { expand: ['customer'] });
    const retrieve = double.requests.at(-1);
    expect(retrieve?.query).toEqual({ expand: ['customer'] });
  });

  it('expands ids into stored objects on request', async () => {
    const draft = await draftInvoice('cus_expand');
    const expanded = await stripe.invoices.retrieve(draft.id, { expand: ['customer'] });
    expect(expanded.customer).toMatchObject({ id: 'cus_expand', object: 'customer', email: 'cus_expand@example.com' });
    const list = await stripe.invoices.list({ customer: 'cus_expand', expand: ['data.customer'] });
    expect(list.data[0]?.customer).toMatchObject({ id: 'cus_expand' });
  });
});

describe('draft invoice lines', () => {
  it('adds lines from amount, price_data and an existing invoice item, recomputing totals', async () => {
    const draft = await draftInvoice('cus_add');
    const pending = await stripe.invoiceItems.create({ customer: 'cus_add', amount: 250, currency: 'usd', description: 'Pending usage' });
    expect(pending.invoice).toBeNull();

    const invoice = await stripe.invoices.addLines(draft.id, {
      lines: [
        { amount: 1000, description: 'Flat fee', metadata: { kind: 'flat' }, period: { start: 1_700_000_000, end: 1_700_086_400 } },
        { price_data: { currency: 'usd', product: 'prod_seats', unit_amount: 300 }, quantity: 3 },
        { invoice_item: pending.id },
        { amount: -200, description: 'Credit' },
      ],
    });
    expect(invoice.lines.data.map((l) => l.amount)).toEqual([1000, 900, 250, -200]);
    expect(invoice).toMatchObject({ subtotal: 1950, total: 1950, amount_due: 1950, amount_remaining: 1950 });
    const [flat, seats, assigned] = invoice.lines.data;
    expect(flat).toMatchObject({ description: 'Flat fee', metadata: { kind: 'flat' }, period: { start: 1_700_000_000, end: 1_700_086_400 } });
    expect(seats).toMatchObject({ quantity: 3, pricing: { price_details: { product: 'prod_seats' } } });
    expect(String(seats?.pricing?.unit_amount_decimal)).toBe('300'); // stripe-node turns decimals into Decimal
    expect(assigned?.parent?.invoice_item_details?.invoice_item).toBe(pending.id);
    expect(assigned?.id).toMatch(/^il_/);
    expect((await stripe.invoiceItems.retrieve(pending.id)).invoice).toBe(draft.id);

    // Lines carry every field of the reference fixture (invoice-with-lines.json).
    const fixtureLineKeys = Object.keys(invoiceWithLinesFixture.lines.data[0]!);
    expect(Object.keys(flat!)).toEqual(expect.arrayContaining(fixtureLineKeys));
  });

  it('refuses to assign an invoice item that is already on an invoice', async () => {
    const first = await draftInvoice('cus_twice');
    const second = await stripe.invoices.create({ customer: 'cus_twice' });
    const item = await stripe.invoiceItems.create({ customer: 'cus_twice', amount: 100, currency: 'usd', invoice: first.id });
    const error = await stripeError(stripe.invoices.addLines(second.id, { lines: [{ invoice_item: item.id }] }));
    expect(error).toMatchObject({ statusCode: 400, param: 'lines[0][invoice_item]' });
    expect(error.message).toContain(`already attached to invoice ${first.id}`);
    // The failed request changed nothing.
    expect((await stripe.invoices.retrieve(second.id)).lines.data).toHaveLength(0);
  });

  it('updates lines by id, merging metadata, and re-prices on quantity', async () => {
    const draft = await draftInvoice('cus_update');
    const added = await stripe.invoices.addLines(draft.id, {
      lines: [{ price_data: { currency: 'usd', product: 'prod_u', unit_amount: 200 }, quantity: 2, metadata: { a: '1', b: '2' } }],
    });
    const lineId = added.lines.data[0]!.id;
    const updated = await stripe.invoices.updateLines(draft.id, {
      lines: [{ id: lineId, description: 'Renamed', quantity: 5, metadata: { b: '', c: '3' } }],
    });
    expect(updated.lines.data[0]).toMatchObject({ id: lineId, description: 'Renamed', quantity: 5, amount: 1000, metadata: { a: '1', c: '3' } });
    expect(updated.total).toBe(1000);

    const unknown = await stripeError(stripe.invoices.updateLines(draft.id, { lines: [{ id: 'il_nope', description: 'x' }] }));
    expect(unknown).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'lines[0][id]' });
  });

  it('removes lines: delete removes the invoice item, unassign frees it for another invoice', async () => {
    const draft = await draftInvoice('cus_remove');
    const added = await stripe.invoices.addLines(draft.id, { lines: [{ amount: 100 }, { amount: 200 }, { amount: 300 }] });
    const [toDelete, toUnassign] = added.lines.data;
    const deletedItem = toDelete!.parent!.invoice_item_details!.invoice_item!;
    const freedItem = toUnassign!.parent!.invoice_item_details!.invoice_item!;

    const after = await stripe.invoices.removeLines(draft.id, {
      lines: [{ id: toDelete!.id, behavior: 'delete' }, { id: toUnassign!.id, behavior: 'unassign' }],
    });
    expect(after.lines.data.map((l) => l.amount)).toEqual([300]);
    expect(after.total).toBe(300);
    expect((await stripeError(stripe.invoiceItems.retrieve(deletedItem))).code).toBe('resource_missing');
    expect((await stripe.invoiceItems.retrieve(freedItem)).invoice).toBeNull();

    const next = await stripe.invoices.create({ customer: 'cus_remove' });
    const reassigned = await stripe.invoices.addLines(next.id, { lines: [{ invoice_item: freedItem }] });
    expect(reassigned.total).toBe(200);

    const badBehavior = await raw('POST', `/v1/invoices/${draft.id}/remove_lines`, {
      body: `lines[0][id]=${after.lines.data[0]!.id}&lines[0][behavior]=shred`,
    });
    expect(badBehavior.status).toBe(400);
    expect(badBehavior.json.error).toMatchObject({ param: 'lines[0][behavior]', message: expect.stringContaining('must be one of delete or unassign') });
  });

  it('applies invoice_metadata: set keys, an empty value unsets one, an empty map unsets all', async () => {
    const draft = await draftInvoice('cus_meta');
    const stamped = await stripe.invoices.addLines(draft.id, { lines: [{ amount: 10 }], invoice_metadata: { flow: 'assembly', run: '1' } });
    expect(stamped.metadata).toEqual({ flow: 'assembly', run: '1' });
    const lineId = stamped.lines.data[0]!.id;
    const unsetOne = await stripe.invoices.updateLines(draft.id, { lines: [{ id: lineId, description: 'x' }], invoice_metadata: { run: '' } });
    expect(unsetOne.metadata).toEqual({ flow: 'assembly' });
    const unsetAll = await stripe.invoices.updateLines(draft.id, { lines: [{ id: lineId, description: 'y' }], invoice_metadata: '' });
    expect(unsetAll.metadata).toEqual({});
    expect(double.requests.at(-1)?.rawBody).toMatch(/(^|&)invoice_metadata=(&|$)/);
  });

  it('refuses line changes on a finalized invoice', async () => {
    const draft = await draftInvoice('cus_locked');
    const added = await stripe.invoices.addLines(draft.id, { lines: [{ amount: 100 }] });
    await stripe.invoices.finalizeInvoice(draft.id);
    const lineId = added.lines.data[0]!.id;
    for (const attempt of [
      stripe.invoices.addLines(draft.id, { lines: [{ amount: 1 }] }),
      stripe.invoices.updateLines(draft.id, { lines: [{ id: lineId, description: 'late' }] }),
      stripe.invoices.removeLines(draft.id, { lines: [{ id: lineId, behavior: 'delete' }] }),
    ]) {
      const error = await stripeError(attempt);
      expect(error).toMatchObject({ statusCode: 400, code: 'invoice_not_editable' });
      expect(error.message).toMatch(/draft invoice; invoice in_\w+ is open/);
    }
  });

  it(`caps an invoice at ${MAX_INVOICE_ITEMS} invoice items and embeds only the first 10 lines`, async () => {
    const draft = await draftInvoice('cus_cap');
    const lines = Array.from({ length: MAX_INVOICE_ITEMS }, (_, i) => ({ amount: 1, description: `unit ${i}` }));
    const full = await stripe.invoices.addLines(draft.id, { lines });
    expect(full.total).toBe(MAX_INVOICE_ITEMS);
    expect(full.lines.data).toHaveLength(10);
    expect(full.lines.has_more).toBe(true);
    expect(await stripe.invoices.listLineItems(draft.id, { limit: 100 }).autoPagingToArray({ limit: 1000 })).toHaveLength(MAX_INVOICE_ITEMS);

    const over = await stripeError(stripe.invoices.addLines(draft.id, { lines: [{ amount: 1 }] }));
    expect(over).toMatchObject({ statusCode: 400, param: 'lines' });
    expect(over.message).toContain(`at most ${MAX_INVOICE_ITEMS} invoice items`);
    expect((await stripe.invoices.retrieve(draft.id)).total).toBe(MAX_INVOICE_ITEMS);
  });

  it('accepts the reference invoice-with-lines.json as a seed, backing its lines with invoice items', async () => {
    const seeded = double.seed('invoice', { ...invoiceWithLinesFixture, id: 'in_from_fixture' });
    expect(seeded.total).toBe(998);
    const itemIds = invoiceWithLinesFixture.lines.data.map((line) => String(line.invoice_item));
    for (const id of itemIds) expect((await stripe.invoiceItems.retrieve(id)).invoice).toBe('in_from_fixture');
    const updated = await stripe.invoices.updateLines('in_from_fixture', { lines: [{ id: String(invoiceWithLinesFixture.lines.data[1]!.id), metadata: { tag: 'coffee' } }] });
    expect(updated.lines.data[1]).toMatchObject({ description: 'Canned Coffee', metadata: { tag: 'coffee' } });
    expect(updated.total).toBe(998);
  });

  it('completes seeded lines: invoice items are created for them and totals derived', async () => {
    double.seed('invoice', { id: 'in_seeded_lines', customer: 'cus_x', lines: [{ amount: 500, invoice_item: 'ii_seeded_a' }, { amount: 250 }] });
    const invoice = await stripe.invoices.retrieve('in_seeded_lines');
    expect(invoice.total).toBe(750);
    expect((await stripe.invoiceItems.retrieve('ii_seeded_a')).invoice).toBe('in_seeded_lines');
    const removed = await stripe.invoices.removeLines('in_seeded_lines', { lines: [{ id: invoice.lines.data[0]!.id, behavior: 'unassign' }] });
    expect(removed.total).toBe(250);
  });
});

describe('idempotency', () => {
  it('replays the stored response for a repeated key: one side effect, Idempotent-Replayed header', async () => {
    double.reset();
    seedCustomer('cus_idem');
    const first = await stripe.invoices.create({ customer: 'cus_idem' }, { idempotencyKey: 'create-invoice-1' });
    const second = await stripe.invoices.create({ customer: 'cus_idem' }, { idempotencyKey: 'create-invoice-1' });
    expect(second.id).toBe(first.id);
    expect(double.sideEffects({ method: 'POST', path: '/v1/invoices' })).toHaveLength(1);
    expect(double.requests.filter((r) => r.path === '/v1/invoices').map((r) => r.replayed)).toEqual([false, true]);
    expect((await stripe.invoices.list({ customer: 'cus_idem' })).data).toHaveLength(1);

    const wire = await raw('POST', '/v1/invoices', { body: 'customer=cus_idem', headers: { 'Idempotency-Key': 'create-invoice-1' } });
    expect(wire.headers.get('idempotent-replayed')).toBe('true');
    expect(wire.json.id).toBe(first.id);
  });

  it('rejects a key reused with different parameters with idempotency_error', async () => {
    seedCustomer('cus_idem2');
    await stripe.invoices.create({ customer: 'cus_idem2' }, { idempotencyKey: 'create-invoice-2' });
    const error = await stripeError(stripe.invoices.create({ customer: 'cus_idem2', description: 'different' }, { idempotencyKey: 'create-invoice-2' }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain('Keys for idempotent requests can only be used with the same parameters they were first used with');
  });

  it('scopes keys per Stripe-Account', async () => {
    double.reset();
    for (const stripeAccount of ['acct_scope_a', 'acct_scope_b']) {
      await stripe.payouts.create({ amount: 100, currency: 'usd' }, { idempotencyKey: 'payout-1', stripeAccount });
    }
    expect(double.sideEffects({ path: '/v1/payouts' })).toHaveLength(2);
    expect(double.requests.every((r) => !r.replayed)).toBe(true);
  });
});

describe('Connect', () => {
  it('records Stripe-Account and keeps objects created under an account visible to that account only', async () => {
    const payout = await stripe.payouts.create({ amount: 5000, currency: 'usd' }, { stripeAccount: 'acct_connected' });
    expect(double.requests.at(-1)).toMatchObject({ path: '/v1/payouts', stripeAccount: 'acct_connected' });
    expect((await stripe.payouts.retrieve(payout.id, {}, { stripeAccount: 'acct_connected' })).status).toBe('pending');
    expect((await stripeError(stripe.payouts.retrieve(payout.id))).code).toBe('resource_missing');
    expect(double.get('payout', payout.id)).toMatchObject({ id: payout.id, amount: 5000 });
  });

  it('reverses transfers up to what remains and lists the reversals', async () => {
    double.seed('account', { id: 'acct_dest' });
    const transfer = await stripe.transfers.create({ amount: 1000, currency: 'usd', destination: 'acct_dest' });
    expect(transfer).toMatchObject({ amount: 1000, amount_reversed: 0, reversed: false });

    const partial = await stripe.transfers.createReversal(transfer.id, { amount: 400, metadata: { refund: 're_1' } });
    expect(partial).toMatchObject({ object: 'transfer_reversal', amount: 400, transfer: transfer.id, metadata: { refund: 're_1' } });
    expect(partial.id).toMatch(/^trr_/);

    const tooMuch = await stripeError(stripe.transfers.createReversal(transfer.id, { amount: 700 }));
    expect(tooMuch).toMatchObject({ statusCode: 400, code: 'parameter_invalid_integer', param: 'amount' });
    expect(tooMuch.message).toContain('600');

    await stripe.transfers.createReversal(transfer.id, { amount: 600, refund_application_fee: true });
    const reversed = await stripe.transfers.retrieve(transfer.id);
    expect(reversed).toMatchObject({ amount_reversed: 1000, reversed: true });
    expect(reversed.reversals.data.map((r) => r.amount)).toEqual([600, 400]);
    const listed = await stripe.transfers.listReversals(transfer.id);
    expect(listed.data.map((r) => r.amount)).toEqual([600, 400]);
    expect((await stripeError(stripe.transfers.createReversal(transfer.id))).message).toContain('already been fully reversed');
  });

  it('mints account links that expire in 300 seconds and checks the account exists', async () => {
    double.seed('account', { id: 'acct_onboard' });
    const link = await stripe.accountLinks.create({ account: 'acct_onboard', type: 'account_onboarding', refresh_url: 'https://x/refresh', return_url: 'https://x/return' });
    expect(link.object).toBe('account_link');
    expect(link.url.startsWith(`${double.url}/account_links/`)).toBe(true);
    expect(link.expires_at - link.created).toBe(300);

    const missing = await stripeError(stripe.accountLinks.create({ account: 'acct_unknown', type: 'account_onboarding' }));
    expect(missing).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'account' });
  });
});

describe('subscriptions', () => {
  it('cancels once (DELETE), then refuses to cancel or change a canceled subscription', async () => {
    double.seed('subscription', { id: 'sub_cancel', customer: 'cus_sub', status: 'active' });
    const canceled = await stripe.subscriptions.cancel('sub_cancel', { cancellation_details: { comment: 'too pricey' } });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_details: { comment: 'too pricey', reason: 'cancellation_requested' } });
    expect(canceled.canceled_at).toEqual(expect.any(Number));
    expect(double.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/v1/subscriptions/sub_cancel', query: { cancellation_details: { comment: 'too pricey' } } });

    expect(await stripeError(stripe.subscriptions.cancel('sub_cancel'))).toMatchObject({ statusCode: 400 });
    const update = await stripeError(stripe.subscriptions.update('sub_cancel', { description: 'x' }));
    expect(update.message).toBe('A canceled subscription can only update its cancellation_details and metadata.');
    expect((await stripe.subscriptions.update('sub_cancel', { metadata: { note: 'ok' } })).metadata).toEqual({ note: 'ok' });
  });
});

describe('lists', () => {
  it('pages newest first with limit, starting_after and ending_before, filtering by equality', async () => {
    seedCustomer('cus_list');
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await stripe.invoices.create({ customer: 'cus_list' })).id);
    const newestFirst = [...created].reverse();

    const page1 = await stripe.invoices.list({ customer: 'cus_list', limit: 2 });
    expect(page1).toMatchObject({ object: 'list', has_more: true, url: '/v1/invoices' });
    expect(page1.data.map((i) => i.id)).toEqual(newestFirst.slice(0, 2));
    const page2 = await stripe.invoices.list({ customer: 'cus_list', limit: 2, starting_after: page1.data[1]!.id });
    expect(page2.data.map((i) => i.id)).toEqual(newestFirst.slice(2, 4));
    const back = await stripe.invoices.list({ customer: 'cus_list', limit: 2, ending_before: newestFirst[4]! });
    expect(back.data.map((i) => i.id)).toEqual(newestFirst.slice(2, 4));
    expect(back.has_more).toBe(true);
    expect(await stripe.invoices.list({ customer: 'cus_list' }).autoPagingToArray({ limit: 100 })).toHaveLength(5);
    expect((await stripe.invoices.list({ customer: 'cus_list', status: 'open' })).data).toHaveLength(0);
  });

  it('lists seeded events by type (with wildcards) and types[]', async () => {
    double.reset();
    const event = (id: string, type: string, created: number) =>
      double.seed('event', { id, type, created, data: { object: { id: 'in_evt', object: 'invoice' } } });
    event('evt_1', 'invoice.created', 1_700_000_001);
    event('evt_2', 'invoice.finalized', 1_700_000_002);
    event('evt_3', 'customer.subscription.deleted', 1_700_000_003);
    event('evt_4', 'invoice.paid', 1_700_000_004);

    expect((await stripe.events.list()).data.map((e) => e.id)).toEqual(['evt_4', 'evt_3', 'evt_2', 'evt_1']);
    expect((await stripe.events.list({ type: 'invoice.*' })).data.map((e) => e.id)).toEqual(['evt_4', 'evt_2', 'evt_1']);
    expect((await stripe.events.list({ types: ['invoice.created', 'customer.subscription.deleted'] })).data.map((e) => e.id)).toEqual(['evt_3', 'evt_1']);
    expect((await stripe.events.list({ created: { gte: 1_700_000_003 } })).data.map((e) => e.id)).toEqual(['evt_4', 'evt_3']);
    expect((await stripe.events.retrieve('evt_2')).type).toBe('invoice.finalized');
  });

  it('merges metadata on update: an empty value unsets a key', async () => {
    const customer = await stripe.customers.create({ email: 'meta@example.com', metadata: { a: '1', b: '2' } });
    const updated = await stripe.customers.update(customer.id, { metadata: { a: '', c: '3' } });
    expect(updated.metadata).toEqual({ b: '2', c: '3' });
    expect(updated.email).toBe('meta@example.com');
    const deleted = await stripe.customers.del(customer.id);
    expect(deleted).toEqual({ id: customer.id, object: 'customer', deleted: true });
  });
});

describe('faults', () => {
  it('answers 429 rate_limit_error, with Stripe-Should-Retry only when asked', async () => {
    double.inject({ method: 'GET', path: '/v1/customers', fault: { type: 'status', status: 429 } });
    const plain = await raw('GET', '/v1/customers');
    expect(plain.status).toBe(429);
    expect(plain.headers.get('stripe-should-retry')).toBeNull();
    expect(plain.json.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit' });
    expect(double.requests.at(-1)).toMatchObject({ status: 429, fault: 'status:429' });

    double.inject({ path: '/v1/customers', fault: { type: 'status', status: 429, shouldRetry: true } });
    expect((await raw('GET', '/v1/customers')).headers.get('stripe-should-retry')).toBe('true');
    double.inject({ path: '/v1/customers', fault: { type: 'status', status: 429, shouldRetry: false } });
    expect((await raw('GET', '/v1/customers')).headers.get('stripe-should-retry')).toBe('false');
    expect((await raw('GET', '/v1/customers')).status).toBe(200); // rules spent
  });

  it('lets stripe-node retry a 429 only when Stripe-Should-Retry is true', async () => {
    const retrying = double.client({ maxNetworkRetries: 2 });
    double.reset();
    double.inject({ path: '/v1/customers', fault: { type: 'status', status: 429 } });
    expect(await stripeError(retrying.customers.list())).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(double.requests).toHaveLength(1);

    double.reset();
    double.inject({ path: '/v1/customers', fault: { type: 'status', status: 429, shouldRetry: true } });
    expect((await retrying.customers.list()).object).toBe('list');
    expect(double.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('answers 500 api_error and stores nothing, so a retry with the same key is processed', async () => {
    double.reset();
    seedCustomer('cus_500');
    double.inject({ method: 'POST', path: '/v1/invoices', fault: { type: 'status', status: 500 } });
    const error = await stripeError(stripe.invoices.create({ customer: 'cus_500' }, { idempotencyKey: 'inv-500' }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(error).toMatchObject({ statusCode: 500, type: 'StripeAPIError', rawType: 'api_error' });
    const retried = await stripe.invoices.create({ customer: 'cus_500' }, { idempotencyKey: 'inv-500' });
    expect(retried.id).toMatch(/^in_/);
    expect(double.requests.map((r) => [r.status, r.replayed])).toEqual([[500, false], [200, false]]);
    expect(double.sideEffects()).toHaveLength(1);
  });

  it('delays, then handles the request normally', async () => {
    double.inject({ path: '/v1/customers', fault: { type: 'delay', ms: 150 } });
    const started = Date.now();
    const list = await stripe.customers.list();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(list.object).toBe('list');
    expect(double.requests.at(-1)).toMatchObject({ fault: 'delay:150', status: 200 });
  });

  it('drops the connection: stripe-node surfaces StripeConnectionError once its one reconnect is also dropped', async () => {
    double.reset();
    double.inject({ path: '/v1/customers', times: Infinity, fault: { type: 'drop' } });
    const error = await stripeError(stripe.customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    // stripe-node retries a closed connection once even with maxNetworkRetries 0.
    expect(double.requests.map((r) => [r.fault, r.status])).toEqual([['drop', 0], ['drop', 0]]);
    double.clearFaults();
    expect((await stripe.customers.list()).object).toBe('list');
  });

  it("survives a single drop through stripe-node's reconnect, with one side effect under the same key", async () => {
    double.reset();
    seedCustomer('cus_drop');
    double.inject({ method: 'POST', path: '/v1/invoices', fault: { type: 'drop' } });
    const invoice = await stripe.invoices.create({ customer: 'cus_drop' });
    const attempts = double.requests.filter((r) => r.path === '/v1/invoices');
    expect(attempts.map((r) => r.fault ?? 'ok')).toEqual(['drop', 'ok']);
    expect(attempts[0]?.idempotencyKey).toBe(attempts[1]?.idempotencyKey);
    expect(double.sideEffects({ path: '/v1/invoices' })).toHaveLength(1);
    expect(invoice.customer).toBe('cus_drop');
  });

  it("lets stripe-node's own retry (maxNetworkRetries 2) succeed after one 500, with the same idempotency key", async () => {
    double.reset();
    double.seed('account', { id: 'acct_retry' });
    double.seed('transfer', { id: 'tr_retry', amount: 1000, currency: 'usd', destination: 'acct_retry' });
    double.inject({ method: 'POST', path: /^\/v1\/transfers\/[^/]+\/reversals$/, fault: { type: 'status', status: 500 } });
    const retrying = double.client({ maxNetworkRetries: 2 });
    const reversal = await retrying.transfers.createReversal('tr_retry', { amount: 300 }, { idempotencyKey: 'reverse:re_1' });
    expect(reversal.amount).toBe(300);
    expect(double.requests.map((r) => [r.status, r.idempotencyKey, r.fault ?? null])).toEqual([
      [500, 'reverse:re_1', 'status:500'],
      [200, 'reverse:re_1', null],
    ]);
    expect(double.sideEffects({ path: '/v1/transfers/tr_retry/reversals' })).toHaveLength(1);
    expect(double.get('transfer', 'tr_retry')).toMatchObject({ amount_reversed: 300 });
  });
});

describe('lenient mode', () => {
  it('synthesizes unknown ids of known resources from the fixture shape, and keeps them', async () => {
    const lenient = await StripeApiDouble.start({ lenient: true });
    try {
      const client = lenient.client();
      const invoice = await client.invoices.retrieve('in_made_up');
      expect(invoice).toMatchObject({ id: 'in_made_up', object: 'invoice', status: 'draft', total: 0 });
      expect(invoice.lines.data).toEqual([]);
      const added = await client.invoices.addLines('in_made_up', { lines: [{ amount: 100 }] });
      expect(added.total).toBe(100);
      expect((await client.customers.retrieve('cus_made_up')).id).toBe('cus_made_up');
      expect((await stripeError(client.invoices.retrieve('bogus'))).statusCode).toBe(404);
    } finally {
      await lenient.stop();
    }
    expect((await stripeError(stripe.invoices.retrieve('in_made_up'))).code).toBe('resource_missing');
  });
});

describe('admin endpoints', () => {
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${double.url}/__double/${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as unknown };
  };

  it('seeds, injects faults, lists requests and resets over HTTP', async () => {
    expect((await admin('POST', 'reset')).status).toBe(200);
    const seeded = await admin('POST', 'seed', { resource: 'customer', object: { id: 'cus_admin', email: 'a@example.com' } });
    expect(seeded).toMatchObject({ status: 200, json: { id: 'cus_admin', object: 'customer' } });
    expect((await stripe.customers.retrieve('cus_admin')) as Stripe.Customer).toMatchObject({ email: 'a@example.com' });

    expect((await admin('POST', 'faults', { path: { regex: '^/v1/customers/' }, times: 'Infinity', fault: { type: 'status', status: 503 } })).status).toBe(200);
    expect((await stripeError(stripe.customers.retrieve('cus_admin'))).statusCode).toBe(503);
    expect((await stripeError(stripe.customers.retrieve('cus_admin'))).statusCode).toBe(503);
    expect((await admin('DELETE', 'faults')).status).toBe(200);
    expect((await stripe.customers.retrieve('cus_admin')).id).toBe('cus_admin');

    const requests = (await admin('GET', 'requests')).json as { path: string; status: number }[];
    expect(requests.map((r) => r.status)).toEqual([200, 503, 503, 200]);
    expect(requests.every((r) => r.path === '/v1/customers/cus_admin')).toBe(true);
    expect((await admin('GET', 'objects/customer/cus_admin')).json).toMatchObject({ email: 'a@example.com' });

    expect((await admin('POST', 'faults', { fault: { type: 'explode' } })).status).toBe(400);
    expect((await admin('POST', 'seed', { resource: 'spaceship', object: { id: 'x' } })).status).toBe(400);
    await admin('POST', 'reset');
    expect(double.requests).toHaveLength(0);
    expect((await stripeError(stripe.customers.retrieve('cus_admin'))).code).toBe('resource_missing');
  });
});
