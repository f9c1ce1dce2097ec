import { activityInfo, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { stripeCall, toActivityFailure } from '@stripe-flows/core';
import { requestOptions, type BillingActivityDeps } from './shared.js';

/** One usage record as it goes to `POST /v1/billing/meter_events`. */
export interface MeterEventToSend {
  identifier: string;
  customerId: string;
  /** Whole number (Stripe accepts only whole usage values). */
  value: number;
  /** Unix seconds. */
  timestamp: number;
  /** Stable across activity retries and workflow runs. */
  idempotencyKey: string;
}

export interface MeterEventBatch {
  eventName: string;
  records: MeterEventToSend[];
  /** Calls in flight at once; one customer's records always go one after another. */
  concurrency: number;
  /** Connected account the meter lives on (Connect). */
  account?: string;
}

/** What became of one record of a batch. */
export type MeterEventOutcome =
  | { identifier: string; outcome: 'reported' }
  /** Stripe already holds an event with this identifier: the usage counts once, already. */
  | { identifier: string; outcome: 'duplicate' }
  /** Stripe refused this record (4xx); not retried. */
  | { identifier: string; outcome: 'rejected'; code: string; message: string };

export interface MeterEventCancellation {
  eventName: string;
  identifier: string;
  idempotencyKey: string;
  account?: string;
}

/** Progress kept in heartbeat details, so a retried batch does not resend what already went. */
interface BatchProgress {
  done: MeterEventOutcome[];
}

/** Usage reporting's Stripe calls: meter events in batches, and their cancellation. */
export function createUsageActivities({ stripe }: Pick<BillingActivityDeps, 'stripe'>) {
  /** One record: reported, duplicate or rejected; anything else (429, 5xx, auth) is thrown. */
  const sendOne = async (batch: MeterEventBatch, record: MeterEventToSend): Promise<MeterEventOutcome> => {
    const { identifier } = record;
    try {
      await stripe.billing.meterEvents.create(
        {
          event_name: batch.eventName,
          payload: { stripe_customer_id: record.customerId, value: String(record.value) },
          identifier,
          timestamp: record.timestamp,
        },
        requestOptions({ idempotencyKey: record.idempotencyKey, ...(batch.account ? { account: batch.account } : {}) }),
      );
      return { identifier, outcome: 'reported' };
    } catch (error) {
      if (isDuplicateIdentifier(error)) return { identifier, outcome: 'duplicate' };
      const failure = toActivityFailure(`POST /v1/billing/meter_events (identifier ${identifier})`, error);
      const e = error as StripeLikeError;
      // A 400/404 is about this record (bad customer, timestamp, value): the rest of the batch goes on.
      if (failure instanceof ApplicationFailure && (e.statusCode === 400 || e.statusCode === 404)) {
        return { identifier, outcome: 'rejected', code: e.code ?? e.type ?? 'invalid_request', message: e.message ?? failure.message };
      }
      throw failure;
    }
  };

  return {
    /**
     * Posts each record of the batch to `/v1/billing/meter_events` with its identifier and
     * idempotency key, `concurrency` at a time, and answers one outcome per record. Rate limits,
     * 5xx and network errors stop the batch and fail the activity, so Temporal retries it with
     * backoff; records already done are not sent again.
     */
    async sendMeterEvents(batch: MeterEventBatch): Promise<MeterEventOutcome[]> {
      const done = new Map(restoredProgress().map((o) => [o.identifier, o]));
      // One lane per customer, in record order; lanes run side by side.
      const lanes = new Map<string, MeterEventToSend[]>();
      for (const record of batch.records) {
        if (done.has(record.identifier)) continue;
        const lane = lanes.get(record.customerId) ?? [];
        lane.push(record);
        lanes.set(record.customerId, lane);
      }
      const queue = [...lanes.values()];
      let stop: { error: unknown } | undefined;
      const worker = async () => {
        for (let lane = queue.shift(); lane && !stop; lane = queue.shift()) {
          for (const record of lane) {
            if (stop) return;
            try {
              const outcome = await sendOne(batch, record);
              done.set(record.identifier, outcome);
              heartbeat({ done: [...done.values()] } satisfies BatchProgress);
            } catch (error) {
              stop ??= { error };
              return;
            }
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(batch.concurrency, queue.length)) }, worker));
      if (stop) throw stop.error;
      return batch.records.flatMap((r) => done.get(r.identifier) ?? []);
    },

    /** `POST /v1/billing/meter_event_adjustments` type=cancel for one identifier. */
    async cancelMeterEvent(call: MeterEventCancellation): Promise<{ status: string }> {
      const adjustment = await stripeCall(`POST /v1/billing/meter_event_adjustments (identifier ${call.identifier})`, () =>
        stripe.billing.meterEventAdjustments.create(
          { event_name: call.eventName, type: 'cancel', cancel: { identifier: call.identifier } },
          requestOptions(call),
        ),
      );
      return { status: adjustment.status };
    },
  };
}

export type UsageActivities = ReturnType<typeof createUsageActivities>;

interface StripeLikeError {
  type?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * Stripe refuses an identifier it already holds (uniqueness is enforced for at least 24 h) with a
 * 400 "An event already exists with identifier ..." that may carry no code, so the message counts.
 */
function isDuplicateIdentifier(error: unknown): boolean {
  const e = error as StripeLikeError | undefined;
  return e?.statusCode === 400 && (e.code === 'duplicate_meter_event' || /event already exists with identifier/i.test(e.message ?? ''));
}

function restoredProgress(): MeterEventOutcome[] {
  const details = activityInfo().heartbeatDetails as Partial<BatchProgress> | undefined;
  return Array.isArray(details?.done) ? details.done : [];
}
