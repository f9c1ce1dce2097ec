// Usage reporting API (Node side): checks usage records against Stripe's meter event rules before
// anything is sent, then hands them to the long-lived usage flow of their meter event name.
import type { Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { z } from 'zod';
import { FlowDomainKey, FlowStatusKey, flowWorkflowId, StripeObjectIdKey, stateQuery, taskQueueFor } from '@stripe-flows/core';
import { cancelUsageSignal, usageRecordsSignal, type reportUsage, type UsageRecord, type UsageState } from './workflows/report-usage.js';
import { meterEventLimits, resolveUsagePolicy, type UsagePolicy } from './workflows/usage-policy.js';

/** Records per signal: keeps each signal payload well under Temporal's payload limits. */
const RECORDS_PER_SIGNAL = 500;
const DAY_SECONDS = 24 * 60 * 60;

/** Workflow id of the usage flow of one meter event name: `billing.usage:<event_name>`. */
export function usageWorkflowId(eventName: string): string {
  return flowWorkflowId('billing', 'usage', eventName);
}

/** Usage records or cancellations that break Stripe's rules; nothing was sent. */
export class UsageValidationError extends Error {
  override readonly name = 'UsageValidationError';
  constructor(
    /** One line per problem: `records[2].timestamp: ...`. */
    readonly problems: readonly string[],
    what: string,
  ) {
    super(`${problems.length === 1 ? '1 problem' : `${problems.length} problems`} in the ${what}; nothing was sent:\n- ${problems.join('\n- ')}`);
  }
}

export interface UsageReporterOptions {
  /** Temporal client the flows are started and signalled with. */
  client: Client;
  /** Task queue of the billing worker. Default `stripe-flows.billing`. */
  taskQueue?: string;
  /** Policy of the flows this reporter starts (a flow already running keeps its own). */
  policy?: Partial<UsagePolicy>;
  /**
   * Accept negative values (Stripe subtracts them: a way to correct usage older than the
   * cancellation window). Default false: a negative value is refused as a likely mistake.
   */
  allowNegativeValues?: boolean;
  /** Clock for the timestamp window, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Which flow got what. */
export interface UsageDispatch {
  eventName: string;
  workflowId: string;
  /** Records (or cancellations) handed to the flow; it drops repeats by identifier. */
  count: number;
}

export interface UsageCancellationRequest {
  eventName: string;
  identifier: string;
}

export interface UsageReporter {
  /**
   * Checks every record, then hands them to the usage flow of their event name, which reports
   * them to Stripe in batches. Throws {@link UsageValidationError}, sending nothing, if any record
   * breaks Stripe's rules. Resolves once Temporal holds the records (they are durable from then).
   */
  report(records: readonly UsageRecord[]): Promise<UsageDispatch[]>;
  /**
   * Cancels usage by identifier: a record not yet sent is dropped; one sent within 24 h is
   * cancelled at Stripe; a later one is refused (see the flow's `state`).
   */
  cancel(cancellations: readonly UsageCancellationRequest[]): Promise<UsageDispatch[]>;
  /** The `state` of one meter event name's usage flow. */
  state(eventName: string): Promise<UsageState>;
}

/** A {@link UsageReporter} on a Temporal client. */
export function createUsageReporter(options: UsageReporterOptions): UsageReporter {
  const { client } = options;
  const taskQueue = options.taskQueue ?? taskQueueFor('billing');
  if (options.policy) resolveUsagePolicy(options.policy); // a bad policy fails here, not in the flow
  const policy = options.policy;
  const now = options.now ?? Date.now;

  const dispatch = async <T>(
    items: ReadonlyArray<T & { eventName: string }>,
    send: (eventName: string, workflowId: string, chunk: T[]) => Promise<unknown>,
  ): Promise<UsageDispatch[]> => {
    const byEvent = new Map<string, T[]>();
    for (const item of items) {
      const group = byEvent.get(item.eventName);
      if (group) group.push(item);
      else byEvent.set(item.eventName, [item]);
    }
    return Promise.all(
      [...byEvent].map(async ([eventName, group]) => {
        const workflowId = usageWorkflowId(eventName);
        // In order, so a flow sees one caller's records in the order given.
        for (let i = 0; i < group.length; i += RECORDS_PER_SIGNAL) await send(eventName, workflowId, group.slice(i, i + RECORDS_PER_SIGNAL));
        return { eventName, workflowId, count: group.length };
      }),
    );
  };

  const start = (eventName: string, workflowId: string) => ({
    workflowId,
    taskQueue,
    args: [{ eventName, ...(policy ? { policy } : {}) }] as Parameters<typeof reportUsage>,
    typedSearchAttributes: [
      { key: StripeObjectIdKey, value: eventName },
      { key: FlowDomainKey, value: 'billing' },
      { key: FlowStatusKey, value: 'running' },
    ] satisfies SearchAttributePair[],
    staticSummary: `Usage reporting for meter event ${eventName}`,
    // Default id reuse policy: if an earlier flow for this meter ended, a new one starts.
  });

  return {
    async report(records) {
      const { problems, clean } = checkRecords(records, { nowSeconds: Math.floor(now() / 1000), allowNegativeValues: options.allowNegativeValues ?? false });
      if (problems.length) throw new UsageValidationError(problems, 'usage records');
      return dispatch(clean, (eventName, workflowId, chunk) =>
        client.workflow.signalWithStart<typeof reportUsage, [UsageRecord[]]>('reportUsage', {
          ...start(eventName, workflowId),
          signal: usageRecordsSignal,
          signalArgs: [chunk],
        }),
      );
    },

    async cancel(cancellations) {
      const problems = checkCancellations(cancellations);
      if (problems.length) throw new UsageValidationError(problems, 'usage cancellations');
      return dispatch(cancellations, (eventName, workflowId, chunk) =>
        client.workflow.signalWithStart<typeof reportUsage, [string[]]>('reportUsage', {
          ...start(eventName, workflowId),
          signal: cancelUsageSignal,
          signalArgs: [chunk.map((c) => c.identifier)],
        }),
      );
    },

    async state(eventName) {
      return (await client.workflow.getHandle(usageWorkflowId(eventName)).query(stateQuery)) as UsageState;
    },
  };
}

// Identifiers and event names go into workflow ids and Idempotency-Key headers: printable ASCII.
const PRINTABLE = /^[\x21-\x7e]*$/; // empty is min(1)'s to report
const shown = (input: unknown) => (typeof input === 'string' ? JSON.stringify(input) : String(input));

const nameField = (what: string) =>
  z
    .string({ error: (iss) => `must be a string (got ${shown(iss.input)})` })
    .min(1, { error: `must not be empty` })
    .max(meterEventLimits.maxIdentifierLength, { error: (iss) => `is ${String((iss.input as string).length)} characters; Stripe accepts at most ${meterEventLimits.maxIdentifierLength} for ${what}` })
    .regex(PRINTABLE, { error: `must be printable ASCII without spaces (it becomes part of the workflow id and Idempotency-Key)` });

const usageRecordSchema = z.object({
  identifier: nameField('an identifier'),
  eventName: nameField('an event name'),
  customerId: z
    .string({ error: (iss) => `must be a Stripe customer id, cus_... (got ${shown(iss.input)})` })
    .regex(/^cus_[A-Za-z0-9]+$/, { error: (iss) => `must be a Stripe customer id, cus_... (got ${shown(iss.input)})` }),
  value: z.int({ error: (iss) => `must be a whole number; Stripe meters accept only whole usage values (got ${shown(iss.input)})` }),
  timestamp: z.int({ error: (iss) => `must be whole unix seconds (got ${shown(iss.input)})` }),
});

/** Problems of each record, as `records[i].field: what is wrong`, and the records as parsed. */
function checkRecords(records: readonly unknown[], at: { nowSeconds: number; allowNegativeValues: boolean }): { problems: string[]; clean: UsageRecord[] } {
  if (!Array.isArray(records)) return { problems: ['records: must be an array of usage records'], clean: [] };
  const problems: string[] = [];
  const clean: UsageRecord[] = [];
  const first = new Map<string, { index: number; record: UsageRecord }>();
  records.forEach((raw, index) => {
    const parsed = usageRecordSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`records[${index}]${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
      return;
    }
    const record = parsed.data;
    clean.push(record);
    const timeProblem = timestampProblem(record.timestamp, at.nowSeconds);
    if (timeProblem) problems.push(`records[${index}].timestamp: ${timeProblem}`);
    if (record.value < 0 && !at.allowNegativeValues) {
      problems.push(`records[${index}].value: ${record.value} is negative; to correct usage with negative values, create the reporter with allowNegativeValues: true`);
    }
    // An identical repeat is harmless (the flow drops it); the same identifier for other usage is a bug.
    const earlier = first.get(record.identifier);
    if (!earlier) first.set(record.identifier, { index, record });
    else if (!sameUsage(earlier.record, record)) {
      problems.push(`records[${index}].identifier: ${JSON.stringify(record.identifier)} is also records[${earlier.index}].identifier, with different usage; each usage needs its own identifier`);
    }
  });
  return { problems, clean };
}

function timestampProblem(timestamp: number, nowSeconds: number): string | undefined {
  if (timestamp > 100_000_000_000) return `${timestamp} looks like milliseconds; pass unix seconds (Math.floor(ms / 1000))`;
  const age = nowSeconds - timestamp;
  if (age > meterEventLimits.maxPastSeconds) {
    return `${timestamp} is ${days(age)} old; Stripe accepts meter events up to ${meterEventLimits.maxPastSeconds / DAY_SECONDS} days in the past`;
  }
  if (-age > meterEventLimits.maxFutureSeconds) {
    return `${timestamp} is ${minutes(-age)} in the future; Stripe accepts meter events at most ${meterEventLimits.maxFutureSeconds / 60} minutes ahead (check the clock that stamped it)`;
  }
  return undefined;
}

function checkCancellations(cancellations: readonly unknown[]): string[] {
  if (!Array.isArray(cancellations)) return ['cancellations: must be an array of { eventName, identifier }'];
  const schema = z.object({ eventName: nameField('an event name'), identifier: nameField('an identifier') });
  return cancellations.flatMap((raw, index) => {
    const parsed = schema.safeParse(raw);
    return parsed.success ? [] : parsed.error.issues.map((issue) => `cancellations[${index}]${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
  });
}

const sameUsage = (a: UsageRecord, b: UsageRecord) =>
  a.eventName === b.eventName && a.customerId === b.customerId && a.value === b.value && a.timestamp === b.timestamp;

const days = (seconds: number) => `${Number((seconds / DAY_SECONDS).toFixed(1))} days`;
const minutes = (seconds: number) => `${Number((seconds / 60).toFixed(1))} minutes`;

export type { UsageRecord, UsageState } from './workflows/report-usage.js';
