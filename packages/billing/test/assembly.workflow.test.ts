// Draft invoice assembly under Temporal's time-skipping test server, with plain-object activities
// over a fake draft invoice that behaves like Stripe's (draft-only, 250 items, idempotency keys).
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { FlowStatusKey, stateQuery, stripeEventSignal, type FlowEvent, type FlowState, type Notification } from '@stripe-flows/core';
import { createTimeSkippingEnv, quietLogger } from '@stripe-flows/testing';
import type { AddLine, AssemblyActivities, AssemblyInput, AssemblyResult, DraftInvoiceSnapshot, InvoiceLineSnapshot, PendingCharge } from '../src/index.js';

const require = createRequire(import.meta.url);
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let counter = 0;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('@stripe-flows/billing/workflows'), logger: quietLogger() });
});
afterAll(async () => {
  await env?.teardown();
});

/** A draft invoice that behaves like Stripe's, and a record of every call the flow made. */
function fakeStripe(options: { billingReason?: string; lines?: InvoiceLineSnapshot[]; charges?: PendingCharge[] } = {}) {
  counter++;
  const invoice: DraftInvoiceSnapshot = {
    id: `in_assembly${counter}x${Date.now()}`,
    status: 'draft',
    customerId: 'cus_assembly',
    billingReason: options.billingReason ?? 'subscription_cycle',
    autoAdvance: true,
    currency: 'usd',
    total: 0,
    metadata: {},
    lines: options.lines ?? [],
    hasMoreLines: false,
  };
  const calls: Array<{ name: string; args: Record<string, unknown> }> = [];
  const notices: Notification[] = [];
  const replies = new Map<string, unknown>();
  let lineSeq = 0;
  const editable = () => {
    if (invoice.status !== 'draft') throw ApplicationFailure.nonRetryable(`Stripe rejected the call: invoice ${invoice.id} is ${invoice.status}`, 'stripe.invoice_not_editable');
  };
  /** Stripe replays the first answer to a repeated idempotency key. */
  const once = <T>(key: string, effect: () => T): T => {
    if (!replies.has(key)) replies.set(key, effect());
    return replies.get(key) as T;
  };
  const result = () => ({ status: invoice.status, total: invoice.lines.reduce((s, l) => s + l.amount, 0), lineCount: invoice.lines.length });
  const lineFor = (line: AddLine): InvoiceLineSnapshot => ({
    id: `il_${counter}_${++lineSeq}`,
    kind: 'invoice_item',
    invoiceItemId: line.invoice_item ?? `ii_new_${lineSeq}`,
    amount: line.amount ?? 100,
    description: line.description ?? null,
    metadata: { ...(line.metadata ?? {}) },
  });
  const activities = {
    async retrieveDraftInvoice(args) {
      calls.push({ name: 'retrieveDraftInvoice', args: { ...args } });
      return structuredClone(invoice);
    },
    async collectPendingCharges(args) {
      calls.push({ name: 'collectPendingCharges', args: { ...args } });
      return { charges: options.charges ?? [], rejected: [] };
    },
    async addInvoiceLines(args) {
      calls.push({ name: 'addInvoiceLines', args: { ...args } });
      return once(args.idempotencyKey, () => {
        editable();
        const items = invoice.lines.filter((l) => l.kind === 'invoice_item').length;
        if (items + args.lines.length > 250) throw ApplicationFailure.nonRetryable('more than 250 invoice items', 'stripe.invoice_too_large');
        invoice.lines.push(...args.lines.map(lineFor));
        Object.assign(invoice.metadata, args.invoiceMetadata ?? {});
        return result();
      });
    },
    async updateInvoiceLines(args) {
      calls.push({ name: 'updateInvoiceLines', args: { ...args } });
      return once(args.idempotencyKey, () => {
        editable();
        for (const u of args.lines) {
          const line = invoice.lines.find((l) => l.id === u.id)!;
          line.metadata = line.kind === 'subscription' ? { ...(u.metadata ?? {}) } : { ...line.metadata, ...(u.metadata ?? {}) };
        }
        return result();
      });
    },
    async removeInvoiceLines(args) {
      calls.push({ name: 'removeInvoiceLines', args: { ...args } });
      return once(args.idempotencyKey, () => {
        editable();
        invoice.lines = invoice.lines.filter((l) => !args.lines.some((r) => r.id === l.id));
        return result();
      });
    },
    async stampInvoiceMetadata(args) {
      calls.push({ name: 'stampInvoiceMetadata', args: { ...args } });
      Object.assign(invoice.metadata, args.metadata);
    },
    async finalizeInvoice(args) {
      calls.push({ name: 'finalizeInvoice', args: { ...args } });
      return once(args.idempotencyKey, () => {
        editable();
        invoice.status = 'open';
        return { status: invoice.status };
      });
    },
    async notify(n) {
      notices.push(n);
    },
  } satisfies AssemblyActivities;
  return { invoice, activities, calls, notices, writes: () => calls.filter((c) => /Lines|finalize|stamp/.test(c.name)) };
}

const charge = (key: string, amount = 1000): PendingCharge => ({ key, line: { amount, description: `charge ${key}` } });
const created = (invoiceId: string, t = Math.floor(Date.now() / 1000)): FlowEvent => ({
  id: `evt_created_${invoiceId}`, type: 'invoice.created', created: t, livemode: false, object: { id: invoiceId, status: 'draft', billing_reason: 'subscription_cycle' },
});
const invoiceEvent = (type: string, invoiceId: string, t: number): FlowEvent => ({ id: `evt_${type}_${invoiceId}_${t}`, type, created: t, livemode: false, object: { id: invoiceId } });

async function assemble(
  fake: ReturnType<typeof fakeStripe>,
  input: Partial<AssemblyInput> = {},
  during: (handle: Awaited<ReturnType<typeof env.client.workflow.signalWithStart>>) => Promise<void> = async () => undefined,
  workflowId = `billing.assembly:${fake.invoice.id}`,
): Promise<AssemblyResult> {
  const taskQueue = `assembly-${counter}-${workflowId.length}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart('assembleDraftInvoice', {
      taskQueue,
      workflowId,
      args: [{ objectId: fake.invoice.id, ...input }],
      signal: stripeEventSignal,
      signalArgs: [created(fake.invoice.id)],
    });
    await during(handle);
    return (await handle.result()) as AssemblyResult;
  });
}

describe('draft invoice assembly (billing.assembly)', () => {
  it('adds pending charges in batches, frees held items, stamps metadata, then ends when Stripe finalizes', async () => {
    const fake = fakeStripe({
      lines: [
        { id: 'il_sub', kind: 'subscription', invoiceItemId: null, amount: 2900, description: 'Pro plan', metadata: { plan: 'pro' } },
        { id: 'il_held', kind: 'invoice_item', invoiceItemId: 'ii_held', amount: 500, description: 'Disputed', metadata: { stripe_flows_hold: 'true' } },
      ],
      charges: [charge('u1'), charge('u2'), charge('u3'), { key: 'ii_pending', line: { invoice_item: 'ii_pending' } }, charge('u5')],
    });
    const t = Math.floor(Date.now() / 1000);
    const result = await assemble(fake, { policy: { batchSize: 2, lineMetadata: { billing_run: '2026-11' } } }, async (handle) => {
      await env.sleep('2 hours');
      await handle.signal(stripeEventSignal, invoiceEvent('invoice.finalized', fake.invoice.id, t + 3600));
    });
    expect(result).toEqual({ invoiceId: fake.invoice.id, outcome: 'finalized', added: 5, removed: 1, updated: 6, rejected: 0, leftOver: 0 });
    const adds = fake.calls.filter((c) => c.name === 'addInvoiceLines').map((c) => (c.args.lines as AddLine[]).map((l) => l.invoice_item ?? l.metadata?.stripe_flows_charge));
    expect(adds).toEqual([['u1', 'u2'], ['u3', 'ii_pending'], ['u5']]);
    expect(fake.calls.find((c) => c.name === 'removeInvoiceLines')?.args.lines).toEqual([{ id: 'il_held', behavior: 'unassign' }]);
    // Subscription lines get their whole metadata back (Stripe replaces it); item lines get ours merged.
    expect(fake.invoice.lines.find((l) => l.id === 'il_sub')?.metadata).toEqual({ plan: 'pro', billing_run: '2026-11' });
    expect(fake.invoice.lines.every((l) => l.metadata.billing_run === '2026-11')).toBe(true);
    expect(fake.invoice.metadata).toEqual({ stripe_flows_assembled: 'true' });
    expect(fake.calls.some((c) => c.name === 'finalizeInvoice')).toBe(false);
    // Each write's idempotency key names its step and what it carries.
    expect(fake.calls.find((c) => c.name === 'addInvoiceLines')?.args.idempotencyKey).toBe(`billing.assembly:${fake.invoice.id}:add-lines:2:u1..u2`);
  });

  it('never adds a charge twice: a rerun over the same invoice adds nothing, and a retried call is replayed', async () => {
    const fake = fakeStripe({ charges: [charge('a'), charge('b'), charge('c')] });
    // The first add reaches Stripe, then the answer is lost: the activity is retried with the same key.
    const original = fake.activities.addInvoiceLines;
    let first = true;
    fake.activities.addInvoiceLines = async (args) => {
      const reply = await original(args);
      if (first) {
        first = false;
        throw new Error('connection reset after Stripe applied the request');
      }
      return reply;
    };
    const firstRun = await assemble(fake, { policy: { completion: 'finalize' } });
    expect(firstRun).toMatchObject({ outcome: 'finalized', added: 3 });
    expect(fake.invoice.lines.map((l) => l.metadata.stripe_flows_charge)).toEqual(['a', 'b', 'c']);
    const keys = fake.calls.filter((c) => c.name === 'addInvoiceLines').map((c) => c.args.idempotencyKey);
    expect(keys).toEqual([keys[0], keys[0]]); // retried with the same key, applied once

    // Same invoice, assembled again from scratch (a replay after a crash, or a second flow).
    fake.invoice.status = 'draft';
    const writesBefore = fake.calls.filter((c) => c.name === 'addInvoiceLines').length;
    const rerun = await assemble(fake, { policy: { completion: 'auto_advance', awaitFinalizationHours: 1 } }, async () => undefined, `billing.assembly:${fake.invoice.id}:rerun`);
    expect(rerun).toMatchObject({ added: 3, outcome: 'finalization_not_seen' });
    expect(fake.calls.filter((c) => c.name === 'addInvoiceLines').length).toBe(writesBefore);
    expect(fake.invoice.lines).toHaveLength(3);
  });

  it('respects the 250 invoice item ceiling and tells the operator what waits', async () => {
    const existing = Array.from({ length: 248 }, (_, i): InvoiceLineSnapshot => ({ id: `il_x${i}`, kind: 'invoice_item', invoiceItemId: `ii_x${i}`, amount: 1, description: null, metadata: {} }));
    const fake = fakeStripe({ lines: existing, charges: ['p1', 'p2', 'p3', 'p4', 'p5'].map((k) => charge(k)) });
    const result = await assemble(fake, { policy: { completion: 'finalize', holdMetadataKey: null } });
    expect(result).toMatchObject({ outcome: 'finalized', added: 2, leftOver: 3 });
    expect(fake.invoice.lines.filter((l) => l.kind === 'invoice_item')).toHaveLength(250);
    expect(fake.notices.map((n) => [n.kind, n.data.leftOver])).toEqual([['assembly.over_capacity', 3]]);
  });

  it('ends cleanly, without a retry loop, when Stripe finalized the invoice mid-assembly', async () => {
    const fake = fakeStripe({ charges: [charge('late1'), charge('late2')] });
    fake.invoice.status = 'draft';
    const original = fake.activities.addInvoiceLines;
    fake.activities.addInvoiceLines = async (args) => {
      fake.invoice.status = 'open'; // the one-hour window closed
      return original(args);
    };
    const result = await assemble(fake, {});
    expect(result).toMatchObject({ outcome: 'no_longer_draft', added: 0 });
    expect(fake.calls.filter((c) => c.name === 'addInvoiceLines')).toHaveLength(1);
    expect(fake.notices.map((n) => n.kind)).toEqual(['assembly.no_longer_draft']);
  });

  it('ends visibly failed when Stripe refuses the first read of the invoice', async () => {
    const fake = fakeStripe({ charges: [charge('never')] });
    fake.activities.retrieveDraftInvoice = async () => {
      throw ApplicationFailure.create({ type: 'stripe.resource_missing', nonRetryable: true, message: `Stripe rejected GET /v1/invoices/${fake.invoice.id} (HTTP 404, resource_missing): No such invoice` });
    };
    let state: FlowState | undefined;
    let flowStatus: string | undefined;
    await expect(
      assemble(fake, {}, async (handle) => {
        await handle.result().catch(() => undefined);
        state = await handle.query(stateQuery);
        flowStatus = (await handle.describe()).typedSearchAttributes.get(FlowStatusKey);
      }),
    ).rejects.toThrow();
    // What Temporal UI and the state query show: failed, and Stripe's reason.
    expect(flowStatus).toBe('failed');
    expect(state?.status).toBe('failed');
    expect(state?.done.at(-1)).toMatchObject({ action: 'failed while reading_invoice', detail: expect.stringContaining('No such invoice') as string });
    expect(fake.writes()).toEqual([]);
  });

  it('finalizes by policy, once, with an idempotency key', async () => {
    const fake = fakeStripe({ charges: [charge('f1')] });
    const result = await assemble(fake, { policy: { completion: 'finalize' } });
    expect(result.outcome).toBe('finalized');
    expect(fake.calls.filter((c) => c.name === 'finalizeInvoice').map((c) => c.args.idempotencyKey)).toEqual([`billing.assembly:${fake.invoice.id}:finalize`]);
    expect(fake.invoice.status).toBe('open');
  });

  it('stamps invoice metadata alone when there is nothing to add, and ends on invoice.deleted', async () => {
    const fake = fakeStripe({ charges: [] });
    const t = Math.floor(Date.now() / 1000);
    const result = await assemble(fake, {}, async (handle) => {
      await env.sleep('30 minutes');
      await handle.signal(stripeEventSignal, invoiceEvent('invoice.deleted', fake.invoice.id, t + 1800));
      await handle.signal(stripeEventSignal, invoiceEvent('invoice.deleted', fake.invoice.id, t + 1800)); // redelivered
    });
    expect(result).toMatchObject({ outcome: 'deleted', added: 0 });
    expect(fake.writes().map((c) => c.name)).toEqual(['stampInvoiceMetadata']);
  });

  it('handles duplicate and out-of-order events: finalized before a late redelivered created', async () => {
    const fake = fakeStripe({ charges: [charge('o1')] });
    const t = Math.floor(Date.now() / 1000);
    const result = await assemble(fake, {}, async (handle) => {
      await env.sleep('1 hour');
      await handle.signal(stripeEventSignal, invoiceEvent('invoice.finalized', fake.invoice.id, t + 3600));
      await handle.signal(stripeEventSignal, created(fake.invoice.id, t)); // duplicate of the start event
    });
    expect(result).toMatchObject({ outcome: 'finalized', added: 1 });
  });

  it('leaves invoices of other billing reasons, and non-drafts, alone', async () => {
    const manual = fakeStripe({ billingReason: 'manual', charges: [charge('m1')] });
    expect(await assemble(manual, {})).toMatchObject({ outcome: 'not_applicable', added: 0 });
    expect(manual.writes()).toEqual([]);
    const open = fakeStripe({ charges: [charge('o1')] });
    open.invoice.status = 'open';
    expect(await assemble(open, {})).toMatchObject({ outcome: 'not_applicable' });
    expect(open.writes()).toEqual([]);
  });

  it('reports when Stripe never finalizes within the policy window', async () => {
    const fake = fakeStripe({ charges: [charge('w1')] });
    const started = await env.currentTimeMs();
    const result = await assemble(fake, {});
    expect(result.outcome).toBe('finalization_not_seen');
    expect((await env.currentTimeMs()) - started).toBeGreaterThanOrEqual(73 * 3600 * 1000);
    expect(fake.notices.map((n) => n.kind)).toEqual(['assembly.finalization_not_seen']);
  });
});
