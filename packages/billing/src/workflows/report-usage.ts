// Usage reporting: one long-lived flow per meter event name takes usage records by signal, drops
// repeats by identifier, and reports them to Stripe in batches (each record with its identifier,
// which Stripe dedups on, and an idempotency key). A cancellation within Stripe's 24 h window
// becomes a meter event adjustment; a later one is refused with the reason, without a call.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { EventInbox, FlowTracker, idempotencyKeyFor, type FlowState, activityProfiles, policyFromInput, HOUR } from '@stripe-flows/core/workflow';
import type { MeterEventOutcome, UsageActivities } from '../activities/usage.js';
import { meterEventLimits, resolveUsagePolicy, type UsagePolicy } from './usage-policy.js';

/** One usage record: `value` of `eventName` used by `customerId` at `timestamp`. */
export interface UsageRecord {
  /** Caller-chosen, unique per usage (Stripe dedups on it); at most 100 characters. */
  identifier: string;
  /** The meter's event name. */
  eventName: string;
  /** `cus_...` */
  customerId: string;
  /** Whole number. */
  value: number;
  /** Unix seconds: within the past 35 days and at most 5 minutes ahead. */
  timestamp: number;
}

/** Usage records for this flow's meter (the API sends them; any number per signal). */
export const usageRecordsSignal = defineSignal<[UsageRecord[]]>('usageRecords');
/** Identifiers whose usage must not count. */
export const cancelUsageSignal = defineSignal<[string[]]>('cancelUsage');

export type UsageStep = 'waiting_for_usage' | 'collecting' | 'sending' | 'cancelling';

export interface UsageCounts {
  /** Records taken in (first time their identifier was seen). */
  received: number;
  /** Records dropped because their identifier was already seen here or already held by Stripe. */
  duplicates: number;
  /** Waiting for the next batch. */
  buffered: number;
  /** Accepted by Stripe. */
  sent: number;
  /** Refused by Stripe, malformed, or not sent (see `failures`). */
  failed: number;
  /** Dropped before sending, or cancelled at Stripe. */
  cancelled: number;
  /** Cancellations refused: past the window, or by Stripe (see `cancellations`). */
  cancelRefused: number;
}

export interface UsageFailure {
  identifier: string;
  customerId: string;
  code: string;
  reason: string;
  at: string;
}

export interface UsageCancellation {
  identifier: string;
  outcome: 'dropped_before_send' | 'cancelled' | 'refused' | 'not_reported';
  reason?: string;
  at: string;
}

export interface UsageDetails extends Record<string, unknown> {
  eventName: string;
  counts: UsageCounts;
  /** When the waiting records go out (ISO), or null when none wait. */
  nextFlushAt: string | null;
  /** Latest failures, oldest first (bounded). */
  failures: UsageFailure[];
  /** Latest cancellation outcomes, oldest first (bounded). */
  cancellations: UsageCancellation[];
}

/** What `state` answers for a usage flow. */
export type UsageState = FlowState<UsageStep, UsageDetails>;

type LedgerStatus = 'buffered' | 'sending' | 'sent' | 'failed' | 'cancelled';
/** A waiting record; `attempt` counts earlier failed sends of its identifier (new idempotency key each). */
type BufferedRecord = UsageRecord & { receivedAt: number; attempt: number };
type LedgerEntry = { status: LedgerStatus; at: number; attempt: number };

export interface ReportUsageInput {
  eventName: string;
  policy?: Partial<UsagePolicy>;
  /** Carried across continue-as-new. */
  carried?: {
    /** [identifier, status, when (ms; for `sent`, when the send began), attempt], oldest first. */
    ledger: Array<[string, LedgerStatus, number, number]>;
    buffer: BufferedRecord[];
    pendingCancels: string[];
    counts: Omit<UsageCounts, 'buffered'>;
    failures: UsageFailure[];
    cancellations: UsageCancellation[];
    done: FlowState['done'];
  };
}

// Batches report per record and heartbeat their progress; writes stop retrying well inside
// Stripe's 24 h idempotency window (profiles.stripeWrite).
const sending = proxyActivities<UsageActivities>({
  ...activityProfiles.stripeWrite,
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '2 minutes',
});
const cancelling = proxyActivities<UsageActivities>(activityProfiles.stripeWrite);

const MAX_LISTED = 50;

export async function reportUsage(input: ReportUsageInput): Promise<void> {
  const policy: UsagePolicy = policyFromInput(resolveUsagePolicy, input.policy);
  const { eventName } = input;
  const workflowId = workflowInfo().workflowId;
  const carried = input.carried;

  // Every identifier seen, with what became of it; bounded, oldest forgotten first. Stripe's own
  // identifier dedup (>= 24 h) backs it up for what this flow has forgotten.
  const ledger = new Map<string, LedgerEntry>((carried?.ledger ?? []).map(([id, status, at, attempt]) => [id, { status, at, attempt }]));
  const buffer = new Map<string, BufferedRecord>((carried?.buffer ?? []).map((r) => [r.identifier, r]));
  const pendingCancels: string[] = [...(carried?.pendingCancels ?? [])];
  const counts = { ...(carried?.counts ?? { received: 0, duplicates: 0, sent: 0, failed: 0, cancelled: 0, cancelRefused: 0 }) };
  const failures: UsageFailure[] = [...(carried?.failures ?? [])];
  const cancellations: UsageCancellation[] = [...(carried?.cancellations ?? [])];
  let offeredThisRun = 0;

  const setLedger = (identifier: string, status: LedgerStatus, at = Date.now(), attempt = ledger.get(identifier)?.attempt ?? 0) => {
    ledger.delete(identifier);
    ledger.set(identifier, { status, at, attempt });
    if (ledger.size <= policy.dedupCapacity) return;
    for (const [id, entry] of ledger) {
      if (ledger.size <= policy.dedupCapacity) break;
      if (entry.status !== 'buffered' && entry.status !== 'sending') ledger.delete(id);
    }
  };
  const listed = <T>(list: T[], item: T) => {
    list.push(item);
    if (list.length > MAX_LISTED) list.splice(0, list.length - MAX_LISTED);
  };
  const fail = (identifier: string, customerId: string, code: string, reason: string) => {
    counts.failed++;
    listed(failures, { identifier, customerId, code, reason, at: new Date().toISOString() });
  };
  const cancelOutcome = (identifier: string, outcome: UsageCancellation['outcome'], reason?: string) =>
    listed(cancellations, { identifier, outcome, ...(reason ? { reason } : {}), at: new Date().toISOString() });

  const flushDueAt = (): number | undefined => {
    const oldest = buffer.values().next().value;
    return oldest ? oldest.receivedAt + policy.maxBatchDelaySeconds * 1000 : undefined;
  };
  const details = (): UsageDetails => {
    const due = flushDueAt();
    return {
      eventName,
      counts: { ...counts, buffered: buffer.size },
      nextFlushAt: due === undefined ? null : new Date(due).toISOString(),
      failures: [...failures],
      cancellations: [...cancellations],
    };
  };
  // Usage flows receive no Stripe events: the inbox only gives `state` its (empty) event counts.
  const tracker = new FlowTracker<UsageStep, UsageDetails>(new EventInbox(), {
    step: 'waiting_for_usage',
    details: details(),
    ...(carried ? { done: carried.done } : {}),
  });
  // Any failure from here on ends the flow visibly failed (state query, FlowStatus).
  return tracker.run(async () => {
    const refresh = () => void (tracker.state.details = details());

    const take = (record: UsageRecord) => {
      offeredThisRun++;
      const identifier = typeof record?.identifier === 'string' ? record.identifier : '';
      const problem = malformed(record, eventName);
      if (problem) return fail(identifier || '(none)', String(record?.customerId ?? ''), 'invalid_record', problem);
      const known = ledger.get(identifier);
      // A record that failed may come again (fixed, or after an outage): it gets a fresh attempt.
      const attempt = known?.status === 'failed' ? known.attempt + 1 : 0;
      if (known && known.status !== 'failed') {
        counts.duplicates++;
        const first = buffer.get(identifier);
        if (first && (first.value !== record.value || first.customerId !== record.customerId || first.timestamp !== record.timestamp)) {
          tracker.record('ignored a repeat with different content', `identifier ${identifier}: the first record is kept`);
        }
        return;
      }
      counts.received++;
      buffer.set(identifier, { ...record, receivedAt: Date.now(), attempt });
      setLedger(identifier, 'buffered', Date.now(), attempt);
    };

    const requestCancel = (identifier: string) => {
      if (typeof identifier !== 'string' || identifier === '') return;
      const entry = ledger.get(identifier);
      if (entry?.status === 'buffered') {
        // Not sent yet: dropping it is the whole cancellation.
        buffer.delete(identifier);
        setLedger(identifier, 'cancelled');
        counts.cancelled++;
        cancelOutcome(identifier, 'dropped_before_send');
      } else if (entry?.status === 'failed') {
        cancelOutcome(identifier, 'not_reported', 'Stripe never accepted this record (see failures), so there is nothing to cancel.');
      } else if (entry?.status !== 'cancelled' && !pendingCancels.includes(identifier)) {
        // Sent, in flight, or unknown here: settled in the main loop, after any batch in flight.
        pendingCancels.push(identifier);
      }
    };

    setHandler(usageRecordsSignal, (records) => {
      for (const record of Array.isArray(records) ? records : []) take(record);
      refresh();
    });
    setHandler(cancelUsageSignal, (identifiers) => {
      for (const identifier of Array.isArray(identifiers) ? identifiers : []) requestCancel(identifier);
      refresh();
    });

    const flush = async (): Promise<void> => {
      const batch = [...buffer.values()].slice(0, policy.maxBatchSize);
      // Stripe's cancel window runs from when it received the event, never before this send began:
      // measuring from here keeps the window on the safe side, retries included.
      const sentAt = Date.now();
      for (const record of batch) {
        buffer.delete(record.identifier);
        setLedger(record.identifier, 'sending', sentAt);
      }
      tracker.step('sending', `Sending ${batch.length} ${eventName} meter events to Stripe`);
      refresh();
      let outcomes: MeterEventOutcome[];
      try {
        outcomes = await sending.sendMeterEvents({
          eventName,
          concurrency: policy.concurrency,
          records: batch.map((r) => ({
            identifier: r.identifier,
            customerId: r.customerId,
            value: r.value,
            timestamp: r.timestamp,
            idempotencyKey: meterEventKey(workflowId, r),
          })),
        });
      } catch (error) {
        // Retries are over, or the failure is not about single records (API key): the batch's fate is unknown.
        const { code, message } = describeFailure(error);
        const reason = `Not confirmed as reported: ${message}. Report these records again with the same identifiers once the cause is fixed; Stripe drops any it already holds.`;
        outcomes = batch.map((r) => ({ identifier: r.identifier, outcome: 'rejected', code, message: reason }));
      }
      const byId = new Map(outcomes.map((o) => [o.identifier, o]));
      const tally = { reported: 0, duplicate: 0, rejected: 0 };
      for (const record of batch) {
        const outcome = byId.get(record.identifier) ?? { identifier: record.identifier, outcome: 'rejected', code: 'no_outcome', message: 'The batch returned no outcome for this record.' };
        tally[outcome.outcome]++;
        if (outcome.outcome === 'rejected') {
          setLedger(record.identifier, 'failed');
          fail(record.identifier, record.customerId, outcome.code, outcome.message);
          continue;
        }
        setLedger(record.identifier, 'sent', sentAt);
        if (outcome.outcome === 'reported') counts.sent++;
        else counts.duplicates++;
      }
      tracker.record(`sent ${batch.length} meter events`, `${tally.reported} reported, ${tally.duplicate} already at Stripe, ${tally.rejected} failed`);
    };

    const settleCancels = async (): Promise<void> => {
      tracker.step('cancelling', `Cancelling ${pendingCancels.length} ${eventName} meter events`);
      for (let identifier = pendingCancels.shift(); identifier !== undefined; identifier = pendingCancels.shift()) {
        const entry = ledger.get(identifier);
        if (entry?.status === 'buffered' || entry?.status === 'failed') {
          requestCancel(identifier); // reported again meanwhile, or refused by Stripe: settled locally
          continue;
        }
        if (entry?.status === 'cancelled') continue;
        const windowMs = policy.cancelWindowHours * HOUR;
        if (entry?.status === 'sent' && Date.now() - entry.at > windowMs) {
          counts.cancelRefused++;
          cancelOutcome(
            identifier,
            'refused',
            `Sent to Stripe at ${new Date(entry.at).toISOString()}, more than ${policy.cancelWindowHours} h ago; Stripe cancels meter events only within ${meterEventLimits.cancelWindowHours} h of receiving them. Report a correcting negative value instead.`,
          );
          continue;
        }
        // Sent within the window, or unknown here (forgotten, or reported by an earlier flow): Stripe decides.
        try {
          await cancelling.cancelMeterEvent({ eventName, identifier, idempotencyKey: idempotencyKeyFor(workflowId, `cancel:${identifier}`) });
          setLedger(identifier, 'cancelled');
          counts.cancelled++;
          cancelOutcome(identifier, 'cancelled');
          tracker.record('cancelled meter event', identifier);
        } catch (error) {
          counts.cancelRefused++;
          cancelOutcome(identifier, 'refused', `Stripe refused the cancellation: ${describeFailure(error).message}`);
        }
      }
    };

    const continueAsNewDue = () => offeredThisRun >= policy.maxRecordsPerRun || workflowInfo().continueAsNewSuggested;

    for (;;) {
      if (pendingCancels.length > 0) {
        await settleCancels();
        refresh();
        continue;
      }
      const due = flushDueAt();
      if (buffer.size >= policy.maxBatchSize || (due !== undefined && due <= Date.now())) {
        await flush();
        refresh();
        continue;
      }
      if (continueAsNewDue()) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof reportUsage>({
          eventName,
          ...(input.policy ? { policy: input.policy } : {}),
          carried: {
            ledger: [...ledger].map(([id, entry]) => [id, entry.status, entry.at, entry.attempt]),
            buffer: [...buffer.values()],
            pendingCancels: [...pendingCancels],
            counts,
            failures,
            cancellations,
            done: tracker.state.done,
          },
        });
      }

      refresh();
      if (due === undefined) {
        tracker.next(undefined);
        tracker.step('waiting_for_usage', `Waiting for ${eventName} usage`);
      } else {
        tracker.next(`send ${buffer.size} meter events`, due);
        tracker.step('collecting', `${buffer.size} ${eventName} records wait; sending at ${new Date(due).toISOString()}`);
      }
      const wake = () =>
        pendingCancels.length > 0 || buffer.size >= policy.maxBatchSize || (due === undefined && buffer.size > 0) || continueAsNewDue();
      if (due === undefined) await condition(wake);
      else await condition(wake, due - Date.now());
    }
  });
}

/**
 * Idempotency key of one send of a record: the same across activity retries and runs; a new one
 * per attempt, since Stripe may have stored the failed answer under the old key. At most
 * 14 + 100 + 13 + 100 + 6 characters, so never truncated (never shared by two records).
 */
function meterEventKey(workflowId: string, record: BufferedRecord): string {
  return idempotencyKeyFor(workflowId, `meter-event:${record.identifier}${record.attempt > 0 ? `#${record.attempt}` : ''}`);
}

/** Why a record cannot be sent as it is (signals may come from anywhere, not only the API). */
function malformed(record: UsageRecord | undefined, eventName: string): string | undefined {
  if (typeof record !== 'object' || record === null) return 'not a usage record object';
  if (typeof record.identifier !== 'string' || record.identifier === '' || record.identifier.length > meterEventLimits.maxIdentifierLength) {
    return `identifier must be a string of 1 to ${meterEventLimits.maxIdentifierLength} characters`;
  }
  if (record.eventName !== eventName) return `eventName is ${JSON.stringify(record.eventName)}, but this flow reports ${JSON.stringify(eventName)}`;
  if (typeof record.customerId !== 'string' || !record.customerId.startsWith('cus_')) return 'customerId must be a customer id (cus_...)';
  if (!Number.isSafeInteger(record.value)) return `value must be a whole number (got ${String(record.value)})`;
  if (!Number.isSafeInteger(record.timestamp)) return `timestamp must be unix seconds (got ${String(record.timestamp)})`;
  return undefined;
}

/** Code and message of an activity failure (its cause: Stripe's error, or the retry limit). */
function describeFailure(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'activity_failed', message: cause.message };
  return { code: 'activity_failed', message: cause instanceof Error ? cause.message : String(cause) };
}
