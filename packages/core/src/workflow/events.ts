import { defineQuery, defineSignal } from '@temporalio/workflow';

/**
 * What a flow receives for one Stripe event: the envelope fields that matter for ordering and
 * dedup, plus the route's projection of `data.object` (only the fields the flow reads).
 */
export interface FlowEvent<P = unknown> {
  /** Stripe event id (`evt_...`): the dedup key. */
  id: string;
  type: string;
  /** Unix seconds; one-second resolution, so ties are common. */
  created: number;
  livemode: boolean;
  /** Connected account the event came from (Connect events only). */
  account?: string;
  object: P;
  /** Keys of `data.previous_attributes`, for `*.updated` events (values are not carried). */
  changed?: string[];
}

/** The one signal every flow receives events through. */
export const stripeEventSignal = defineSignal<[FlowEvent]>('stripeEvent');

/** What every flow answers to the `state` query. */
export interface FlowState<S extends string = string, D = Record<string, unknown>> {
  /** Current step, in business words (`waiting_for_retry`, `reminded`, ...). */
  step: S;
  status: 'running' | 'completed' | 'failed';
  /** The next thing the flow will do on its own, and when (ISO time). */
  next?: { action: string; at: string };
  /** What the flow has done so far, oldest first. */
  done: Array<{ at: string; action: string; detail?: string }>;
  /** Events applied / ignored as duplicates / ignored as stale. */
  events: { applied: number; duplicates: number; stale: number; lastType?: string; lastCreated?: number };
  details: D;
}

/** The `state` query every flow answers. */
export const stateQuery = defineQuery<FlowState>('state');
