// Reconciliation: one run of the `stripe-flows.reconcile` Schedule. It replays Stripe's event log
// from the cursor the schedule carries (its action input) through the receiver's dispatch path,
// then moves the cursor on, so an outage or a disabled webhook endpoint loses nothing within
// Stripe's 30-day window. Runs are ordinary workflows: Temporal UI lists them under the schedule.
import { ActivityFailure, proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { FlowStatusKey } from './search-attributes.js';

/** Task queue of the reconcile worker. */
export const RECONCILE_TASK_QUEUE = 'stripe-flows.reconcile';
/** Id of the Temporal Schedule that starts the runs. */
export const RECONCILE_SCHEDULE_ID = 'stripe-flows.reconcile';
/** Workflow id of the runs; the schedule appends the run's time (`core.reconcile-2026-11-26T09:15:00Z`). */
export const RECONCILE_WORKFLOW_ID = 'core.reconcile';

/** The schedule's action input: where the next run starts. */
export interface ReconcileInput {
  /** ISO time; absent on the first run, which starts from now minus the lookback. */
  cursor?: string;
}

/** What one run found and where the next one starts. */
export interface ReconcileRun {
  /** ISO time the run listed from. */
  since: string;
  /** ISO time the next run starts from: this run's start minus the safety margin. */
  cursor: string;
  /** Connected accounts whose event logs were listed besides the platform's. */
  accounts: number;
  listed: number;
  delivered: number;
  ignored: number;
  quarantined: number;
  unrouted: number;
  invalid: number;
  /** Newest event listed. */
  newest?: { id: string; created: number };
  /** Set when the cursor was older than Stripe's 30-day retention. */
  warning?: string;
  /** One line for Temporal UI: what the run found. */
  summary: string;
}

export interface ReconcileRunResult extends ReconcileRun {
  /** False when the schedule was gone and the cursor could not be stored. */
  cursorSaved: boolean;
}

/** Activities the reconcile worker provides (`createReconcileActivities` in `@stripe-flows/core`). */
export interface ReconcileActivities {
  replayEventsSinceCursor(input: ReconcileInput): Promise<ReconcileRun>;
  saveReconcileCursor(input: { cursor: string }): Promise<boolean>;
}

// Listing and dispatching a 30-day backlog takes minutes; heartbeats (progress) catch a lost worker.
const { replayEventsSinceCursor } = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});
const { saveReconcileCursor } = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

export async function reconcileStripeEvents(input: ReconcileInput = {}): Promise<ReconcileRunResult> {
  setCurrentDetails(input.cursor ? `Listing Stripe events since ${input.cursor}` : 'First run: listing Stripe events over the lookback window');
  try {
    const run = await replayEventsSinceCursor(input);
    setCurrentDetails(run.summary);
    // A failed run stores nothing: the next one starts from the same cursor.
    const cursorSaved = await saveReconcileCursor({ cursor: run.cursor });
    upsertSearchAttributes([{ key: FlowStatusKey, value: 'completed' }]);
    return { ...run, cursorSaved };
  } catch (error) {
    const reason = error instanceof ActivityFailure ? (error.cause?.message ?? error.message) : error instanceof Error ? error.message : String(error);
    setCurrentDetails(`Failed: ${reason}. The next run starts from the same cursor.`);
    upsertSearchAttributes([{ key: FlowStatusKey, value: 'failed' }]);
    throw error;
  }
}
