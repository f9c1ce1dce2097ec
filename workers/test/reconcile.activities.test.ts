// The reconcile run's replay activity against the Stripe API double, with a recording dispatcher
// (no Temporal): where a run starts (lookback, cursor, Stripe's 30 days), which event logs it
// lists (platform types on the platform, Connect types per connected account), the cursor it
// hands on, and how failures reach Temporal (retried, or not when Stripe refuses the key). Also
// the RECONCILE_* settings the worker reads.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/client';
import {
  createReconcileActivities,
  RECONCILE_SAFETY_MARGIN_MS,
  RouteRegistry,
  type DispatchOutcome,
  type ReconcileActivityDeps,
  type StripeEventEnvelope,
} from '@stripe-flows/core';
import { buildEvent, failedInvoice, StripeApiDouble } from '@stripe-flows/testing';
import { builtInDomains, loadWorkerConfig, reconcileSettings } from '../src/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const registry = new RouteRegistry(builtInDomains);
const eventTypes = { platform: registry.eventTypesFor('platform'), connect: registry.eventTypesFor('connect') };
const now = Date.now();
let double: StripeApiDouble;
let dispatched: string[];
let failWith: Error | undefined;

const dispatcher: ReconcileActivityDeps['dispatcher'] = {
  routesFor: (type) => registry.routesFor(type),
  async dispatch(event: StripeEventEnvelope): Promise<DispatchOutcome[]> {
    if (failWith) throw failWith;
    dispatched.push(event.id);
    return [{ route: 'test', workflowId: `test:${event.id}`, result: 'delivered' }];
  },
};

function activities(settings: Partial<ReconcileActivityDeps['settings']> = {}, stripe = double.client()) {
  return createReconcileActivities({
    // Only saveReconcileCursor talks to Temporal; the e2e test covers it.
    client: undefined as unknown as ReconcileActivityDeps['client'],
    stripe,
    dispatcher,
    eventTypes,
    settings: { lookbackMs: 3 * DAY, connectAccounts: 'all', ...settings },
    now: () => now,
  });
}

function seed(id: string, type: string, createdMs: number, account?: string) {
  const event = buildEvent(type, { created: Math.floor(createdMs / 1000), ...(account ? { account } : {}), ...(type.startsWith('invoice.') ? { object: failedInvoice() } : {}) });
  double.seed('event', { ...event, id }, account ? { stripeAccount: account } : {});
}

beforeAll(async () => {
  double = await StripeApiDouble.start();
});
afterAll(async () => {
  await double?.stop();
});
beforeEach(() => {
  double.reset();
  dispatched = [];
  failWith = undefined;
  double.seed('account', { id: 'acct_1One' });
  double.seed('account', { id: 'acct_1Two' });
  seed('evt_ancient', 'invoice.payment_failed', now - 10 * DAY);
  seed('evt_platform', 'invoice.payment_failed', now - 2 * DAY);
  seed('evt_recent', 'invoice.paid', now - HOUR);
  seed('evt_one', 'account.updated', now - HOUR, 'acct_1One');
  seed('evt_two', 'payout.failed', now - HOUR, 'acct_1Two');
  // A platform-endpoint type in an account's log: that endpoint would not have had it.
  seed('evt_two_invoice', 'invoice.paid', now - HOUR, 'acct_1Two');
});

describe('replayEventsSinceCursor', () => {
  it('starts the first run from the lookback and lists the platform and every connected account', async () => {
    const run = await activities().replayEventsSinceCursor({});
    expect(run).toMatchObject({ since: new Date(now - 3 * DAY).toISOString().replace('.000Z', 'Z'), listed: 4, delivered: 4, accounts: 2 });
    expect(dispatched.sort()).toEqual(['evt_one', 'evt_platform', 'evt_recent', 'evt_two']);
    expect(Date.parse(run.cursor)).toBe(now - RECONCILE_SAFETY_MARGIN_MS);
    const lists = double.requests.filter((r) => r.path === '/v1/events');
    expect(lists.map((r) => r.stripeAccount ?? 'platform').sort()).toEqual(['acct_1One', 'acct_1Two', 'platform']);
    const accountList = lists.find((r) => r.stripeAccount === 'acct_1One');
    expect(Object.values(accountList?.query.types as object).sort()).toEqual([...eventTypes.connect].sort());
  });

  it('continues from the cursor, never before Stripe\'s 30 days, and never moves it backwards', async () => {
    const fromCursor = await activities().replayEventsSinceCursor({ cursor: new Date(now - 2 * HOUR).toISOString() });
    expect(dispatched.sort()).toEqual(['evt_one', 'evt_recent', 'evt_two']);
    expect(fromCursor.warning).toBeUndefined();

    const old = await activities().replayEventsSinceCursor({ cursor: new Date(now - 45 * DAY).toISOString() });
    expect(Date.parse(old.since)).toBe(now - 30 * DAY + 60_000);
    expect(old.warning).toMatch(/older than Stripe's 30-day event retention/);
    expect(old.summary).toContain(old.warning);

    // A cursor inside the margin (runs more often than the margin): the next one is not earlier.
    const close = new Date(now - 60_000).toISOString();
    expect((await activities().replayEventsSinceCursor({ cursor: close })).cursor).toBe(close.replace('.000Z', 'Z'));
  });

  it('lists only the configured accounts, or none', async () => {
    expect(await activities({ connectAccounts: ['acct_1Two'] }).replayEventsSinceCursor({})).toMatchObject({ accounts: 1, listed: 3 });
    expect(double.requests.some((r) => r.path === '/v1/accounts')).toBe(false);
    dispatched = [];
    expect(await activities({ connectAccounts: 'none' }).replayEventsSinceCursor({})).toMatchObject({ accounts: 0, listed: 2 });
    expect(dispatched.sort()).toEqual(['evt_platform', 'evt_recent']);
  });

  it('fails the attempt (retried) when Temporal refuses an event, and for good when Stripe refuses the key', async () => {
    failWith = new Error('deadline exceeded');
    const refused = await activities().replayEventsSinceCursor({}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBeInstanceOf(ApplicationFailure);
    expect((refused as Error).message).toMatch(/^Temporal did not accept event evt_platform/);

    failWith = undefined;
    const badKey = await activities({}, double.client({ apiKey: 'not_a_key' })).replayEventsSinceCursor({}).catch((e: unknown) => e);
    expect(badKey).toBeInstanceOf(ApplicationFailure);
    expect(badKey).toMatchObject({ nonRetryable: true, message: expect.stringMatching(/^Stripe rejected list connected accounts \(HTTP 401/) });
  });
});

describe('RECONCILE_* settings', () => {
  it('defaults to every 15m, a 3-day first lookback, and every connected account when Connect routes are on', () => {
    const config = loadWorkerConfig({});
    expect(reconcileSettings(config, builtInDomains)).toEqual({ intervalMs: 15 * 60_000, lookbackMs: 3 * DAY, connectAccounts: 'all' });
    const billingOnly = builtInDomains.filter((d) => d.name === 'billing');
    expect(reconcileSettings(config, billingOnly).connectAccounts).toBe('none');
    const chosen = loadWorkerConfig({ RECONCILE_INTERVAL: 'off', RECONCILE_LOOKBACK: '30d', RECONCILE_CONNECT_ACCOUNTS: 'acct_1A, acct_2B' });
    expect(reconcileSettings(chosen, builtInDomains)).toEqual({ intervalMs: null, lookbackMs: 30 * DAY, connectAccounts: ['acct_1A', 'acct_2B'] });
  });

  it('refuses values that cannot work, naming each variable', () => {
    expect(() => loadWorkerConfig({ RECONCILE_INTERVAL: '30s', RECONCILE_LOOKBACK: '31d', RECONCILE_CONNECT_ACCOUNTS: 'cus_1' })).toThrow(
      [
        'Invalid configuration:',
        "  RECONCILE_INTERVAL: must be at least 1m (each run lists Stripe's event log), or off",
        '  RECONCILE_LOOKBACK: must be at most 30d: Stripe keeps events for 30 days',
        '  RECONCILE_CONNECT_ACCOUNTS: must be all, none, or comma-separated connected account ids (acct_...); not cus_1',
      ].join('\n'),
    );
    expect(() => loadWorkerConfig({ RECONCILE_INTERVAL: 'hourly' })).toThrow(/RECONCILE_INTERVAL: "hourly" is not a duration: use a whole number and a unit, like 90s, 15m, 2h or 3d/);
  });
});
