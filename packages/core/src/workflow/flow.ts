import { ActivityFailure, ContinueAsNew, isCancellation, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { stateQuery, type FlowState } from './events.js';
import type { EventInbox } from './inbox.js';
import { FlowStatusKey, StripeEventTypeKey, type FlowStatus } from './search-attributes.js';

const MAX_DONE = 100;

/**
 * Keeps a flow's `state` query answer, its `FlowStatus` / `StripeEventType` search attributes and
 * its Temporal UI "current details" in step with what the flow does.
 */
export class FlowTracker<S extends string, D extends Record<string, unknown>> {
  readonly state: FlowState<S, D>;

  constructor(
    private readonly inbox: EventInbox<unknown>,
    initial: { step: S; details: D; done?: FlowState['done'] },
  ) {
    this.state = {
      step: initial.step,
      status: 'running',
      done: initial.done ?? [],
      events: { ...inbox.counts },
      details: initial.details,
    };
    setHandler(stateQuery, () => this.snapshot());
    // Until the flow's first step() says more, Temporal UI shows the step it starts in.
    setCurrentDetails(describeStep(initial.step));
  }

  /** Move to a step; `summary` becomes the flow's current details in Temporal UI. */
  step(step: S, summary: string): void {
    this.state.step = step;
    setCurrentDetails(summary);
  }

  /** Record something the flow did (bounded list). */
  record(action: string, detail?: string): void {
    this.state.done.push({ at: new Date().toISOString(), action, ...(detail ? { detail } : {}) });
    if (this.state.done.length > MAX_DONE) this.state.done.splice(0, this.state.done.length - MAX_DONE);
  }

  /** What the flow will do next on its own, and when; undefined when it only waits for events. */
  next(action: string | undefined, at?: number): void {
    if (action === undefined || at === undefined) delete this.state.next;
    else this.state.next = { action, at: new Date(at).toISOString() };
  }

  /** Flow status search attribute (and `state.status` for terminal ones). */
  status(status: FlowStatus): void {
    if (status === 'completed' || status === 'failed') this.state.status = status;
    upsertSearchAttributes([{ key: FlowStatusKey, value: status }]);
  }

  /** Call after applying an event: keeps `StripeEventType` on the latest applied type. */
  applied(eventType: string): void {
    upsertSearchAttributes([{ key: StripeEventTypeKey, value: eventType }]);
  }

  /**
   * Run the flow's body. Whatever makes it fail (a Stripe refusal, a bug), the flow ends in its
   * failure state visibly: `state.status` and the `FlowStatus` search attribute say `failed`, and
   * the current details say why. Continue-as-new and cancellation pass through untouched.
   */
  async run<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof ContinueAsNew || isCancellation(error)) throw error;
      if (this.state.status !== 'failed') {
        const reason = error instanceof ActivityFailure ? (error.cause?.message ?? error.message) : error instanceof Error ? error.message : String(error);
        this.record(`failed while ${this.state.step}`, reason);
        setCurrentDetails(`Failed while ${this.state.step}: ${reason}`);
        this.next(undefined);
        this.status('failed');
      }
      throw error;
    }
  }

  snapshot(): FlowState<S, D> {
    return {
      ...this.state,
      events: {
        ...this.inbox.counts,
        ...(this.inbox.lastType ? { lastType: this.inbox.lastType } : {}),
      },
    };
  }
}

/** `checking_invoice` → `Checking invoice`. */
function describeStep(step: string): string {
  const words = step.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
