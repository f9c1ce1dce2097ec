// Quarantine: an event whose projection failed validation is kept here, whole, instead of being
// dropped. Visible in Temporal UI (FlowStatus=quarantined), inspectable through `state`, and
// released by `discard` once an operator has replayed or written it off.
import { condition, defineQuery, defineSignal, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { FlowStatusKey } from './search-attributes.js';

export interface QuarantineInput {
  /** The event as received (parsed JSON). */
  event: { id: string; type: string; created: number; account?: string; [k: string]: unknown };
  /** `<domain>.<flow>` the event was meant for. */
  route: string;
  /** What failed, field by field. */
  problems: string[];
  receivedAt: string;
  /** How long to keep the event before closing, in days. */
  retentionDays: number;
}

export interface QuarantineState {
  route: string;
  eventId: string;
  eventType: string;
  problems: string[];
  receivedAt: string;
  deliveries: number;
  released?: { at: string; reason: string };
  event: QuarantineInput['event'];
}

export const quarantineStateQuery = defineQuery<QuarantineState>('state');
/** Each delivery of the event (Stripe retries included): counted, the event stored once. */
export const quarantineDeliveredSignal = defineSignal<[]>('delivered');
/** Operator is done with the event (replayed it through `stripe-flows replay`, or wrote it off). */
export const discardQuarantinedSignal = defineSignal<[{ reason: string }]>('discard');

export async function holdQuarantinedEvent(input: QuarantineInput): Promise<QuarantineState> {
  const state: QuarantineState = {
    route: input.route,
    eventId: input.event.id,
    eventType: input.event.type,
    problems: input.problems,
    receivedAt: input.receivedAt,
    deliveries: 0,
    event: input.event,
  };
  setHandler(quarantineStateQuery, () => state);
  setHandler(quarantineDeliveredSignal, () => void state.deliveries++);
  setHandler(discardQuarantinedSignal, ({ reason }) => {
    state.released = { at: new Date().toISOString(), reason };
  });
  upsertSearchAttributes([{ key: FlowStatusKey, value: 'quarantined' }]);
  setCurrentDetails(`Quarantined ${input.event.type} ${input.event.id} for ${input.route}: ${input.problems.join('; ')}`);
  await condition(() => state.released !== undefined, `${input.retentionDays} days`);
  state.released ??= { at: new Date().toISOString(), reason: `retention of ${input.retentionDays} days elapsed` };
  return state;
}
