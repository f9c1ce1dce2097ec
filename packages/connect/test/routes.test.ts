// Each Connect route against events built from Stripe's own example objects: the flow id it
// picks, the projection it sends (and what it leaves out), and which events it ignores.
import { describe, expect, it } from 'vitest';
import { RouteRegistry, flowWorkflowId, type AnyRoute, type StripeEventOf, type StripeEventType } from '@stripe-flows/core';
import { buildEvent } from '@stripe-flows/testing';
import { connect, connectRoutes, createConnectDomain } from '../src/index.js';

type Json = Record<string, unknown>;
const routeFor = (type: string, routes: readonly AnyRoute[] = connect.routes) => {
  const route = routes.find((r) => r.eventType === type);
  if (!route) throw new Error(`no connect route for ${type}`);
  return route;
};
/** What the dispatcher does with one event on one route: id, projection, and whether it applies. */
function dispatch(type: string, options: { object?: Json; account?: string }, routes?: readonly AnyRoute[]) {
  const route = routeFor(type, routes);
  const event = buildEvent(type, options) as unknown as StripeEventOf<StripeEventType>;
  const objectId = route.objectId(event);
  const projection = route.projection.safeParse((event.data as { object: unknown }).object);
  return {
    workflowId: objectId ? flowWorkflowId('connect', route.flow, objectId) : undefined,
    projection: projection.success ? projection.data : projection.error.issues,
    applies: route.when?.(event) ?? true,
    searchIds: route.searchIds?.(event) ?? {},
    mode: route.mode,
  };
}

describe('connect routes', () => {
  it('registers as a domain and lists every route with its flow and mode', () => {
    const table = new RouteRegistry([connect]).table();
    expect(table.map((r) => `${r.eventType} → ${r.domain}.${r.flow} (${r.mode})`)).toEqual([
      'account.application.deauthorized → connect.onboarding (signal)',
      'account.updated → connect.onboarding (start)',
      'capability.updated → connect.onboarding (start)',
      'charge.dispute.closed → connect.reversal (start)',
      'charge.refund.updated → connect.reversal (signal)',
      'charge.refunded → connect.reversal (start)',
      'payout.failed → connect.payout (start)',
      'payout.paid → connect.payout (signal)',
    ]);
    expect(new Set(connect.routes.map((r) => r.workflowType))).toEqual(new Set(['onboardConnectedAccount', 'reverseTransfer', 'followPayoutFailure']));
  });

  it('account.updated: the account itself, its requirements, no business profile or email', () => {
    const out = dispatch('account.updated', { account: 'acct_1PgafTB7WZ01zgkW' });
    expect(out.workflowId).toBe('connect.onboarding:acct_1PgafTB7WZ01zgkW');
    expect(out.projection).toMatchObject({ id: 'acct_1PgafTB7WZ01zgkW', chargesEnabled: false, requirements: { disabledReason: 'requirements.past_due', currentlyDue: expect.arrayContaining(['external_account']) } });
    // Requirement names and capability statuses only: the fixture's email, business profile and settings stay out.
    expect(Object.keys(out.projection as Json).sort()).toEqual(['capabilities', 'chargesEnabled', 'detailsSubmitted', 'id', 'payoutsEnabled', 'requirements']);
    expect(out.projection).toMatchObject({ capabilities: { card_payments: 'active', transfers: 'active' } });
    expect(JSON.stringify(out.projection)).not.toContain('site@stripe.com');
    expect(out.searchIds).toEqual({ accountId: 'acct_1PgafTB7WZ01zgkW' });
  });

  it('capability.updated: the flow of the account the capability belongs to', () => {
    const out = dispatch('capability.updated', { account: 'acct_cap1', object: { account: 'acct_cap1' } });
    expect(out.workflowId).toBe('connect.onboarding:acct_cap1');
    expect(out.projection).toMatchObject({ id: 'card_payments', accountId: 'acct_cap1', status: 'inactive' });
    // Without event.account (a platform-endpoint delivery), the capability's own account field.
    expect(dispatch('capability.updated', {}).workflowId).toBe('connect.onboarding:acct_1PgafTB7WZ01zgkW');
  });

  it('account.application.deauthorized: the account from the envelope (the object is the application)', () => {
    expect(dispatch('account.application.deauthorized', { account: 'acct_gone1', object: { id: 'ca_platform1', object: 'application' } })).toMatchObject({
      workflowId: 'connect.onboarding:acct_gone1',
      mode: 'signal',
    });
  });

  it('charge.refunded: destination and transfer-group charges start a reversal; others are ignored with a reason', () => {
    const destination = dispatch('charge.refunded', { object: { id: 'ch_dest1', amount_refunded: 100, transfer: 'tr_dest1' } });
    expect(destination).toMatchObject({ workflowId: 'connect.reversal:ch_dest1', applies: true, searchIds: { accountId: 'obj_123' } });
    expect(destination.projection).toMatchObject({ id: 'ch_dest1', transferId: 'tr_dest1', destination: 'obj_123', amountRefunded: 100 });
    expect(JSON.stringify(destination.projection)).not.toMatch(/billing_details|receipt_url|payment_method_details/);
    expect(dispatch('charge.refunded', { object: { transfer_data: null, transfer_group: 'group_7' } }).applies).toBe(true);
    expect(dispatch('charge.refunded', { object: { transfer_data: null } }).applies).toBe('charge funded no transfer (no transfer_data, transfer or transfer_group)');
  });

  it('charge.refunded of a direct charge applies only when policy refunds application fees', () => {
    const direct = { account: 'acct_direct1', object: { transfer_data: null, application_fee: 'fee_1' } };
    expect(dispatch('charge.refunded', direct).applies).toMatch(/application fee refunds are off/);
    expect(dispatch('charge.refunded', direct, createConnectDomain({ reversal: { refundApplicationFeeOnDirectCharges: true } }).routes).applies).toBe(true);
  });

  it('charge.refund.updated and charge.dispute.closed reach the flow of their charge; only lost disputes apply', () => {
    expect(dispatch('charge.refund.updated', {})).toMatchObject({ workflowId: 'connect.reversal:ch_1PgafuB7WZ01zgkWXYmPNZs8', mode: 'signal', projection: { id: 're_1Pgc72B7WZ01zgkWqPvrRrPE', amount: 100 } });
    const lost = dispatch('charge.dispute.closed', { object: { status: 'lost' } });
    expect(lost).toMatchObject({ workflowId: 'connect.reversal:ch_1PgafuB7WZ01zgkWXYmPNZs8', applies: true, projection: { id: 'dp_1Pgc71B7WZ01zgkWMevJiAUx', amount: 1000, status: 'lost' } });
    expect(dispatch('charge.dispute.closed', { object: { status: 'won' } }).applies).toBe('dispute won, not lost');
    expect(dispatch('charge.dispute.closed', { object: { status: 'lost' } }, connectRoutes({ reversal: { onDisputeLost: 'none' } })).applies).toMatch(/onDisputeLost: none/);
  });

  it('subscribes the Connect endpoint to connected accounts\' events and the platform endpoint to platform charges', () => {
    const registry = new RouteRegistry([connect]);
    expect(registry.eventTypesFor('connect')).toEqual(['account.application.deauthorized', 'account.updated', 'capability.updated', 'payout.failed', 'payout.paid']);
    expect(registry.eventTypesFor('platform')).toEqual(['charge.dispute.closed', 'charge.refund.updated', 'charge.refunded']);
    // Direct charges live on the connected account: with fee refunds on, their events come over Connect too.
    const withDirect = new RouteRegistry([createConnectDomain({ reversal: { refundApplicationFeeOnDirectCharges: true } })]);
    expect(withDirect.eventTypesFor('connect')).toEqual(expect.arrayContaining(['charge.dispute.closed', 'charge.refund.updated', 'charge.refunded']));
    expect(withDirect.eventTypesFor('platform')).toEqual(['charge.dispute.closed', 'charge.refund.updated', 'charge.refunded']);
  });

  it("payout.failed starts a flow for connected accounts' payouts only", () => {
    const out = dispatch('payout.failed', { account: 'acct_po1', object: { status: 'failed', failure_code: 'account_closed' } });
    expect(out).toMatchObject({ workflowId: 'connect.payout:po_1Pgc79B7WZ01zgkWu1KToYf4', applies: true, projection: { failureCode: 'account_closed', destination: 'ba_1Pgc79B7WZ01zgkWoU5vBiXt' } });
    expect(dispatch('payout.failed', { object: { status: 'failed' } }).applies).toMatch(/platform payout/);
    expect(dispatch('payout.paid', { account: 'acct_po1', object: { status: 'paid' } })).toMatchObject({ mode: 'signal', workflowId: 'connect.payout:po_1Pgc79B7WZ01zgkWu1KToYf4' });
  });

  it('reversals are findable by customer and connected account, from a dispute too when Stripe expanded its charge', () => {
    const refunded = dispatch('charge.refunded', { object: { id: 'ch_find1', customer: 'cus_find1', transfer_data: { destination: 'acct_find1' } } });
    expect(refunded.searchIds).toEqual({ customerId: 'cus_find1', accountId: 'acct_find1' });
    const charge = { id: 'ch_find2', object: 'charge', customer: { id: 'cus_find2', object: 'customer' }, transfer_data: { destination: 'acct_find2' } };
    expect(dispatch('charge.dispute.closed', { object: { status: 'lost', charge } })).toMatchObject({ workflowId: 'connect.reversal:ch_find2', searchIds: { customerId: 'cus_find2', accountId: 'acct_find2' } });
    // As Stripe usually sends it (the charge's id only), a platform dispute names no account.
    expect(dispatch('charge.dispute.closed', { object: { status: 'lost' } }).searchIds).toEqual({ customerId: null, accountId: null });
  });

  it('policy overrides become the start input of the flows they start', () => {
    const routes = connectRoutes({ onboarding: { maxReminders: 3 }, payoutFailure: { giveUpAfterDays: 60 } });
    const account = buildEvent('account.updated') as unknown as StripeEventOf<StripeEventType>;
    expect(routeFor('account.updated', routes).input?.(account)).toEqual({ policy: { maxReminders: 3 } });
    expect(routeFor('payout.failed', routes).input?.(buildEvent('payout.failed') as unknown as StripeEventOf<StripeEventType>)).toEqual({ policy: { giveUpAfterDays: 60 } });
    expect(routeFor('account.updated').input?.(account)).toEqual({});
  });
});
