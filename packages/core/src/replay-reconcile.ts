// Reconciliation, Node side: the activities a reconcile run calls (replay from the cursor, store
// the next cursor in the schedule) and the schedule itself, created or updated at worker start.
//
// The cursor lives in the Temporal Schedule's action input (`[{ cursor }]`): each run receives
// it as its input and, once its events are dispatched, writes the next one back with
// ScheduleHandle.update. Temporal keeps it for as long as the schedule exists, whatever happens to
// workers or to run histories (namespace retention), and Temporal UI shows it as the schedule's input.
import { fileURLToPath } from 'node:url';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type Stripe from 'stripe';
import type { Dispatcher } from './dispatcher.js';
import { oldestListableTime, replayStripeEvents, type ReplayCounts, type ReplayProgress } from './replay-engine.js';
import { stripeCall } from './stripe-calls.js';
import {
  RECONCILE_SCHEDULE_ID,
  RECONCILE_TASK_QUEUE,
  RECONCILE_WORKFLOW_ID,
  type ReconcileActivities,
  type ReconcileInput,
  type ReconcileRun,
} from './workflow/reconcile.js';
import { FlowDomainKey } from './workflow/search-attributes.js';

export {
  RECONCILE_SCHEDULE_ID,
  RECONCILE_TASK_QUEUE,
  RECONCILE_WORKFLOW_ID,
  type ReconcileActivities,
  type ReconcileInput,
  type ReconcileRun,
  type ReconcileRunResult,
} from './workflow/reconcile.js';

/** Path of the reconcile workflow module, for the worker that runs it. */
export const reconcileWorkflowsPath = fileURLToPath(new URL('./workflow/reconcile-entry.js', import.meta.url));

/** How far behind a run's start the next run begins: events listed late, or in the same second, are seen again. */
export const RECONCILE_SAFETY_MARGIN_MS = 5 * 60 * 1000;

/** Which connected accounts' event logs a run lists besides the platform's. */
export type ConnectAccountsSetting = 'all' | 'none' | readonly string[];

/** Reconciliation settings (the worker reads them from `RECONCILE_*`). */
export interface ReconcileSettings {
  /** Time between runs; null turns the schedule off (paused, cursor kept). */
  intervalMs: number | null;
  /** How far back the first run reaches (at most Stripe's 30 days). */
  lookbackMs: number;
  connectAccounts: ConnectAccountsSetting;
  /** Default {@link RECONCILE_SAFETY_MARGIN_MS}. */
  safetyMarginMs?: number;
}

/** The running activity's heartbeat and cancellation (from the worker's activity context). */
export interface ReconcileActivityContext {
  heartbeat(details?: unknown): void;
  readonly cancellationSignal: AbortSignal;
}

export interface ReconcileActivityDeps {
  /** Temporal client (same namespace and data converter as the worker) for the schedule. */
  client: Client;
  stripe: Stripe;
  /** The receiver's dispatcher over the enabled domains' routes. */
  dispatcher: Pick<Dispatcher, 'dispatch' | 'routesFor'>;
  /**
   * Event types to list, as the webhook endpoints subscribe them: the platform's log for types
   * routed on the platform endpoint, each connected account's log for those on the Connect
   * endpoint (`RouteRegistry.eventTypesFor`). Unrouted types could not reach a flow anyway.
   */
  eventTypes: { platform: readonly string[]; connect: readonly string[] };
  settings: Pick<ReconcileSettings, 'lookbackMs' | 'connectAccounts' | 'safetyMarginMs'>;
  scheduleId?: string;
  /** The current activity's context, when the worker provides it. */
  activityContext?: () => ReconcileActivityContext | undefined;
  now?: () => number;
}

/** The activities of the reconcile worker (task queue {@link RECONCILE_TASK_QUEUE}). */
export function createReconcileActivities(deps: ReconcileActivityDeps): ReconcileActivities {
  const now = deps.now ?? Date.now;
  const scheduleId = deps.scheduleId ?? RECONCILE_SCHEDULE_ID;
  const margin = deps.settings.safetyMarginMs ?? RECONCILE_SAFETY_MARGIN_MS;

  const accountsToList = async (): Promise<string[]> => {
    const setting = deps.settings.connectAccounts;
    if (setting === 'none' || deps.eventTypes.connect.length === 0) return [];
    if (setting !== 'all') return [...setting];
    const ids: string[] = [];
    await stripeCall('list connected accounts', async () => {
      for await (const account of deps.stripe.accounts.list({ limit: 100 })) ids.push(account.id);
    });
    return ids;
  };

  return {
    async replayEventsSinceCursor(input: ReconcileInput): Promise<ReconcileRun> {
      const startedAt = now();
      const context = deps.activityContext?.();
      const cursorMs = input.cursor ? Date.parse(input.cursor) : Number.NaN;
      let sinceMs = Number.isFinite(cursorMs) ? cursorMs : startedAt - deps.settings.lookbackMs;
      let warning = input.cursor !== undefined && !Number.isFinite(cursorMs) ? `The cursor "${input.cursor}" is not a time: listed over the lookback instead.` : undefined;
      // A minute of slack: the window must still be listable when the request reaches Stripe.
      const oldest = oldestListableTime(startedAt) + 60_000;
      if (sinceMs < oldest) {
        warning = `The cursor ${iso(sinceMs)} is older than Stripe's 30-day event retention: listed from ${iso(oldest)}; events before that can no longer be listed.`;
        sinceMs = oldest;
      }
      const accounts = await accountsToList();
      const totals: ReplayCounts = { listed: 0, delivered: 0, ignored: 0, quarantined: 0, unrouted: 0, invalid: 0, failed: 0 };
      let newest: ReconcileRun['newest'];
      const logs = [
        ...(deps.eventTypes.platform.length ? [{ account: undefined, types: deps.eventTypes.platform }] : []),
        ...accounts.map((account) => ({ account, types: deps.eventTypes.connect })),
      ];
      for (const { account, types } of logs) {
        const onProgress = (progress: ReplayProgress) => context?.heartbeat({ account: account ?? 'platform', ...progress });
        // Stripe refusing the listing fails the run for good (stripe.<code>); anything else, Temporal
        // refusing an event included (ReplayInterruptedError), fails the attempt, which is retried.
        const summary = await stripeCall(`list events${account ? ` of ${account}` : ''}`, () =>
          replayStripeEvents({
            stripe: deps.stripe,
            dispatcher: deps.dispatcher,
            since: new Date(sinceMs),
            types,
            ...(account ? { account } : {}),
            ...(context ? { signal: context.cancellationSignal } : {}),
            onProgress,
            progressIntervalMs: 5000,
          }),
        );
        if (summary.stopped) throw new Error('Cancelled while replaying; the next run starts from the same cursor.');
        for (const key of Object.keys(totals) as Array<keyof ReplayCounts>) totals[key] += summary[key];
        if (summary.newest && (!newest || summary.newest.created >= newest.created)) newest = summary.newest;
      }
      const nextCursor = Math.max(sinceMs, startedAt - margin);
      return {
        since: iso(sinceMs),
        cursor: iso(nextCursor),
        accounts: accounts.length,
        ...totals,
        ...(newest ? { newest } : {}),
        ...(warning ? { warning } : {}),
        summary: describeRun(totals, sinceMs, accounts.length, nextCursor, warning),
      };
    },

    async saveReconcileCursor({ cursor }): Promise<boolean> {
      let saved = false;
      try {
        await deps.client.schedule.getHandle(scheduleId).update((previous) => {
          const stored = cursorOf(previous);
          // Never backwards (a manual trigger may overlap a scheduled run).
          const next = stored && Date.parse(stored) >= Date.parse(cursor) ? stored : cursor;
          saved = next === cursor;
          return withInput(previous, { ...inputOf(previous), cursor: next });
        });
      } catch (error) {
        // Deleted meanwhile (reconciliation turned off and the schedule removed): nothing to keep.
        if (error instanceof ScheduleNotFoundError) return false;
        throw error;
      }
      return saved;
    },
  };
}

/** "12 events since ...: 3 delivered, ..." for the run's current details in Temporal UI. */
export function describeRun(counts: ReplayCounts, sinceMs: number, accounts: number, nextCursorMs: number, warning?: string): string {
  const where = accounts ? ` on the platform and ${accounts} connected account${accounts === 1 ? '' : 's'}` : '';
  const parts = [
    `${counts.delivered} delivered`,
    `${counts.ignored} ignored (no running flow, or the flow ended)`,
    ...(counts.quarantined ? [`${counts.quarantined} quarantined`] : []),
    ...(counts.unrouted ? [`${counts.unrouted} not routed`] : []),
    ...(counts.invalid ? [`${counts.invalid} invalid`] : []),
  ];
  const found = counts.listed
    ? `${counts.listed} event${counts.listed === 1 ? '' : 's'} since ${iso(sinceMs)}${where}: ${parts.join(', ')}; flows drop events they already had.`
    : `No events since ${iso(sinceMs)}${where}.`;
  return `${found} Next run from ${iso(nextCursorMs)}.${warning ? ` ${warning}` : ''}`;
}

/** What {@link ensureReconcileSchedule} did. */
export type ReconcileScheduleStatus = 'created' | 'updated' | 'paused' | 'absent';

/** Note on a schedule paused because the worker runs with RECONCILE_INTERVAL=off. */
const OFF_NOTE = 'Paused: the stripe-flows worker runs with RECONCILE_INTERVAL=off. Set an interval and restart the worker to resume (the cursor is kept).';

/**
 * Creates the reconcile schedule, or brings an existing one up to date (interval, policies, run
 * options), keeping its cursor and any pause an operator set. `intervalMs: null` pauses it.
 * Safe to call from every worker at start, concurrently.
 */
export async function ensureReconcileSchedule(
  client: Client,
  options: { intervalMs: number | null; scheduleId?: string; note?: string },
): Promise<ReconcileScheduleStatus> {
  const scheduleId = options.scheduleId ?? RECONCILE_SCHEDULE_ID;
  const handle = client.schedule.getHandle(scheduleId);
  if (options.intervalMs === null) {
    try {
      const { state } = await handle.describe();
      if (!state.paused) await handle.pause(OFF_NOTE);
      return 'paused';
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return 'absent';
      throw error;
    }
  }
  const every = options.intervalMs;
  const note = options.note ?? scheduleNote(every);
  const desired = {
    spec: { intervals: [{ every }] },
    // One run at a time; after an outage one catch-up run covers the gap (the cursor spans it).
    policies: { overlap: 'SKIP', catchupWindow: Math.max(every, 60_000), pauseOnFailure: false },
    action: {
      type: 'startWorkflow',
      workflowType: 'reconcileStripeEvents',
      workflowId: RECONCILE_WORKFLOW_ID,
      taskQueue: RECONCILE_TASK_QUEUE,
      workflowRunTimeout: '6 hours',
      typedSearchAttributes: [{ key: FlowDomainKey, value: 'reconcile' }],
      staticSummary: 'Reconcile: replay Stripe events the webhook endpoint may have missed',
    },
  } satisfies Omit<ScheduleOptions, 'scheduleId'>;
  try {
    await client.schedule.create({
      scheduleId,
      ...desired,
      action: { ...desired.action, args: [{} satisfies ReconcileInput] },
      state: { note },
      memo: {
        purpose: 'Replays Stripe events (GET /v1/events) through the webhook dispatch path so none is lost within 30 days.',
        cursor: "Kept in the action input as { cursor }: where the next run starts. Each run moves it on.",
        settings: 'RECONCILE_INTERVAL, RECONCILE_LOOKBACK, RECONCILE_CONNECT_ACCOUNTS on the worker',
      },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await handle.update((previous) => {
    // Paused by RECONCILE_INTERVAL=off before: resume. Paused by an operator: stay paused.
    const resume = previous.state.paused && previous.state.note === OFF_NOTE;
    const paused = previous.state.paused && !resume;
    return {
      ...withInput(previous, inputOf(previous)),
      spec: desired.spec,
      policies: desired.policies,
      action: { ...previous.action, ...desired.action, args: [inputOf(previous)] },
      state: { paused, note: paused ? previous.state.note : note, ...(previous.state.remainingActions !== undefined ? { remainingActions: previous.state.remainingActions } : {}) },
    };
  });
  return 'updated';
}

function scheduleNote(everyMs: number): string {
  return `Every ${formatInterval(everyMs)} the stripe-flows worker lists Stripe events (GET /v1/events) from the cursor in this schedule's input and dispatches them like the webhook receiver. Set by RECONCILE_INTERVAL.`;
}

/** The schedule's current input, `{}` when it has none. */
function inputOf(schedule: ScheduleDescription): ReconcileInput {
  const [arg] = schedule.action.args ?? [];
  const cursor = typeof arg === 'object' && arg !== null && typeof (arg as ReconcileInput).cursor === 'string' ? (arg as ReconcileInput).cursor : undefined;
  return cursor ? { cursor } : {};
}

/** The cursor a schedule holds (its input), if any. */
export function cursorOf(schedule: ScheduleDescription): string | undefined {
  return inputOf(schedule).cursor;
}

/** The whole schedule as it is, with a new input: what ScheduleHandle.update needs. */
function withInput(previous: ScheduleDescription, input: ReconcileInput) {
  return {
    spec: previous.spec,
    policies: previous.policies,
    action: { ...previous.action, args: [input] },
    state: {
      paused: previous.state.paused,
      ...(previous.state.note !== undefined ? { note: previous.state.note } : {}),
      ...(previous.state.remainingActions !== undefined ? { remainingActions: previous.state.remainingActions } : {}),
    },
    typedSearchAttributes: previous.typedSearchAttributes,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

function formatInterval(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
