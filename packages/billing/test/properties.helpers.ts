// Shared by the billing property tests (properties.*.test.ts): per file one time-skipping Temporal
// server, one Stripe API double and one billing Worker with the real activities; events go through
// the real Dispatcher with the billing routes, exactly as the receiver hands them over. fast-check
// makes delivery plans: every event 1–3 times, in any order, with or without a pause for the flows
// to settle in between.
//
// Stripe's truth moves with the events that exist (as in the receiver's dispatcher test): before
// an event is first delivered, the double holds the object as it is once that event and every
// earlier one of the sequence happened. Stripe emits in order; only delivery is late, repeated and
// out of order.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import {
  Dispatcher,
  DispatchUnavailableError,
  RouteRegistry,
  stateQuery,
  stripeEventEnvelopeSchema,
  taskQueueFor,
  type FlowState,
  type Notification,
  type StripeEventEnvelope,
} from '@stripe-flows/core';
import { buildEvent, createTimeSkippingEnv, quietLogger, StripeApiDouble, type BuildEventOptions } from '@stripe-flows/testing';
import { billingRoutes, createBillingActivities, suppliedCharges, type PendingCharge } from '../src/index.js';

const require = createRequire(import.meta.url);

/** What one property test file runs on. */
export interface Bench {
  env: TestWorkflowEnvironment;
  double: StripeApiDouble;
  dispatcher: Dispatcher;
  /** Every notification the flows sent (the notifier port), in order. */
  notices: Notification[];
  /** What the `usage-db` charges source answers, per invoice id (draft invoice assembly). */
  charges: Map<string, PendingCharge[]>;
  stop(): Promise<void>;
}

/** Server, double, worker on `stripe-flows.billing` and dispatcher; `policies` as a deployment sets them. */
export async function startBench(policies: Parameters<typeof billingRoutes>[0] = {}): Promise<Bench> {
  const [env, double, bundle] = await Promise.all([
    createTimeSkippingEnv(),
    StripeApiDouble.start(),
    bundleWorkflowCode({ workflowsPath: require.resolve('@stripe-flows/billing/workflows'), logger: quietLogger() }),
  ]);
  const notices: Notification[] = [];
  const charges = new Map<string, PendingCharge[]>();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: taskQueueFor('billing'),
    workflowBundle: bundle,
    activities: createBillingActivities({
      stripe: double.client(),
      notifier: { notify: async (n) => void notices.push(n) },
      chargesSources: [suppliedCharges('usage-db', async (ctx) => charges.get(ctx.invoiceId) ?? [])],
    }),
  }).catch(async (error: unknown) => {
    await Promise.all([double.stop(), env.teardown()]);
    throw error;
  });
  const running = worker.run();
  const dispatcher = new Dispatcher({ client: env.client, registry: new RouteRegistry([{ name: 'billing', routes: billingRoutes(policies) }]), deadlineMs: 10_000 });
  return {
    env,
    double,
    dispatcher,
    notices,
    charges,
    async stop() {
      worker.shutdown();
      await running;
      await double.stop();
      await env.teardown();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Delivery plans

/** One event (or API call) of a sequence. */
export interface StepSpec {
  label: string;
  /**
   * Causality: this step is first delivered only after the first delivery of `after` was handled
   * (e.g. Stripe finalizes a draft only an hour after `invoice.created` was answered).
   */
  after?: string;
}

/** The in-order, no-duplicate delivery, settling after each event. */
export function inOrder(steps: readonly StepSpec[]): string[] {
  return steps.map((s) => s.label);
}

/**
 * Delivery plans: each step 1–3 times, in any order, causality kept. A token is a step's label;
 * `label~` means the next delivery follows at once, without letting the flows settle (a burst).
 * Shrinks towards single copies, in order, each settled.
 */
export function deliveryPlans(steps: readonly StepSpec[]): fc.Arbitrary<string[]> {
  const max = 3;
  const perStep = fc.record({
    copies: fc.integer({ min: 1, max }),
    keys: fc.array(fc.nat(31), { minLength: max, maxLength: max }),
    bursts: fc.array(fc.boolean(), { minLength: max, maxLength: max }),
  });
  return fc.array(perStep, { minLength: steps.length, maxLength: steps.length }).map((picked) => {
    const deliveries = picked.flatMap((p, step) =>
      p.keys.slice(0, p.copies).map((key, copy) => ({ step, key, burst: p.bursts[copy] ?? false })),
    );
    deliveries.sort((a, b) => a.key - b.key); // stable: equal keys keep step order
    steps.forEach((spec, step) => {
      if (!spec.after) return;
      const cause = steps.findIndex((s) => s.label === spec.after);
      const firstCause = deliveries.findIndex((d) => d.step === cause);
      const firstEffect = deliveries.findIndex((d) => d.step === step);
      if (firstEffect < firstCause) deliveries.splice(firstEffect, 0, ...deliveries.splice(firstCause, 1));
    });
    return deliveries.map((d) => `${steps[d.step]?.label ?? '?'}${d.burst ? '~' : ''}`);
  });
}

/**
 * Plays a plan: before a step's first delivery Stripe's truth catches up with it (`truth` of every
 * step up to it, in sequence order), and a step with a cause waits until the flows handled what was
 * delivered so far; then it is delivered, then (unless a burst) the flows settle.
 */
export async function deliverPlan(
  plan: readonly string[],
  scenario: { steps: readonly StepSpec[]; truth: (label: string) => void; deliver: (label: string) => Promise<void>; settle: () => Promise<void> },
): Promise<void> {
  const order = scenario.steps.map((s) => s.label);
  const delivered = new Set<string>();
  let frontier = -1;
  let unsettled = false;
  for (const token of plan) {
    const label = token.replace(/~$/, '');
    const index = order.indexOf(label);
    if (index < 0) throw new Error(`plan token ${token} names no step of ${order.join(', ')}`);
    if (!delivered.has(label) && scenario.steps[index]?.after && unsettled) await scenario.settle();
    delivered.add(label);
    while (frontier < index) scenario.truth(order[++frontier] ?? '');
    await scenario.deliver(label);
    unsettled = token.endsWith('~');
    if (!unsettled) await scenario.settle();
  }
  await scenario.settle();
}

/**
 * fast-check parameters: `numRuns` (FC_NUM_RUNS for a deeper search), bounded in time. A failure
 * prints its seed and path; FC_SEED and FC_PATH replay it.
 */
export function propertyRuns<T>(numRuns: number): fc.Parameters<T> {
  const { FC_SEED: seed, FC_PATH: path, FC_NUM_RUNS: runs } = process.env;
  return {
    numRuns: runs ? Number(runs) : numRuns,
    interruptAfterTimeLimit: 80_000, // reports (shrinking included) before vitest's 120 s test timeout
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// One run

/** Steps in which a running flow of each kind waits for events or time, with nothing due now. */
const RESTING_STEPS: Record<string, readonly string[]> = {
  'billing.dunning': ['waiting_for_payment'],
  'billing.assembly': ['awaiting_finalization'],
  'billing.trial': ['waiting_for_payment_method', 'waiting_for_outcome'],
  'billing.alert': [], // short: only at rest once ended
};

let counter = 0;

/** How a flow ended and what its `state` query answers then, ids as placeholders. */
export interface FlowEnd {
  end: { result: unknown } | { failure: string };
  state: FlowState;
}

/**
 * One run of a scenario: fresh Stripe ids (registered with placeholders, so runs compare), the
 * flows its deliveries reached, and what they did to Stripe and the notifier.
 */
export class Run {
  /** Unique per run: goes into event ids and other made-up ids. */
  readonly tag: string;
  /** Deliveries each flow received (dispatch result `delivered`). */
  readonly delivered = new Map<string, number>();
  private readonly placeholders = new Map<string, string>();

  constructor(readonly bench: Bench) {
    bench.double.reset();
    bench.notices.length = 0;
    this.tag = `${++counter}x${Date.now().toString(36)}`;
  }

  /** A run-specific value (id, timestamp) that compares across runs as `placeholder`. */
  id<T extends string | number>(value: T, placeholder: string): T {
    this.placeholders.set(String(value), placeholder);
    return value;
  }

  /** Flows this run reached, by workflow id. */
  get workflowIds(): string[] {
    return [...this.delivered.keys()];
  }

  /** A Stripe event as the receiver hands it to the dispatcher (envelope checked). */
  envelope(type: string, options: BuildEventOptions): StripeEventEnvelope {
    return stripeEventEnvelopeSchema.parse(buildEvent(type, options));
  }

  /** The receiver's path: dispatch to every route; a 503 (Temporal did not accept in time) is retried, as Stripe does. */
  async deliver(event: StripeEventEnvelope): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        for (const outcome of await this.bench.dispatcher.dispatch(event)) {
          if (outcome.result === 'delivered') this.delivered.set(outcome.workflowId, (this.delivered.get(outcome.workflowId) ?? 0) + 1);
          if (outcome.result === 'quarantined') throw new Error(`${event.type} ${event.id} was quarantined: ${outcome.problems.join('; ')}`);
        }
        return;
      } catch (error) {
        if (!(error instanceof DispatchUnavailableError) || attempt >= 5) throw error;
        await sleep(100 * attempt);
      }
    }
  }

  /** Count a delivery that did not go through the dispatcher (usage API signals). */
  reached(workflowId: string): void {
    this.delivered.set(workflowId, (this.delivered.get(workflowId) ?? 0) + 1);
  }

  /**
   * Waits until every flow reached has handled each delivery and is at rest: ended, or waiting for
   * an event or a time still ahead, with nothing due now.
   */
  async settle(): Promise<void> {
    await waitFor('the flows to settle', async () => {
      const now = await this.bench.env.currentTimeMs();
      for (const workflowId of this.workflowIds) {
        const busy = await this.busy(workflowId, now);
        if (busy) return busy;
      }
      return true;
    });
  }

  private async busy(workflowId: string, now: number): Promise<string | undefined> {
    const handle = this.bench.env.client.workflow.getHandle(workflowId);
    try {
      if ((await handle.describe()).status.name !== 'RUNNING') return undefined;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
    const state = (await handle.query(stateQuery)) as FlowState;
    const seen = state.events.applied + state.events.duplicates + state.events.stale;
    const expected = this.delivered.get(workflowId) ?? 0;
    if (seen < expected) return `${workflowId} handled ${seen} of ${expected} deliveries`;
    const resting = RESTING_STEPS[workflowId.slice(0, workflowId.indexOf(':'))] ?? [];
    const due = state.next && Date.parse(state.next.at) <= now;
    return resting.includes(state.step) && !due ? undefined : `${workflowId} is ${state.step}${due ? ` (${state.next?.action} due)` : ''}`;
  }

  /** Lets every flow reached run to its end (time-skipped), then reads its result and final state. */
  async finish(): Promise<Record<string, FlowEnd>> {
    const ends: Record<string, FlowEnd> = {};
    for (const workflowId of this.workflowIds.sort()) {
      const handle = this.bench.env.client.workflow.getHandle(workflowId);
      let end: FlowEnd['end'];
      try {
        end = { result: await handle.result() };
      } catch (error) {
        end = { failure: failureOf(error) };
      }
      const state = (await handle.query(stateQuery)) as FlowState;
      ends[this.normalize(workflowId)] = this.normalize({ end, state });
    }
    return ends;
  }

  /** Ends flows of a failed run still running, so they do not wake up in later runs. */
  async abandon(): Promise<void> {
    for (const workflowId of this.workflowIds) {
      await this.bench.env.client.workflow.getHandle(workflowId).terminate('property run failed').catch(() => undefined);
    }
  }

  /**
   * Stripe writes of this run: for each call (method and path), the idempotency keys it was sent
   * with. Throws if any key took effect twice (answered 2xx without being an idempotent replay).
   */
  writes(): Record<string, string[]> {
    const mine = this.bench.double.requests.filter((r) => r.method !== 'GET' && this.concerns(`${r.path} ${r.idempotencyKey ?? ''}`));
    const calls = new Map<string, Set<string>>();
    for (const r of mine) {
      const call = this.normalize(`${r.method} ${r.path}`);
      calls.set(call, (calls.get(call) ?? new Set()).add(this.normalize(r.idempotencyKey ?? '(no idempotency key)')));
    }
    const effects = new Map<string, number>();
    for (const r of this.bench.double.sideEffects()) {
      if (!mine.includes(r)) continue;
      const key = `${r.method} ${r.path} ${r.idempotencyKey ?? ''}`;
      effects.set(key, (effects.get(key) ?? 0) + 1);
    }
    const twice = [...effects].filter(([, n]) => n > 1).map(([key]) => this.normalize(key));
    if (twice.length) throw new Error(`Stripe applied a write twice under one idempotency key: ${twice.join(', ')}`);
    return Object.fromEntries([...calls].sort(([a], [b]) => a.localeCompare(b)).map(([call, keys]) => [call, [...keys].sort()]));
  }

  /** Notifications of this run's flows: `<idempotency key> <role>:<kind>`, each once, sorted. */
  notices(): string[] {
    const flows = new Set(this.workflowIds);
    const sent = this.bench.notices.filter((n) => flows.has(n.workflowId)).map((n) => this.normalize(`${n.idempotencyKey} ${n.recipient.role}:${n.kind}`));
    return [...new Set(sent)].sort();
  }

  /** Run-specific ids and times (in keys and values) replaced by their placeholders, ISO times by `<time>`, `at` fields dropped. */
  normalize<T>(value: T): T {
    const pairs = [...this.placeholders].sort(([a], [b]) => b.length - a.length);
    const text = (s: string) => {
      let out = s;
      for (const [id, placeholder] of pairs) out = out.split(id).join(placeholder);
      return ISO_TIME.test(out) ? '<time>' : out;
    };
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'at').map(([k, x]) => [text(k), walk(x)]));
      return v;
    };
    return walk(value) as T;
  }

  private concerns(text: string): boolean {
    for (const id of this.placeholders.keys()) if (id.length >= 8 && text.includes(id)) return true;
    return false;
  }
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * What a flow did, comparable across runs: its end, final step and status, details, and its
 * actions as a sorted list (the inbox's own `event ...` entries left out: which deliveries were
 * applied, dropped as duplicates or as stale is the delivery order's business).
 */
export function flowView(flow: FlowEnd | undefined) {
  if (!flow) return undefined;
  const { state } = flow;
  return {
    end: flow.end,
    step: state.step,
    status: state.status,
    details: state.details,
    done: state.done
      .filter((d) => !d.action.startsWith('event '))
      .map((d) => (d.detail ? `${d.action}: ${d.detail}` : d.action))
      .sort(),
  };
}

/** Polls (real time) until `probe` answers true; a string answer says what is still awaited. */
export async function waitFor(what: string, probe: () => Promise<true | string>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer === true) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${answer}`);
    await sleep(25);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function failureOf(error: unknown): string {
  if (error instanceof WorkflowFailedError) {
    const cause = error.cause;
    return cause instanceof ApplicationFailure ? `${cause.type ?? 'ApplicationFailure'}: ${cause.message}` : String(cause?.message ?? error.message);
  }
  return error instanceof Error ? error.message : String(error);
}
