// Stripe faults under the worker process: one dunning flow per fault, the fault on the first k
// attempts of its Stripe call. Retryable faults (429 with and without Stripe-Should-Retry, 500, a
// timeout, a dropped connection, an answer lost after Stripe applied the write) must end with the
// flow completed and exactly one side effect per idempotency key; non-retryable 4xx must end the
// flow in its failure state, visible in the `state` query and the FlowStatus search attribute.
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { stateQuery, type FlowState } from '@stripe-flows/core';
import type { DunningResult } from '@stripe-flows/billing';
import type { FaultRule } from '@stripe-flows/testing';
import { startFlowStack, type FlowStack, type FlowStackOptions } from './stack.js';
import { duplicateSideEffects, dunningEvent, flowStatusOf, waitForClose, withTempDir, type DunningEvent } from './shared.js';
import type { ResponseFault } from './response-proxy.js';

export interface StripeFaultsOptions extends Pick<FlowStackOptions, 'workerEnv' | 'dataConverter'> {
  /** Attempts each retryable fault hits. Default 2. */
  faultedAttempts?: number;
  /** Worker's STRIPE_TIMEOUT_MS; the timeout fault holds requests 1 s longer. Default 1500. */
  stripeTimeoutMs?: number;
  /** How long every flow has to close. Default 60 s. */
  closeWithinMs?: number;
  log?: (line: string) => void;
}

type Expected = 'completed' | 'failed';

interface FaultCase {
  name: string;
  expected: Expected;
  method: 'GET' | 'POST';
  /** The Stripe call the fault hits. */
  path: (e: DunningEvent) => string;
  times: number;
  fault: { at: 'stripe'; fault: FaultRule['fault'] } | { at: 'proxy'; fault: ResponseFault };
}

export interface StripeFaultOutcome {
  case: string;
  expected: Expected;
  workflowId: string;
  /** Temporal's execution status (COMPLETED, FAILED, ...). */
  status: string;
  /** FlowStatus search attribute, as Temporal UI shows it. */
  flowStatus: string | undefined;
  /** `state` query answer's status, and the failure reason it records. */
  stateStatus: string | undefined;
  reason: string | undefined;
  /** Dunning outcome of a completed flow; failure type (`stripe.<code>`) of a failed one. */
  outcome: string | undefined;
  /** Calls Stripe received on the faulted endpoint, and how many of them the fault hit. */
  attempts: number;
  faultedAttempts: number;
  /** Writes on the faulted endpoint that took effect; distinct idempotency keys; replays. */
  sideEffects: number;
  idempotencyKeys: number;
  replayed: number;
  /** Start → close. */
  ms: number;
  /** Everything above as expected for this case. */
  ok: boolean;
}

export interface StripeFaultsFigures {
  scenario: 'stripe-faults';
  flowsStarted: number;
  flowsCompleted: number;
  flowsFailed: number;
  /** Writes that took effect across all flows, and those beyond one per idempotency key (must be 0). */
  sideEffects: number;
  duplicateSideEffects: number;
  /** Failed flows found by `FlowStatus='failed'` in the visibility store. */
  listedAsFailed: number;
  casesAsExpected: number;
  durationMs: number;
  cases: StripeFaultOutcome[];
}

const finalAction = (e: DunningEvent) => `/v1/invoices/${e.invoiceId}/mark_uncollectible`;
const invoice = (e: DunningEvent) => `/v1/invoices/${e.invoiceId}`;

function faultCases(k: number, timeoutMs: number): FaultCase[] {
  const write = { method: 'POST', path: finalAction, expected: 'completed', times: k } as const;
  return [
    { ...write, name: '429 with Stripe-Should-Retry: true', fault: { at: 'stripe', fault: { type: 'status', status: 429, shouldRetry: true } } },
    { ...write, name: '429 without Stripe-Should-Retry', fault: { at: 'stripe', fault: { type: 'status', status: 429 } } },
    { ...write, name: '500 api_error', fault: { at: 'stripe', fault: { type: 'status', status: 500 } } },
    { ...write, name: `timeout (held ${timeoutMs + 1000} ms, STRIPE_TIMEOUT_MS ${timeoutMs})`, fault: { at: 'stripe', fault: { type: 'delay', ms: timeoutMs + 1000 } } },
    { ...write, name: 'dropped connection', fault: { at: 'stripe', fault: { type: 'drop' } } },
    { ...write, name: 'answer lost after Stripe applied the write', fault: { at: 'proxy', fault: { type: 'lose' } } },
    {
      name: '400 invalid_request, Stripe-Should-Retry: false (final action)',
      expected: 'failed', method: 'POST', path: finalAction, times: 1,
      fault: { at: 'stripe', fault: { type: 'status', status: 400, shouldRetry: false, message: 'Injected: this invoice cannot be marked uncollectible' } },
    },
    {
      name: '404 resource_missing, Stripe-Should-Retry: false (first invoice read)',
      expected: 'failed', method: 'GET', path: invoice, times: 1,
      fault: { at: 'stripe', fault: { type: 'status', status: 404, shouldRetry: false, message: 'Injected: no such invoice' } },
    },
  ];
}

export async function runStripeFaultsScenario(options: StripeFaultsOptions = {}): Promise<StripeFaultsFigures> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const k = options.faultedAttempts ?? 2;
  const timeoutMs = options.stripeTimeoutMs ?? 1500;
  return withTempDir('stripe-flows-stripe-faults-', async (dir) => {
    const stack = await startFlowStack({ dir, stripeTimeoutMs: timeoutMs, workerEnv: options.workerEnv, dataConverter: options.dataConverter });
    try {
      const cases = faultCases(k, timeoutMs).map((c) => ({ ...c, event: dunningEvent() }));
      for (const c of cases) {
        const path = c.path(c.event);
        if (c.fault.at === 'stripe') stack.stripe.inject({ method: c.method, path, times: c.times, fault: c.fault.fault });
        else stack.proxy.inject({ method: c.method, path, times: c.times, fault: c.fault.fault });
      }
      const startedAt = Date.now();
      await Promise.all(cases.map((c) => stack.startDunning(c.event)));
      log(`${cases.length} dunning flows started, one per fault`);
      const outcomes = await Promise.all(cases.map((c) => observe(stack, c, c.event, startedAt, options.closeWithinMs ?? 60_000)));
      const failedListed = new Set<string>();
      for await (const wf of stack.client.workflow.list({ query: `FlowStatus = 'failed'` })) failedListed.add(wf.workflowId);
      const effects = stack.stripe.sideEffects();
      return {
        scenario: 'stripe-faults',
        flowsStarted: cases.length,
        flowsCompleted: outcomes.filter((o) => o.status === 'COMPLETED').length,
        flowsFailed: outcomes.filter((o) => o.status === 'FAILED').length,
        sideEffects: effects.length,
        duplicateSideEffects: duplicateSideEffects(effects),
        listedAsFailed: outcomes.filter((o) => failedListed.has(o.workflowId)).length,
        casesAsExpected: outcomes.filter((o) => o.ok).length,
        durationMs: Date.now() - started,
        cases: outcomes,
      };
    } finally {
      await stack.close();
    }
  });
}

async function observe(stack: FlowStack, c: FaultCase, event: DunningEvent, startedAt: number, closeWithinMs: number): Promise<StripeFaultOutcome> {
  const description = await waitForClose(stack.client, event.workflowId, closeWithinMs);
  const ms = (description.closeTime?.getTime() ?? Date.now()) - startedAt;
  const handle = stack.client.workflow.getHandle<() => Promise<DunningResult>>(event.workflowId);
  let outcome: string | undefined;
  try {
    outcome = (await handle.result()).outcome;
  } catch (error) {
    outcome = error instanceof WorkflowFailedError ? failureType(error) : `unexpected: ${(error as Error).message}`;
  }
  const state: FlowState | undefined = await handle.query(stateQuery).catch(() => undefined);
  const failure = [...(state?.done ?? [])].reverse().find((d) => / failed$/.test(d.action));
  const path = c.path(event);
  const requests = stack.stripe.requests.filter((r) => r.method === c.method && r.path === path);
  const faulted = c.fault.at === 'stripe' ? requests.filter((r) => r.fault !== undefined).length : stack.proxy.requests.filter((r) => r.path === path && r.fault !== undefined).length;
  const sideEffects = c.method === 'POST' ? stack.stripe.sideEffects({ method: 'POST', path }).length : 0;
  const keys = new Set(requests.flatMap((r) => (r.idempotencyKey ? [r.idempotencyKey] : []))).size;
  const flowStatus = flowStatusOf(description);
  const result: Omit<StripeFaultOutcome, 'ok'> = {
    case: c.name,
    expected: c.expected,
    workflowId: event.workflowId,
    status: description.status.name,
    flowStatus,
    stateStatus: state?.status,
    reason: failure?.detail,
    outcome,
    attempts: requests.length,
    faultedAttempts: faulted,
    sideEffects,
    idempotencyKeys: keys,
    replayed: requests.filter((r) => r.replayed).length,
    ms,
  };
  const ok =
    c.expected === 'completed'
      ? result.status === 'COMPLETED' && flowStatus === 'completed' && outcome === 'final_action_taken' && faulted === c.times && sideEffects === 1 && keys === 1
      : result.status === 'FAILED' && flowStatus === 'failed' && state?.status === 'failed' && /^stripe\./.test(outcome ?? '') && (result.reason ?? '').includes('Stripe rejected') && sideEffects === 0;
  return { ...result, ok };
}

/** `stripe.<code>` of the ApplicationFailure at the bottom of a failed workflow's cause chain. */
function failureType(error: WorkflowFailedError): string {
  let cause: unknown = error.cause;
  while (cause instanceof Error) {
    if (cause instanceof ApplicationFailure && cause.type) return cause.type;
    cause = cause.cause;
  }
  return error.cause?.message ?? error.message;
}
