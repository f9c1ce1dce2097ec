// `stripe-flows replay` as a user runs it, against the dev stack (`stripe-flows dev`: Temporal dev
// server, Stripe API double, worker, receiver) on its own ports. Events in the double's event log
// that never reached the receiver (a disabled endpoint) are dispatched by `replay`; running it
// again changes nothing (same workflows, no newly applied events, no Stripe side effects); the
// worker process keeps the reconcile schedule, whose run finds the same events already handled.
// Also: the options it refuses, with what to do instead.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { RECONCILE_SCHEDULE_ID, stateQuery, type FlowState, type ReconcileRunResult } from '@stripe-flows/core';
import { buildEvent, failedInvoice, signedHeaders } from '@stripe-flows/testing';
import { parseReplayArguments, parseSince, resolveTypes } from '../src/commands/replay.js';
import { CliError } from '../src/command.js';
import { DEV_WEBHOOK_SECRET } from '../src/config.js';
import { devClient, mainJs as main, startDevStack, userEnv, type DevStack } from './dev-stack.js';

const ports = { RECEIVER_PORT: '44242', TEMPORAL_PORT: '47233', TEMPORAL_UI_PORT: '48233', STRIPE_DOUBLE_PORT: '52111', CODEC_PORT: '48234' };
const doubleUrl = `http://127.0.0.1:${ports.STRIPE_DOUBLE_PORT}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The user's shell, minus anything that would point the CLI away from the dev stack.
const cliEnv = { ...userEnv(), ...ports, LOG_LEVEL: 'warn' };
const cli = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000, env: cliEnv });

describe('replay options', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');

  it('reads --since as a time, unix seconds, a time ago, or an event id', () => {
    expect(parseSince('2026-11-26T09:00:00Z', now)).toEqual(new Date('2026-11-26T09:00:00Z'));
    expect(parseSince(String(now / 1000 - 60), now)).toEqual(new Date(now - 60_000));
    expect(parseSince('2h', now)).toEqual(new Date(now - 7_200_000));
    expect(parseSince('30d', now)).toEqual(new Date(now - 30 * 86_400_000));
    expect(parseSince('evt_1NuhUa2eZvKYlo2C', now)).toBe('evt_1NuhUa2eZvKYlo2C');
  });

  it("refuses a start beyond Stripe's 30 days, in the future, or unreadable", () => {
    expect(() => parseSince('45d', now)).toThrow(/--since 45d is 45 days ago: Stripe keeps events for 30 days, so older ones cannot be listed\. Use a start within the last 30 days \(e\.g\. --since 30d\)/);
    expect(() => parseSince('2026-10-01T00:00:00Z', now)).toThrow(/56 days ago/);
    expect(() => parseSince('2026-11-27T00:00:00Z', now)).toThrow(/in the future/);
    expect(() => parseSince('yesterday', now)).toThrow(/not a time or an event id/);
    expect(() => parseSince('evt_bad-id', now)).toThrow(CliError);
  });

  it('takes types, undelivered, account and dry-run, and refuses what it does not know', () => {
    expect(parseReplayArguments(['--since=2h', '--types', 'invoice.paid,invoice.voided', '--undelivered', '--account', 'acct_1X', '--dry-run'])).toEqual({
      since: '2h',
      types: ['invoice.paid', 'invoice.voided'],
      undelivered: true,
      account: 'acct_1X',
      dryRun: true,
    });
    expect(() => parseReplayArguments([])).toThrow(/--since is required/);
    expect(() => parseReplayArguments(['--since'])).toThrow(/--since needs a value/);
    expect(() => parseReplayArguments(['--since', '1h', '--account', 'cus_1'])).toThrow(/not a connected account id/);
    expect(() => parseReplayArguments(['--since', '1h', '--frobnicate'])).toThrow(/Unknown option --frobnicate for replay/);
  });

  it('checks types against the routes: wildcards expand, unrouted ones are warned about', () => {
    const routed = ['invoice.paid', 'invoice.payment_failed', 'payout.failed'];
    expect(resolveTypes(undefined, routed, ['invoice.paid'])).toEqual({ types: ['invoice.paid'], warnings: [] });
    expect(resolveTypes(['invoice.*'], routed)).toEqual({ types: ['invoice.paid', 'invoice.payment_failed'], warnings: [] });
    const unrouted = resolveTypes(['customer.created', 'payout.failed'], routed);
    expect(unrouted.types).toEqual(['customer.created', 'payout.failed']);
    expect(unrouted.warnings).toEqual([expect.stringMatching(/^customer\.created is not routed by the enabled domains/)]);
    expect(() => resolveTypes(['issuing_card.*'], routed)).toThrow(/matches no routed event type/);
    expect(() => resolveTypes(['Invoice Paid'], routed)).toThrow(/is not a Stripe event type/);
  });

  it('answers mistakes on the command line with exit code 2 and what to do', () => {
    const old = cli('replay', '--since', '31d');
    expect(old.status).toBe(2);
    expect(old.stderr).toContain('stripe-flows replay: --since 31d is 31 days ago: Stripe keeps events for 30 days');
    expect(cli('replay').stderr).toContain('--since is required');
    expect(cli('replay', '--help').stdout).toMatch(/^Usage: stripe-flows replay --since <time \| evt_id>/);
  });
});

describe('stripe-flows replay against the dev stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stripe-flows-replay-'));
  let stack: DevStack | undefined;
  let connection: Connection;
  let client: Client;
  const now = Math.floor(Date.now() / 1000);
  const delivered = failedInvoice();
  const missed = Array.from({ length: 20 }, () => failedInvoice());
  const flows = [delivered, ...missed].map((invoice) => `billing.dunning:${invoice.id as string}`);

  beforeAll(async () => {
    // RECONCILE_INTERVAL: the schedule is there but fires on its own only once a month, not mid-test.
    stack = await startDevStack({ ports, dataDir, env: { RECONCILE_INTERVAL: '30d' } });
    ({ client, connection } = await devClient(ports));
  }, 120_000);

  afterAll(async () => {
    await connection?.close();
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function seed(resource: string, object: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${doubleUrl}/__double/seed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resource, object }) });
    expect(response.status).toBe(200);
  }

  async function eventsOf(workflowId: string): Promise<FlowState['events'] | undefined> {
    return client.workflow
      .getHandle(workflowId)
      .query(stateQuery)
      .then((s) => s.events)
      .catch(() => undefined);
  }

  /** Each flow's event counts once every one has seen `seen` events (applied + duplicates). */
  async function waitForCounts(seen: (workflowId: string) => number): Promise<Record<string, FlowState['events'] | undefined>> {
    let counts: Record<string, FlowState['events'] | undefined> = {};
    for (let i = 0; i < 150; i++) {
      counts = Object.fromEntries(await Promise.all(flows.map(async (id) => [id, await eventsOf(id)] as const)));
      if (flows.every((id) => (counts[id]?.applied ?? 0) + (counts[id]?.duplicates ?? 0) >= seen(id))) break;
      await sleep(200);
    }
    return counts;
  }

  async function workflowsFor(invoiceId: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const wf of client.workflow.list({ query: `StripeObjectId = '${invoiceId}'` })) ids.push(wf.workflowId);
    return ids;
  }

  async function sideEffects(): Promise<unknown[]> {
    const requests = (await (await fetch(`${doubleUrl}/__double/requests`)).json()) as Array<{ method: string; status: number; replayed: boolean }>;
    return requests.filter((r) => (r.method === 'POST' || r.method === 'DELETE') && r.status < 300 && !r.replayed);
  }

  it('dispatches what the endpoint missed, and running it twice changes nothing', async () => {
    // One event the endpoint got; twenty it never did (the endpoint was disabled). All are in Stripe's log.
    for (const invoice of [delivered, ...missed]) await seed('invoice', invoice);
    const events: Array<Record<string, unknown>> = [delivered, ...missed].map((invoice, i) => ({ ...buildEvent('invoice.payment_failed', { object: invoice, created: now - 1800 + i }), pending_webhooks: i === 0 ? 0 : 1 }));
    for (const event of events) await seed('event', event);
    await seed('event', buildEvent('customer.created', { created: now - 1000 }));
    const payload = JSON.stringify(events[0]);
    const posted = await fetch(`http://127.0.0.1:${ports.RECEIVER_PORT}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, DEV_WEBHOOK_SECRET), body: payload });
    expect(posted.status).toBe(200);

    // A dry run lists, routes, and dispatches nothing.
    const dry = cli('replay', '--since', '1h', '--dry-run');
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`${events[1]!.id as string}  invoice.payment_failed  → billing.dunning`);
    expect(dry.stdout).toContain('Listed 21 events from the platform\'s event log since');
    expect(dry.stdout).toContain('(dry run: nothing dispatched): 21 routed, 0 not routed, 0 invalid.');
    expect(await workflowsFor(missed[0]!.id as string)).toEqual([]);

    const first = cli('replay', '--since', '1h');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^replay: listing the platform's event log at the Stripe API double at http:\/\/127\.0\.0\.1:52111 since /m);
    expect(first.stderr).toMatch(/^replay: 21\/21 events \(21 delivered, 0 ignored, 0 quarantined, 0 not routed\) · [\d.]+ events\/s$/m);
    expect(first.stdout).toMatch(/^Replayed 21 events from the platform's event log since .*:\n {2}21 delivered {4}/);
    expect(first.stdout).toMatch(/^in [\d.]+ s, [\d.]+ events\/s\.$/m);
    expect(first.stdout).toContain(`Newest event: ${events[20]!.id as string}`);
    const afterFirst = await waitForCounts((id) => (id === flows[0] ? 2 : 1));
    expect(afterFirst[flows[0]!]).toMatchObject({ applied: 1, duplicates: 1 });
    for (const id of flows.slice(1)) expect(afterFirst[id], id).toMatchObject({ applied: 1, duplicates: 0 });
    const effects = await sideEffects();

    const second = cli('replay', '--since', '1h');
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^ {2}21 delivered/m);
    const afterSecond = await waitForCounts((id) => (id === flows[0] ? 3 : 2));
    for (const id of flows) {
      // Same applied events; the replayed copy dropped as a duplicate.
      expect(afterSecond[id]?.applied, id).toBe(afterFirst[id]?.applied);
      expect(afterSecond[id]?.duplicates, id).toBe((afterFirst[id]?.duplicates ?? 0) + 1);
    }
    // Same workflows, one per invoice; no new Stripe writes.
    for (const invoice of [delivered, missed[0]!, missed[19]!]) expect(await workflowsFor(invoice.id as string)).toEqual([`billing.dunning:${invoice.id as string}`]);
    expect(await sideEffects()).toEqual(effects);
  });

  it('has the reconcile schedule the worker process created, whose run finds the same events handled', async () => {
    const schedule = client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
    const description = await schedule.describe();
    expect(description.spec.intervals?.map((i) => i.every)).toEqual([30 * 86_400_000]);
    expect(description.state.note).toMatch(/^Every 30d the stripe-flows worker lists Stripe events/);
    await schedule.trigger();
    let run: { workflowId: string; firstExecutionRunId: string } | undefined;
    for (let i = 0; i < 100 && !run; i++) {
      run = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow;
      if (!run) await sleep(100);
    }
    const result = (await client.workflow.getHandle(run!.workflowId, run!.firstExecutionRunId).result()) as ReconcileRunResult;
    // The default 3-day lookback: the 21 events again, handed over and dropped by their flows.
    expect(result).toMatchObject({ listed: 21, delivered: 21, cursorSaved: true });
    const counts = await waitForCounts((id) => (id === flows[0] ? 4 : 3));
    for (const id of flows) expect(counts[id]?.applied, id).toBe(1);
    expect((await schedule.describe()).action.args).toEqual([{ cursor: result.cursor }]);
  });
});
