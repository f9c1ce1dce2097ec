// What the fault scenarios share: Stripe-like delivery of signed events, dunning events for fresh
// invoices, a Temporal client, and reading a flow's history for the events it was signalled.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowNotFoundError, type DataConverter, type WorkflowExecutionDescription } from '@temporalio/client';
import { flowWorkflowId, FlowStatusKey, stripeEventSignal } from '@stripe-flows/core';
import type { DunningPolicy } from '@stripe-flows/billing';
import { buildEvent, failedInvoice, signedHeaders } from '@stripe-flows/testing';
import { sleep } from '../processes.js';

/** Signing secret the scenarios configure their receivers with (test-only). */
export const FAULTS_WEBHOOK_SECRET = 'whsec_stripe_flows_reliability_faults_only';

/** One delivery attempt as Stripe sees it: an HTTP status, or no answer at all. */
export interface DeliveryAttempt {
  status: number | 'connection_error';
  /** `error.code` of a JSON error body (`temporal_unavailable`, ...). */
  code?: string;
  ms: number;
}

/**
 * POST a Stripe event body to the receiver as Stripe does: the same bytes every attempt, signed
 * afresh with the attempt's own timestamp.
 */
export async function deliverEvent(webhookUrl: string, payload: string, options: { secret?: string; timeoutMs?: number } = {}): Promise<DeliveryAttempt> {
  const started = performance.now();
  try {
    const response = await fetch(webhookUrl, {
      method: 'POST',
      headers: signedHeaders(payload, options.secret ?? FAULTS_WEBHOOK_SECRET),
      body: payload,
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    const code = errorCode(text);
    return { status: response.status, ...(code ? { code } : {}), ms: Math.round(performance.now() - started) };
  } catch {
    return { status: 'connection_error', ms: Math.round(performance.now() - started) };
  }
}

function errorCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

export const isAcknowledged = (attempt: DeliveryAttempt): boolean => typeof attempt.status === 'number' && attempt.status >= 200 && attempt.status < 300;

/** A signed-ready `invoice.payment_failed` for a fresh invoice, and the dunning flow it reaches. */
export interface DunningEvent {
  eventId: string;
  invoiceId: string;
  workflowId: string;
  /** The invoice as the event carries it (seed it in the Stripe API double). */
  invoice: { id: string } & Record<string, unknown>;
  payload: string;
}

/** `invoice.payment_failed` for a new open invoice with no Stripe retry scheduled. */
export function dunningEvent(overrides: Record<string, unknown> = {}): DunningEvent {
  const invoice = failedInvoice({ next_payment_attempt: null, ...overrides }) as { id: string } & Record<string, unknown>;
  const event = buildEvent('invoice.payment_failed', { object: invoice });
  return {
    eventId: event.id as string,
    invoiceId: invoice.id,
    workflowId: flowWorkflowId('billing', 'dunning', invoice.id),
    invoice,
    payload: JSON.stringify(event),
  };
}

/**
 * Dunning squeezed into seconds for a real dev server (no time skipping): the day-0 notice at
 * once, then the final action (mark uncollectible) after `finalActionAfterSeconds`.
 */
export function compressedDunningPolicy(finalActionAfterSeconds = 2): Partial<DunningPolicy> {
  return {
    reminders: [{ afterDays: 0, kind: 'payment_failed' }],
    finalActionAfterDays: finalActionAfterSeconds / 86_400,
    finalAction: 'mark_uncollectible',
    maxWaitForStripeRetriesDays: 0,
    notifyOperator: true,
  };
}

/** A Temporal client on its own connection; `close()` when done. */
export async function connectClient(address: string, dataConverter?: DataConverter): Promise<Client> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  return new Client({ connection, namespace: 'default', ...(dataConverter ? { dataConverter } : {}) });
}

/**
 * Ids of the Stripe events a flow was signalled with (`stripeEvent`), in history order, decoded
 * with the client's data converter (so encrypted payloads are read too); undefined when there is
 * no such workflow.
 */
export async function signalledEventIds(client: Client, workflowId: string): Promise<string[] | undefined> {
  let history;
  try {
    history = await client.workflow.getHandle(workflowId).fetchHistory();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
  const { payloadConverter, payloadCodecs } = client.options.loadedDataConverter;
  const ids: string[] = [];
  for (const event of history.events ?? []) {
    const signalled = event.workflowExecutionSignaledEventAttributes;
    if (!signalled || signalled.signalName !== stripeEventSignal.name) continue;
    let payloads = signalled.input?.payloads ?? [];
    for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    const [first] = payloads;
    const flowEvent = first ? payloadConverter.fromPayload<{ id?: unknown }>(first) : undefined;
    if (typeof flowEvent?.id === 'string') ids.push(flowEvent.id);
  }
  return ids;
}

/** Poll a workflow until it is no longer running; its final description. */
export async function waitForClose(client: Client, workflowId: string, timeoutMs: number): Promise<WorkflowExecutionDescription> {
  const deadline = Date.now() + timeoutMs;
  const handle = client.workflow.getHandle(workflowId);
  for (;;) {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return description;
    if (Date.now() > deadline) throw new Error(`${workflowId} was still running after ${timeoutMs} ms (history: ${description.historyLength} events).`);
    await sleep(250);
  }
}

/** `FlowStatus` search attribute of a described workflow. */
export function flowStatusOf(description: WorkflowExecutionDescription): string | undefined {
  return description.typedSearchAttributes.get(FlowStatusKey);
}

/** A temp folder under os.tmpdir(), removed after `run`. */
export async function withTempDir<T>(prefix: string, run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes that took effect beyond the first per idempotency key, plus any without a key. */
export function duplicateSideEffects(effects: ReadonlyArray<{ idempotencyKey?: string | undefined }>): number {
  const perKey = new Map<string, number>();
  let unkeyed = 0;
  for (const { idempotencyKey } of effects) {
    if (idempotencyKey === undefined) unkeyed++;
    else perKey.set(idempotencyKey, (perKey.get(idempotencyKey) ?? 0) + 1);
  }
  return unkeyed + [...perKey.values()].reduce((sum, n) => sum + n - 1, 0);
}
