// Reconciliation end to end on the Temporal dev server (the time-skipping server cannot run
// schedules): the real workers (reconcile worker included, bundles as built), the receiver, and
// the Stripe API double's event log. Events the webhook endpoint never got (a disabled endpoint)
// are dispatched by a run of the `stripe-flows.reconcile` schedule; flows start exactly once; the
// cursor the schedule keeps advances, lags by the safety margin, and survives a worker restart;
// the schedule and its runs are listed as Temporal UI lists them. Payloads are encrypted.
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  cursorOf,
  dataConverterFor,
  ensureReconcileSchedule,
  parseEncryptionKeys,
  RECONCILE_SAFETY_MARGIN_MS,
  RECONCILE_SCHEDULE_ID,
  stateQuery,
  type FlowState,
  type ReconcileRunResult,
} from '@stripe-flows/core';
import { startReceiver, type RunningReceiver } from '@stripe-flows/receiver';
import { buildEvent, createDevServerEnv, failedInvoice, signedHeaders, StripeApiDouble } from '@stripe-flows/testing';
import { builtInDomains, createDomainWorkers } from '../src/index.js';

const SECRET = 'whsec_reconcile_test_only';
const ACCOUNT = 'acct_1ReconcileTest';
const keys = parseEncryptionKeys(`k-test:${randomBytes(32).toString('base64')}`);
const dataConverter = dataConverterFor({ PAYLOAD_ENCRYPTION_KEYS: keys });
const bundleDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundles');
const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let env: TestWorkflowEnvironment;
let double: StripeApiDouble;
let client: Client;
let receiver: RunningReceiver;
let workers: Worker[] = [];
let running: Promise<unknown> = Promise.resolve();

async function startWorkers(): Promise<void> {
  workers = await createDomainWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    domains: builtInDomains,
    deps: { stripe: double.client(), notifier: { notify: async () => undefined } },
    bundleDir,
    ...(dataConverter ? { dataConverter } : {}),
    reconcile: { client, stripe: double.client(), settings: { lookbackMs: 60 * 60 * 1000, connectAccounts: 'all' } },
  });
  running = Promise.all(workers.map((w) => w.run()));
}

async function stopWorkers(): Promise<void> {
  for (const w of workers) w.shutdown();
  await running;
  workers = [];
}

beforeAll(async () => {
  [env, double] = await Promise.all([createDevServerEnv(), StripeApiDouble.start()]);
  client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', ...(dataConverter ? { dataConverter } : {}) });
  await startWorkers();
  receiver = await startReceiver({
    config: { PORT: 0, HOST: '127.0.0.1', STRIPE_WEBHOOK_SECRETS: [SECRET], STRIPE_WEBHOOK_TOLERANCE_SECONDS: 300, STRIPE_MODE: 'test', WEBHOOK_BODY_LIMIT: '1mb', DISPATCH_DEADLINE_MS: 5000, SHUTDOWN_GRACE_MS: 2000 },
    client,
    domains: builtInDomains,
    logger,
  });
});
afterAll(async () => {
  await receiver?.close();
  await stopWorkers();
  await double?.stop();
  await env?.teardown();
});

/** An invoice whose payment failed, in the double, and its event in the double's event log. */
function invoiceFailed(created: number, pendingWebhooks: number) {
  const invoice = failedInvoice();
  double.seed('invoice', invoice as { id: string });
  const event = buildEvent('invoice.payment_failed', { object: invoice, created });
  double.seed('event', { ...event, id: event.id as string, pending_webhooks: pendingWebhooks });
  return { invoiceId: invoice.id as string, event };
}

/** Triggers the schedule and waits for that run's result. */
async function triggerRun(): Promise<{ workflowId: string; result: ReconcileRunResult }> {
  const schedule = client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
  const before = (await schedule.describe()).info.numActionsTaken;
  await schedule.trigger();
  for (let i = 0; i < 200; i++) {
    const { info } = await schedule.describe();
    const action = info.recentActions.at(-1);
    if (info.numActionsTaken > before && action) {
      const handle = client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
      return { workflowId: action.action.workflow.workflowId, result: (await handle.result()) as ReconcileRunResult };
    }
    await sleep(100);
  }
  throw new Error('the triggered reconcile run did not start within 20 s');
}

async function flowState(workflowId: string, applied: number): Promise<FlowState['events']> {
  let events: FlowState['events'] | undefined;
  for (let i = 0; i < 100; i++) {
    events = await client.workflow
      .getHandle(workflowId)
      .query(stateQuery)
      .then((s) => s.events)
      .catch(() => undefined);
    if (events && events.applied + events.duplicates >= applied) return events;
    await sleep(100);
  }
  throw new Error(`${workflowId} did not answer with ${applied} event(s): ${JSON.stringify(events)}`);
}

async function storedCursor(): Promise<string | undefined> {
  return cursorOf(await client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe());
}

describe('the reconcile schedule', () => {
  const now = Math.floor(Date.now() / 1000);
  let delivered: ReturnType<typeof invoiceFailed>;
  let missed: ReturnType<typeof invoiceFailed>;
  let recent: ReturnType<typeof invoiceFailed>;
  let first: ReconcileRunResult;
  let second: ReconcileRunResult;

  it('is created at worker start with its interval, SKIP overlap and a readable note, and no cursor yet', async () => {
    expect(await ensureReconcileSchedule(client, { intervalMs: 24 * 3_600_000 })).toBe('created');
    const schedule = await client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe();
    expect(schedule.spec.intervals?.map((i) => i.every)).toEqual([24 * 3_600_000]);
    expect(schedule.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 24 * 3_600_000 });
    expect(schedule.state.note).toMatch(/^Every 1d the stripe-flows worker lists Stripe events \(GET \/v1\/events\)/);
    expect(schedule.action).toMatchObject({ workflowType: 'reconcileStripeEvents', taskQueue: 'stripe-flows.reconcile', workflowId: 'core.reconcile', args: [{}] });
    expect(schedule.memo).toMatchObject({ purpose: expect.stringContaining('GET /v1/events') });
    expect(await storedCursor()).toBeUndefined();
  });

  it('dispatches the events a disabled endpoint never got, starting each flow once', async () => {
    // Delivered by the endpoint as usual (and in the log); missed ones only in the log.
    delivered = invoiceFailed(now - 1200, 0);
    const payload = JSON.stringify(delivered.event);
    const response = await fetch(`${receiver.url}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, SECRET), body: payload });
    expect(response.status).toBe(200);
    missed = invoiceFailed(now - 900, 1);
    double.seed('account', { id: ACCOUNT, charges_enabled: false, payouts_enabled: false, details_submitted: false });
    const accountEvent = buildEvent('account.updated', { account: ACCOUNT, created: now - 600, object: { id: ACCOUNT, charges_enabled: false, payouts_enabled: false, details_submitted: false } });
    double.seed('event', { ...accountEvent, id: accountEvent.id as string, pending_webhooks: 1 }, { stripeAccount: ACCOUNT });
    // Inside the safety margin: the next run lists it again.
    recent = invoiceFailed(now - 60, 1);

    const run = await triggerRun();
    first = run.result;
    expect(run.workflowId).toMatch(/^core\.reconcile-/);
    expect(first).toMatchObject({ listed: 4, delivered: 4, ignored: 0, quarantined: 0, accounts: 1, cursorSaved: true });
    // First run: the lookback (1 h here).
    expect(Date.parse(first.since)).toBeGreaterThan((now - 3660) * 1000);
    expect(Date.parse(first.since)).toBeLessThanOrEqual((now - 3540) * 1000);
    expect(first.summary).toMatch(/^4 events since .* on the platform and 1 connected account: 4 delivered, 0 ignored/);
    // Temporal UI: the run's summary line, and what it found as its current details.
    const handle = client.workflow.getHandle(run.workflowId);
    expect(await (await handle.describe()).staticSummary()).toMatch(/^Reconcile: replay Stripe events/);
    expect((await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails).toBe(first.summary);

    for (const { invoiceId } of [delivered, missed, recent]) {
      const handle = client.workflow.getHandle(`billing.dunning:${invoiceId}`);
      expect((await handle.describe()).status.name).toBe('RUNNING');
    }
    // The endpoint's copy and the replayed one: applied once, the second dropped.
    expect(await flowState(`billing.dunning:${delivered.invoiceId}`, 2)).toMatchObject({ applied: 1, duplicates: 1 });
    expect(await flowState(`billing.dunning:${missed.invoiceId}`, 1)).toMatchObject({ applied: 1, duplicates: 0 });
    expect(await flowState(`connect.onboarding:${ACCOUNT}`, 1)).toMatchObject({ applied: 1, duplicates: 0 });

    // The cursor is in the schedule: the run's start minus the safety margin.
    const cursor = await storedCursor();
    expect(cursor).toBe(first.cursor);
    expect(Date.parse(first.cursor)).toBeGreaterThanOrEqual(now * 1000 - RECONCILE_SAFETY_MARGIN_MS - 1000);
    expect(Date.parse(first.cursor)).toBeLessThanOrEqual(Date.now() - RECONCILE_SAFETY_MARGIN_MS);
  });

  it('starts the next run from the cursor: only events inside the margin come again, and change nothing', async () => {
    expect(await storedCursor()).toBe(first.cursor);
    const run = await triggerRun();
    second = run.result;
    expect(second).toMatchObject({ since: first.cursor, listed: 1, delivered: 1, accounts: 1 });
    expect(await flowState(`billing.dunning:${recent.invoiceId}`, 2)).toMatchObject({ applied: 1, duplicates: 1 });
    expect(await flowState(`billing.dunning:${missed.invoiceId}`, 1)).toMatchObject({ applied: 1, duplicates: 0 });
    expect(Date.parse(second.cursor)).toBeGreaterThanOrEqual(Date.parse(first.cursor));
    // Dunning only reads Stripe: nothing was written, however often events came.
    expect(double.sideEffects()).toEqual([]);
  });

  it('keeps the cursor across a worker restart', async () => {
    await stopWorkers();
    const afterRestart = invoiceFailed(Math.floor(Date.now() / 1000), 1);
    await startWorkers();
    // A worker start brings the schedule up to date without touching the cursor.
    expect(await ensureReconcileSchedule(client, { intervalMs: 12 * 3_600_000 })).toBe('updated');
    const schedule = await client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe();
    expect(schedule.spec.intervals?.map((i) => i.every)).toEqual([12 * 3_600_000]);
    expect(cursorOf(schedule)).toBe(second.cursor);

    const run = await triggerRun();
    expect(run.result.since).toBe(second.cursor);
    expect(run.result.delivered).toBeGreaterThanOrEqual(1);
    expect(await flowState(`billing.dunning:${afterRestart.invoiceId}`, 1)).toMatchObject({ applied: 1, duplicates: 0 });
  });

  it('lists the schedule and its runs as Temporal UI does', async () => {
    const schedules: string[] = [];
    for (let i = 0; i < 50 && !schedules.includes(RECONCILE_SCHEDULE_ID); i++) {
      for await (const s of client.schedule.list()) schedules.push(s.scheduleId);
      if (!schedules.includes(RECONCILE_SCHEDULE_ID)) await sleep(200);
    }
    expect(schedules).toContain(RECONCILE_SCHEDULE_ID);

    let runs: Array<{ id: string; status: string; domain: unknown; status2: unknown }> = [];
    for (let i = 0; i < 100; i++) {
      runs = [];
      for await (const wf of client.workflow.list({ query: `TemporalScheduledById = '${RECONCILE_SCHEDULE_ID}'` })) {
        const attributes = wf.typedSearchAttributes.getAll();
        runs.push({
          id: wf.workflowId,
          status: wf.status.name,
          domain: attributes.find((a) => a.key.name === 'FlowDomain')?.value,
          status2: attributes.find((a) => a.key.name === 'FlowStatus')?.value,
        });
      }
      if (runs.length === 3 && runs.every((r) => r.status2 === 'completed')) break;
      await sleep(100);
    }
    expect(runs).toHaveLength(3);
    for (const run of runs) expect(run).toMatchObject({ id: expect.stringMatching(/^core\.reconcile-/), status: 'COMPLETED', domain: 'reconcile', status2: 'completed' });
  });

  it('pauses with RECONCILE_INTERVAL=off, keeping the cursor, and resumes when set again', async () => {
    expect(await ensureReconcileSchedule(client, { intervalMs: null })).toBe('paused');
    const paused = await client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe();
    expect(paused.state).toMatchObject({ paused: true, note: expect.stringContaining('RECONCILE_INTERVAL=off') });
    expect(cursorOf(paused)).toBeDefined();
    expect(await ensureReconcileSchedule(client, { intervalMs: 24 * 3_600_000 })).toBe('updated');
    expect((await client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe()).state.paused).toBe(false);
  });
});
