// Property tests of the Connect flows share this harness: one time-skipping Temporal server, one
// Stripe API double and one connect Worker per file. Events built from Stripe's fixtures go
// through the real Dispatcher and the connect route table, as the receiver hands them on.
import fc from 'fast-check';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import {
  Dispatcher,
  RouteRegistry,
  stateQuery,
  stripeEventEnvelopeSchema,
  taskQueueFor,
  type DispatchOutcome,
  type FlowState,
  type Notification,
  type StripeEventEnvelope,
} from '@stripe-flows/core';
import { buildEvent, createTimeSkippingEnv, quietLogger, StripeApiDouble, type BuildEventOptions, type RecordedRequest } from '@stripe-flows/testing';
import { connect, createConnectActivities, REVERSED_FOR_KEY } from '../src/index.js';

export { DAY, HOUR } from '@stripe-flows/core/workflow';

/**
 * fast-check parameters for a flow property: 10 runs (each is a whole flow on the shared server),
 * or FC_RUNS; a fresh seed each time unless FC_SEED replays one (a failure message names its seed
 * and path). `examples` (counterexamples found before) run first, every time. Shrinking stops
 * after 90 s with the smallest counterexample so far, inside the test's timeout.
 */
export function propertyParameters(examples: ReadonlyArray<Delivery[]> = []): fc.Parameters<[Delivery[]]> {
  const runs = Number(process.env.FC_RUNS ?? 10);
  const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
  return {
    numRuns: runs,
    examples: examples.map((e) => [e]),
    plugins: [fc.interruptAfterTimeLimit(90_000) as fc.Plugin<[Delivery[]]>], // a plugin for any property
    ...(seed === undefined ? {} : { seed }),
  };
}

export interface Harness {
  env: TestWorkflowEnvironment;
  stripe: StripeApiDouble;
  dispatcher: Dispatcher;
  /** Notifications of the current run (cleared by {@link Harness.reset}). */
  notices: Notification[];
  /** The test server's clock, unix seconds. */
  now(): Promise<number>;
  /** Fresh Stripe state and notification log for the next run. */
  reset(): void;
  stop(): Promise<void>;
}

/** Server, Stripe double, and the connect Worker on its real task queue with real activities. */
export async function startHarness(): Promise<Harness> {
  const [env, stripe, workflowBundle] = await Promise.all([
    createTimeSkippingEnv(),
    StripeApiDouble.start(),
    bundleWorkflowCode({ workflowsPath: connect.workflowsPath, logger: quietLogger() }),
  ]);
  const notices: Notification[] = [];
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: taskQueueFor('connect'),
    workflowBundle,
    activities: createConnectActivities({
      stripe: stripe.client(),
      notifier: { notify: async (n) => void notices.push(n) },
      onboardingLinks: { refreshUrl: 'https://platform.example/connect/refresh', returnUrl: 'https://platform.example/connect/return' },
    }),
  });
  const running = worker.run();
  return {
    env,
    stripe,
    dispatcher: new Dispatcher({ client: env.client, registry: new RouteRegistry([connect]), deadlineMs: 10_000 }),
    notices,
    now: async () => Math.floor((await env.currentTimeMs()) / 1000),
    reset: () => {
      stripe.reset();
      notices.length = 0;
    },
    stop: async () => {
      worker.shutdown();
      await running;
      await stripe.stop();
      await env.teardown();
    },
  };
}

/** A Stripe event as the receiver has it after verification: envelope checked, fixture-shaped object. */
export function stripeEvent(type: string, options: BuildEventOptions): StripeEventEnvelope {
  return stripeEventEnvelopeSchema.parse(buildEvent(type, options));
}

/** One delivery: which event of the sequence, and whether the flow takes it in before the next one. */
export interface Delivery {
  event: number;
  pause: boolean;
}

/** Shown in counterexamples as `E2 E5⏸ E4 (E1: ...; E2: ...)`: ⏸, the flow took it in before the next delivery. */
function described(deliveries: Delivery[], labels: readonly string[]): Delivery[] {
  return Object.assign(deliveries, {
    [fc.toStringMethod]: () => `${deliveries.map((d) => `E${d.event + 1}${d.pause ? '⏸' : ''}`).join(' ')} (${labels.map((l, i) => `E${i + 1}: ${l}`).join('; ')})`,
  });
}

/** A schedule written as a counterexample prints: `E1 E2 E5⏸ E4` (⏸: taken in before the next). */
export function scripted(labels: readonly string[], script: string): Delivery[] {
  return described(
    script.split(/\s+/).map((step) => {
      const match = /^E(\d+)(⏸?)$/.exec(step);
      const event = Number(match?.[1]) - 1;
      if (!match || !labels[event]) throw new Error(`bad delivery "${step}" in "${script}"`);
      return { event, pause: match[2] === '⏸' };
    }),
    labels,
  );
}

/** The canonical run: every event once, in order, each taken in before the next. */
export function inOrder(labels: readonly string[]): Delivery[] {
  return described(labels.map((_, event) => ({ event, pause: true })), labels);
}

/**
 * Every event of the sequence delivered 1–3 times, in any order, back to back or with pauses.
 * Each copy draws a position; shrinking goes toward one copy each, the sequence's own order
 * (ties keep it) and no pauses.
 */
export function anyDeliveries(labels: readonly string[]): fc.Arbitrary<Delivery[]> {
  const copies = fc.array(fc.record({ at: fc.nat({ max: 1000 }), pause: fc.boolean() }), { minLength: 1, maxLength: 3 });
  return fc.array(copies, { minLength: labels.length, maxLength: labels.length }).map((perEvent) =>
    described(
      perEvent
        .flatMap((list, event) => list.map(({ at, pause }) => ({ at, event, pause })))
        .sort((a, b) => a.at - b.at)
        .map(({ event, pause }) => ({ event, pause })),
      labels,
    ),
  );
}

/** A flow run: its workflow, the events and their order, and what happens once they are in. */
export interface FlowRun {
  workflowId: string;
  events: readonly StripeEventEnvelope[];
  deliveries: readonly Delivery[];
  /** Steps in which the flow waits rather than acts. */
  idleSteps: readonly string[];
  /** After every delivery was taken in (time passing, Stripe moving on); the result is awaited next. */
  after?: () => Promise<void>;
}

export interface RunRecord<R, D> {
  /** The flow's state once it took in every delivery. */
  settled: FlowState<string, D>;
  final: FlowState<string, D>;
  result: R;
  requests: RecordedRequest[];
  notices: Notification[];
}

/** Deliver through the Dispatcher in the given order, then await the flow's result. */
export async function runFlow<R, D>(h: Harness, run: FlowRun): Promise<RunRecord<R, D>> {
  const handle = h.env.client.workflow.getHandle(run.workflowId);
  const outcomes: DispatchOutcome[] = [];
  let reached = 0;
  try {
    for (const delivery of run.deliveries) {
      const event = run.events[delivery.event];
      if (!event) throw new Error(`no event ${delivery.event} in the sequence`);
      const out = await h.dispatcher.dispatch(event);
      outcomes.push(...out);
      reached += out.filter((o) => o.workflowId === run.workflowId && o.result === 'delivered').length;
      if (delivery.pause) await settle<D>(h, run, reached);
    }
    const settled = await settle<D>(h, run, reached);
    if (!settled) throw new Error(`no delivery reached ${run.workflowId}: ${JSON.stringify(outcomes)}`);
    await run.after?.();
    const result = (await handle.result()) as R;
    const final = (await handle.query(stateQuery)) as FlowState<string, D>;
    return { settled, final, result, requests: [...h.stripe.requests], notices: h.notices.filter((n) => n.workflowId === run.workflowId) };
  } catch (error) {
    // A flow left running would hold the shared server's clock for the next run.
    await handle.terminate('property run failed').catch(() => undefined);
    throw error;
  }
}

/** Wait until the flow has taken in `reached` deliveries and waits (or has ended). */
async function settle<D>(h: Harness, run: FlowRun, reached: number): Promise<FlowState<string, D> | undefined> {
  if (reached === 0) return undefined; // nothing started it yet
  const handle = h.env.client.workflow.getHandle(run.workflowId);
  const giveUpAt = Date.now() + 30_000;
  for (let i = 1; ; i++) {
    const state = (await handle.query(stateQuery)) as FlowState<string, D>;
    const taken = state.events.applied + state.events.duplicates + state.events.stale;
    if (state.status !== 'running' || (taken >= reached && run.idleSteps.includes(state.step))) return state;
    // A flow that ended with deliveries still unread never counts them.
    if (i % 10 === 0 && (await handle.describe()).status.name !== 'RUNNING') return state;
    if (Date.now() > giveUpAt) throw new Error(`${run.workflowId} did not settle: took in ${taken} of ${reached} deliveries, step ${state.step}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Replaces this run's Stripe ids (and other per-run values) by their names, ISO times by `<time>`
 * and millisecond timestamps by `<ms>`, in strings and object keys alike.
 */
export function normalizer(names: Readonly<Record<string, string>>) {
  const pairs = Object.entries(names).sort(([a], [b]) => b.length - a.length);
  const text = (s: string): string =>
    pairs
      .reduce((out, [actual, name]) => out.split(actual).join(name), s)
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(/\b\d{13}\b/g, '<ms>');
  const value = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(value);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), value(x)]));
    return v;
  };
  return { text, value };
}
export type Normalizer = ReturnType<typeof normalizer>;

/** What the flow did, in order, without the per-event entries (which events apply depends on order). */
export function actionsDone(state: FlowState, norm: Normalizer): string[] {
  return state.done.filter((d) => !d.action.startsWith('event ')).map((d) => norm.text(d.detail ? `${d.action}: ${d.detail}` : d.action));
}

/**
 * Stripe writes by what they do (method, path, and the refund, dispute or account they are for):
 * the distinct idempotency keys each was requested under, and how many took effect (idempotent
 * replays excluded: a replay is the same write).
 */
export function stripeWrites(requests: readonly RecordedRequest[], norm: Normalizer): Record<string, { keys: string[]; tookEffect: number }> {
  const writes: Record<string, { keys: string[]; tookEffect: number }> = {};
  for (const r of requests) {
    if (r.method !== 'POST' && r.method !== 'DELETE') continue;
    const metadata = r.params.metadata as Record<string, unknown> | undefined;
    const target = metadata?.[REVERSED_FOR_KEY] ?? (r.path === '/v1/account_links' ? `${String(r.params.account)} ${String(r.params.type)}` : undefined);
    const what = norm.text(`${r.method} ${r.path}${target === undefined ? '' : ` for ${String(target)}`}`);
    const write = (writes[what] ??= { keys: [], tookEffect: 0 });
    // stripe-node puts a random key on a POST without one: a new key per attempt, i.e. no key of the flow's.
    const key = !r.idempotencyKey || r.idempotencyKey.startsWith('stripe-node-retry-') ? '(no flow key)' : norm.text(r.idempotencyKey);
    if (!write.keys.includes(key)) write.keys.push(key);
    if (!r.replayed && r.status >= 200 && r.status < 300) write.tookEffect++;
  }
  for (const write of Object.values(writes)) write.keys.sort();
  return writes;
}

/** Notifications by kind and recipient: the distinct idempotency keys each was sent under. */
export function noticeKeys(notices: readonly Notification[], norm: Normalizer): Record<string, string[]> {
  const keys: Record<string, string[]> = {};
  for (const n of notices) {
    const list = (keys[`${n.kind}→${n.recipient.role}`] ??= []);
    const key = norm.text(n.idempotencyKey);
    if (!list.includes(key)) list.push(key);
  }
  return keys;
}

/** Requests whose `Stripe-Account` is not the expected one: `GET /v1/payouts/<po> as acct_1 (expected platform)`. */
export function wrongStripeAccount(requests: readonly RecordedRequest[], expected: (r: RecordedRequest) => string | undefined, norm: Normalizer): string[] {
  return requests
    .filter((r) => r.stripeAccount !== expected(r))
    .map((r) => norm.text(`${r.method} ${r.path} as ${r.stripeAccount ?? 'platform'} (expected ${expected(r) ?? 'platform'})`));
}
