// The replay engine (`replayStripeEvents` in core) against the Stripe API double's event log, with
// a recording dispatcher: which events are listed (time or event-id start, types, undelivered,
// connected account, pagination), the order they are dispatched in (oldest first, as Stripe
// created them), the counts and progress it reports, and where it stops on failure or Ctrl-C.
// (Core cannot depend on the testing package, so the engine's tests live with its first user.)
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  replayStripeEvents,
  ReplayInputError,
  ReplayInterruptedError,
  RouteRegistry,
  type DispatchOutcome,
  type ReplayProgress,
  type StripeEventEnvelope,
} from '@stripe-flows/core';
import { buildEvent, failedInvoice, StripeApiDouble } from '@stripe-flows/testing';
import { builtInDomains } from '@stripe-flows/workers';

const registry = new RouteRegistry(builtInDomains);
let double: StripeApiDouble;
let stripe: ReturnType<StripeApiDouble['client']>;
const now = Math.floor(Date.now() / 1000);

/** The receiver's dispatcher, recording what it is handed and answering what the test scripts. */
function recordingDispatcher(answer: (event: StripeEventEnvelope) => DispatchOutcome['result'] | Error = () => 'delivered') {
  const dispatched: StripeEventEnvelope[] = [];
  return {
    dispatched,
    routesFor: (type: string) => registry.routesFor(type),
    async dispatch(event: StripeEventEnvelope): Promise<DispatchOutcome[]> {
      const result = answer(event);
      if (result instanceof Error) throw result;
      dispatched.push(event);
      const workflowId = `test:${event.id}`;
      if (result === 'ignored') return [{ route: 'billing.dunning', workflowId, result, reason: 'no running flow for this object' }];
      if (result === 'quarantined') return [{ route: 'billing.dunning', workflowId, result, problems: ['data.object.status: bad'] }];
      return [{ route: 'billing.dunning', workflowId, result: 'delivered' }];
    },
  };
}

function seedEvent(type: string, created: number, options: { id: string; pendingWebhooks?: number; account?: string; object?: Record<string, unknown> }) {
  const event = buildEvent(type, { id: options.id, created, ...(options.account ? { account: options.account } : {}), ...(options.object ? { object: options.object } : {}) });
  double.seed('event', { ...event, id: options.id, pending_webhooks: options.pendingWebhooks ?? 0 }, options.account ? { stripeAccount: options.account } : {});
}

beforeAll(async () => {
  double = await StripeApiDouble.start();
  stripe = double.client();
});
afterAll(async () => {
  await double?.stop();
});
beforeEach(() => {
  double.reset();
  // Before the window, three in one second (seeded in Stripe's order), one later; then other kinds.
  seedEvent('invoice.payment_failed', now - 7200, { id: 'evt_old', object: failedInvoice() });
  seedEvent('invoice.payment_failed', now - 600, { id: 'evt_a1', object: failedInvoice() });
  seedEvent('invoice.paid', now - 600, { id: 'evt_a2', pendingWebhooks: 1 });
  seedEvent('invoice.voided', now - 600, { id: 'evt_a3' });
  seedEvent('customer.created', now - 500, { id: 'evt_unrouted' });
  seedEvent('invoice.payment_failed', now - 400, { id: 'evt_b1', pendingWebhooks: 2, object: failedInvoice() });
  seedEvent('account.updated', now - 300, { id: 'evt_acct', account: 'acct_1Replay' });
});

describe('replayStripeEvents', () => {
  it('dispatches the window oldest first, in Stripe order within a second, and sums it up', async () => {
    const dispatcher = recordingDispatcher((e) => (e.id === 'evt_a2' ? 'ignored' : e.id === 'evt_a3' ? 'quarantined' : 'delivered'));
    const progress: ReplayProgress[] = [];
    // One at a time, the dispatch order is Stripe's order (see below for several flows at once).
    const summary = await replayStripeEvents({ stripe, dispatcher, since: new Date((now - 3600) * 1000), concurrency: 1, onProgress: (p) => progress.push(p), progressIntervalMs: 0 });

    expect(dispatcher.dispatched.map((e) => e.id)).toEqual(['evt_a1', 'evt_a2', 'evt_a3', 'evt_b1']);
    expect(summary).toMatchObject({
      since: { created: now - 3600 },
      listed: 5,
      delivered: 2,
      ignored: 1,
      quarantined: 1,
      unrouted: 1,
      invalid: 0,
      failed: 0,
      newest: { id: 'evt_b1', created: now - 400 },
      dryRun: false,
      stopped: false,
    });
    // The envelope the receiver would pass on: parsed, with its data.
    expect(dispatcher.dispatched[0]).toMatchObject({ object: 'event', type: 'invoice.payment_failed', data: { object: { object: 'invoice' } } });
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['listing', 'dispatching', 'done']));
    expect(progress.at(-1)).toMatchObject({ phase: 'done', listed: 5, delivered: 2 });
    expect(summary.eventsPerSecond).toBeGreaterThan(0);
    // One list call, created[gte] and newest first as Stripe serves it.
    const lists = double.requests.filter((r) => r.path === '/v1/events');
    expect(lists).toHaveLength(1);
    expect(lists[0]?.query).toMatchObject({ created: { gte: String(now - 3600) }, limit: '100' });
  });

  it('starts after an event id, keeping the later events of its second', async () => {
    const dispatcher = recordingDispatcher();
    const summary = await replayStripeEvents({ stripe, dispatcher, since: 'evt_a1', concurrency: 1 });
    expect(dispatcher.dispatched.map((e) => e.id)).toEqual(['evt_a2', 'evt_a3', 'evt_b1']);
    expect(summary.since).toEqual({ created: now - 600, eventId: 'evt_a1' });
    await expect(replayStripeEvents({ stripe, dispatcher, since: 'evt_gone' })).rejects.toThrow(ReplayInputError);
    await expect(replayStripeEvents({ stripe, dispatcher, since: 'evt_gone' })).rejects.toThrow(/Stripe has no event evt_gone: Stripe keeps events for 30 days/);
  });

  it('filters by types (more than 20 in several calls), undelivered, and a connected account', async () => {
    const dispatcher = recordingDispatcher();
    const since = new Date((now - 3600) * 1000);
    const types = ['invoice.paid', 'invoice.payment_failed', ...Array.from({ length: 25 }, (_, i) => `test.type_${i}`)];
    const typed = await replayStripeEvents({ stripe, dispatcher, since, types });
    expect(dispatcher.dispatched.map((e) => e.id)).toEqual(['evt_a1', 'evt_a2', 'evt_b1']);
    expect(typed.listed).toBe(3);
    const calls = double.requests.filter((r) => r.path === '/v1/events').map((r) => Object.values(r.query.types as object).length);
    expect(calls).toEqual([20, 7]);

    dispatcher.dispatched.length = 0;
    const undelivered = await replayStripeEvents({ stripe, dispatcher, since, undelivered: true });
    expect(dispatcher.dispatched.map((e) => e.id)).toEqual(['evt_a2', 'evt_b1']);
    expect(undelivered.listed).toBe(2);
    expect(double.requests.at(-1)?.query).toMatchObject({ delivery_success: 'false' });

    dispatcher.dispatched.length = 0;
    const connected = await replayStripeEvents({ stripe, dispatcher, since, account: 'acct_1Replay' });
    expect(dispatcher.dispatched.map((e) => [e.id, e.account])).toEqual([['evt_acct', 'acct_1Replay']]);
    expect(connected).toMatchObject({ account: 'acct_1Replay', delivered: 1 });
    expect(double.requests.at(-1)?.stripeAccount).toBe('acct_1Replay');
  });

  it('pages through a long log and still dispatches oldest first', async () => {
    double.reset();
    for (let i = 0; i < 250; i++) seedEvent('invoice.paid', now - 1000 + Math.floor(i / 3), { id: `evt_page${String(i).padStart(3, '0')}` });
    const dispatcher = recordingDispatcher();
    const summary = await replayStripeEvents({ stripe, dispatcher, since: new Date((now - 2000) * 1000) });
    expect(summary.listed).toBe(250);
    expect(dispatcher.dispatched.map((e) => e.id)).toEqual(Array.from({ length: 250 }, (_, i) => `evt_page${String(i).padStart(3, '0')}`));
    expect(double.requests.filter((r) => r.path === '/v1/events')).toHaveLength(3);
  });

  it("dispatches several flows at once, each flow's events one after another in Stripe's order", async () => {
    double.reset();
    const invoices = Array.from({ length: 6 }, () => failedInvoice());
    const types = ['invoice.payment_failed', 'invoice.payment_action_required', 'invoice.paid'];
    // Three events per invoice, interleaved across invoices, in the same second.
    types.forEach((type, step) => invoices.forEach((invoice, i) => seedEvent(type, now - 100, { id: `evt_${step}_${i}`, object: invoice })));
    let active = 0;
    let peak = 0;
    const started: string[] = [];
    const dispatcher = {
      routesFor: (type: string) => registry.routesFor(type),
      async dispatch(event: StripeEventEnvelope): Promise<DispatchOutcome[]> {
        started.push(event.id);
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
        active--;
        return [{ route: 'billing.dunning', workflowId: `billing.dunning:${String(event.data.object['id'])}`, result: 'delivered' }];
      },
    };
    const summary = await replayStripeEvents({ stripe, dispatcher, since: new Date((now - 200) * 1000), concurrency: 4 });
    expect(summary.delivered).toBe(18);
    expect(peak).toBe(4);
    for (let i = 0; i < invoices.length; i++) {
      const own = started.filter((id) => id.endsWith(`_${i}`));
      expect(own).toEqual([`evt_0_${i}`, `evt_1_${i}`, `evt_2_${i}`]);
    }
  });

  it('counts an event the receiver would refuse as invalid and dispatches the rest', async () => {
    double.seed('event', { ...buildEvent('invoice.paid', { created: now - 450 }), id: 'evt_badversion', api_version: 'last tuesday' });
    const dispatcher = recordingDispatcher();
    const summary = await replayStripeEvents({ stripe, dispatcher, since: new Date((now - 3600) * 1000) });
    expect(summary.invalid).toBe(1);
    expect(summary.problems).toEqual([{ eventId: 'evt_badversion', problem: expect.stringContaining('api_version') }]);
    expect(dispatcher.dispatched.map((e) => e.id)).not.toContain('evt_badversion');
    expect(summary.delivered).toBe(4);
  });

  it('stops at the first event Temporal does not accept, saying where to pick up', async () => {
    const dispatcher = recordingDispatcher((e) => (e.id === 'evt_a3' ? new Error('deadline exceeded') : 'delivered'));
    const error = await replayStripeEvents({ stripe, dispatcher, since: new Date((now - 3600) * 1000), concurrency: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplayInterruptedError);
    const { summary, message } = error as ReplayInterruptedError;
    expect(message).toMatch(/Temporal did not accept event evt_a3 .*deadline exceeded.*replay again after evt_a2/);
    expect(summary).toMatchObject({ delivered: 2, failed: 1, stopped: true, resumeFrom: { id: 'evt_a2' } });
    expect(dispatcher.dispatched.map((e) => e.id)).toEqual(['evt_a1', 'evt_a2']);
  });

  it('stops after the event in hand when aborted (Ctrl-C), and lists only in a dry run', async () => {
    const abort = new AbortController();
    const dispatcher = recordingDispatcher((e) => {
      if (e.id === 'evt_a2') abort.abort();
      return 'delivered';
    });
    const stopped = await replayStripeEvents({ stripe, dispatcher, since: new Date((now - 3600) * 1000), signal: abort.signal, concurrency: 1 });
    expect(stopped).toMatchObject({ stopped: true, delivered: 2, resumeFrom: { id: 'evt_a2' } });

    const quiet = recordingDispatcher();
    const seen: string[] = [];
    const dry = await replayStripeEvents({ stripe, dispatcher: quiet, since: new Date((now - 3600) * 1000), dryRun: true, onEvent: (e) => seen.push(`${e.id}:${e.result}:${e.routes.join('+')}`) });
    expect(quiet.dispatched).toEqual([]);
    expect(dry).toMatchObject({ dryRun: true, listed: 5, delivered: 0, unrouted: 1 });
    expect(seen).toEqual(['evt_a1:listed:billing.dunning', 'evt_a2:listed:billing.dunning', 'evt_a3:listed:billing.dunning', 'evt_unrouted:unrouted:', 'evt_b1:listed:billing.dunning']);
  });
});
