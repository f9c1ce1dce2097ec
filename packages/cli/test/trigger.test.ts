// `stripe-flows trigger` as a newcomer uses it: realistic events for every routed type, clear
// errors, and, against a running dev stack (its own ports and data folder), single events that
// reach their flows with the double seeded and the event logged, and every scenario driving its
// flow to the end state it names.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { RouteRegistry, stateQuery, type StripeEventOf, type StripeEventType } from '@stripe-flows/core';
import { realisticEvent, relatedObjects } from '@stripe-flows/testing';
import { builtInDomains } from '@stripe-flows/workers';
import { scenarios } from '../src/commands/scenarios.js';
import { devClient, mainJs as main, startDevStack, userEnv, type DevStack } from './dev-stack.js';

const ports = { RECEIVER_PORT: '34242', TEMPORAL_PORT: '37233', TEMPORAL_UI_PORT: '38233', STRIPE_DOUBLE_PORT: '42111', CODEC_PORT: '38234' };
const doubleUrl = `http://127.0.0.1:${ports.STRIPE_DOUBLE_PORT}`;
const cleanEnv = userEnv();
type Json = Record<string, unknown>;

function cli(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { env: { ...cleanEnv, ...ports, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('realistic events', () => {
  const registry = new RouteRegistry(builtInDomains);

  it('build, for every routed type, an event each of its routes accepts as it is', () => {
    for (const type of registry.eventTypes()) {
      const event = realisticEvent(type);
      expect(event, type).toMatchObject({ type, object: 'event', livemode: false, data: { object: expect.any(Object) } });
      for (const { domain, route } of registry.routesFor(type)) {
        const typed = event as unknown as StripeEventOf<StripeEventType>;
        const at = `${type} → ${domain}.${route.flow}`;
        expect(route.objectId(typed), at).toEqual(expect.any(String));
        expect(route.projection.safeParse((event.data as Json).object).success, at).toBe(true);
        expect(route.when?.(typed) ?? true, at).toBe(true);
        // Connected accounts' events come with the account, as on the Connect endpoint.
        if (route.endpoints?.includes('connect') && !route.endpoints.includes('platform')) expect(event.account, at).toMatch(/^acct_/);
      }
    }
  });

  it('come with the objects a flow reads next to them, consistent with the event', () => {
    const refunded = realisticEvent('charge.refunded');
    const charge = (refunded.data as { object: Json }).object;
    const related = relatedObjects(refunded);
    expect(related.map((r) => r.resource)).toEqual(['account', 'transfer', 'refund']);
    expect(related.find((r) => r.resource === 'transfer')?.object).toMatchObject({ id: charge.transfer, amount: 4500, destination: (charge.transfer_data as Json).destination });
    const payout = realisticEvent('payout.failed', { account: 'acct_1Given' });
    expect(payout.account).toBe('acct_1Given');
    expect(relatedObjects(payout).find((r) => r.resource === 'bank_account')?.object).toMatchObject({ account: 'acct_1Given' });
  });
});

describe('stripe-flows trigger: mistakes', () => {
  it('refuses unknown types, bad --set paths and unknown scenarios with what to do (exit 2)', async () => {
    const [typo, unrouted, badPath, badScenario, list] = await Promise.all([
      cli(['trigger', 'invoice.payed']),
      cli(['trigger', 'customer.created']),
      cli(['trigger', 'invoice.paid', '--set', 'data.object.amount_du=3']),
      cli(['trigger', '--scenario', 'refund']),
      cli(['trigger', '--list', '--json']),
    ]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('Unknown event type "invoice.payed". Did you mean invoice.paid');
    expect(typo.stderr).toContain('Routed types: account.application.deauthorized,');
    expect(unrouted.stderr).toContain('Stripe sends customer.created, but no enabled domain routes it');
    expect(badPath.status).toBe(2);
    expect(badPath.stderr).toContain('--set data.object.amount_du: data.object.amount_du does not exist in this invoice.paid event. Did you mean amount_due?');
    expect(badScenario.stderr).toContain('No scenario "refund". Did you mean refund-reversal?');
    expect(JSON.parse(list.stdout).map((s: { name: string }) => s.name)).toEqual(scenarios.map((s) => s.name));
  });
});

describe('stripe-flows trigger against the dev stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stripe-flows-trigger-'));
  let stack: DevStack | undefined;
  let connection: Connection | undefined;
  let client: Client;

  beforeAll(async () => {
    stack = await startDevStack({ ports, dataDir });
    ({ client, connection } = await devClient(ports));
  }, 120_000);

  afterAll(async () => {
    await connection?.close();
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  const double = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${doubleUrl}${path}`, { headers: { authorization: 'Bearer sk_test_trigger_test', ...headers } });
    return { status: response.status, body: (await response.json()) as Json };
  };

  it('sends a signed event that reaches its flow, with the double seeded first and the event logged', async () => {
    const run = await cli(['trigger', 'invoice.payment_failed', '--json', '--set', 'data.object.amount_due=5000', '--set', 'data.object.metadata.plan=pro']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { eventId: string; status: number; deliveries: Array<{ route: string; workflowId: string; result: string }>; workflows: Array<{ url: string }>; seeded: string[] };
    expect(report.status).toBe(200);
    const [delivery] = report.deliveries;
    expect(delivery).toMatchObject({ route: 'billing.dunning', workflowId: expect.stringMatching(/^billing\.dunning:in_/), result: 'delivered' });
    const invoiceId = delivery!.workflowId.split(':')[1]!;
    expect(report.workflows[0]?.url).toBe(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/namespaces/default/workflows/${encodeURIComponent(delivery!.workflowId)}`);
    expect(report.seeded).toEqual(expect.arrayContaining([`invoice ${invoiceId}`, expect.stringMatching(/^customer cus_/)]));
    // The flow's own read of the invoice is what the event said (--set included).
    expect((await double(`/v1/invoices/${invoiceId}`)).body).toMatchObject({ status: 'open', amount_due: 5000, metadata: { plan: 'pro' } });
    const logged = await double('/v1/events?type=invoice.payment_failed&limit=100');
    expect((logged.body.data as Json[]).find((e) => e.id === report.eventId)).toMatchObject({ pending_webhooks: 0, data: { object: { id: invoiceId, amount_due: 5000 } } });
    let state = await client.workflow.getHandle(delivery!.workflowId).query(stateQuery).catch(() => undefined);
    for (let i = 0; i < 50 && state?.done.every((d) => d.action !== 'read invoice'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await client.workflow.getHandle(delivery!.workflowId).query(stateQuery);
    }
    expect(state?.details).toMatchObject({ invoiceId, invoiceStatus: 'open', attemptCount: 1 });
  });

  it("sends a connected account's event with its account, the objects on that account", async () => {
    const run = await cli(['trigger', 'payout.failed', '--account', 'acct_1TriggerTest', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { account: string; deliveries: Array<{ workflowId: string; result: string }> };
    expect(report.account).toBe('acct_1TriggerTest');
    expect(report.deliveries).toEqual([expect.objectContaining({ workflowId: expect.stringMatching(/^connect\.payout:po_/), result: 'delivered' })]);
    const payout = report.deliveries[0]!.workflowId.split(':')[1]!;
    expect((await double(`/v1/payouts/${payout}`, { 'stripe-account': 'acct_1TriggerTest' })).body).toMatchObject({ status: 'failed', failure_code: 'account_closed' });
    expect((await double(`/v1/payouts/${payout}`)).status).toBe(404);
  });

  it('exits 1 when the receiver refuses the event (logged as undelivered) or cannot be reached', async () => {
    const [refused, unreachable] = await Promise.all([
      cli(['trigger', 'invoice.paid', '--json'], { STRIPE_WEBHOOK_SECRETS: 'whsec_not_the_receivers_secret' }),
      cli(['trigger', 'invoice.paid', '--receiver', 'http://127.0.0.1:9/webhooks/stripe']),
    ]);
    expect(refused.status).toBe(1);
    const report = JSON.parse(refused.stdout) as { eventId: string; status: number; body: { error: { code: string } } };
    expect(report).toMatchObject({ status: 400, body: { error: { code: 'no_valid_signature' } } });
    const undelivered = await double('/v1/events?delivery_success=false&limit=100');
    expect((undelivered.body.data as Json[]).map((e) => e.id)).toContain(report.eventId);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain('Could not reach the receiver at http://127.0.0.1:9/webhooks/stripe');
  });

  it('plays every scenario to the end state it names', async () => {
    const runs = await Promise.all(scenarios.map((s) => cli(['trigger', '--scenario', s.name, '--json'])));
    const results = runs.map((run, i) => {
      expect(run.status, `${scenarios[i]!.name}: ${run.stderr}`).toBe(0);
      return JSON.parse(run.stdout) as { scenario: string; ok: boolean; seconds: number; flows: Array<{ workflowId: string; status: string; outcome: string }>; steps: Array<{ seeded: string[] }> };
    });
    const outcomes = Object.fromEntries(results.map((r) => [r.scenario, r.flows.map((f) => `${f.workflowId.split(':')[0]} ${f.status} ${f.outcome}`)]));
    expect(outcomes).toEqual({
      'payment-recovered': ['billing.dunning completed recovered'],
      'payment-uncollectible': ['billing.dunning completed marked_uncollectible'],
      'draft-assembly': ['billing.assembly completed finalized'],
      'account-onboarding': ['connect.onboarding completed onboarded'],
      'refund-reversal': ['connect.reversal completed settled'],
    });
    expect(results.every((r) => r.ok && r.seconds < 30)).toBe(true);

    // What the flows did is in the double: the transfer reversed in full, the invoice assembled.
    const seededId = (scenario: string, resource: string) =>
      results.find((r) => r.scenario === scenario)!.steps.flatMap((s) => s.seeded).find((s) => s.startsWith(`${resource} `))!.split(' ')[1]!;
    expect((await double(`/v1/transfers/${seededId('refund-reversal', 'transfer')}`)).body).toMatchObject({ amount: 4500, amount_reversed: 4500, reversed: true });
    const invoice = (await double(`/v1/invoices/${seededId('draft-assembly', 'invoice')}`)).body;
    expect(invoice).toMatchObject({ status: 'open', total: 6200, metadata: { stripe_flows_assembled: 'true' } });
    expect((invoice.lines as { data: unknown[] }).data).toHaveLength(3);
  });
});
