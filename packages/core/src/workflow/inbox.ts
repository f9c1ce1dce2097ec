import type { FlowEvent } from './events.js';

/** Outcome of offering an event to an {@link EventInbox}. */
export type Admission = 'accepted' | 'duplicate' | 'stale';

export interface EventInboxOptions {
  /**
   * Rank of an event type within the flow's lifecycle, used to break ties between events created
   * in the same second (Stripe timestamps have one-second resolution). Higher = later. Types not
   * listed rank 0.
   */
  precedence?: Readonly<Record<string, number>>;
  /** Extra tie-breaker after (created, precedence), e.g. invoice `attempt_count`. */
  tieBreaker?: (event: FlowEvent) => number;
  /** How many event ids to remember for dedup (oldest forgotten first). Default 1000. */
  capacity?: number;
  /** Restored state, from {@link EventInbox.snapshot} (continue-as-new). */
  snapshot?: EventInboxSnapshot;
}

export interface EventInboxSnapshot {
  seen: string[];
  /** Events accepted but not yet applied: they travel with the snapshot, never lost. */
  pending?: FlowEvent[];
  last?: [created: number, rank: number, tie: number];
  counts: { applied: number; duplicates: number; stale: number };
  lastType?: string;
}

/**
 * Dedup and ordering for a flow's events. Stripe delivers at least once and in any order:
 * an event already seen is a duplicate; an event older than the newest one applied is stale
 * (the flow never moves backwards). Pending events are handed out oldest first.
 */
export class EventInbox<P = unknown> {
  private readonly seen: string[];
  private readonly seenSet: Set<string>;
  private readonly capacity: number;
  private readonly precedence: Readonly<Record<string, number>>;
  private readonly tieBreaker: (event: FlowEvent) => number;
  private pending: Array<FlowEvent<P>> = [];
  private last: [number, number, number] | undefined;
  readonly counts: { applied: number; duplicates: number; stale: number };
  lastType: string | undefined;

  constructor(options: EventInboxOptions = {}) {
    this.capacity = options.capacity ?? 1000;
    this.precedence = options.precedence ?? {};
    this.tieBreaker = options.tieBreaker ?? (() => 0);
    this.seen = [...(options.snapshot?.seen ?? [])].slice(-this.capacity);
    this.seenSet = new Set(this.seen);
    this.last = options.snapshot?.last;
    this.counts = { ...(options.snapshot?.counts ?? { applied: 0, duplicates: 0, stale: 0 }) };
    this.lastType = options.snapshot?.lastType;
    // Pending ids are already in `seen`: restore the events themselves, not through offer().
    this.pending = [...((options.snapshot?.pending ?? []) as Array<FlowEvent<P>>)];
  }

  /** Position of an event in the flow's order: (created, precedence, tie-breaker). */
  key(event: FlowEvent): [number, number, number] {
    return [event.created, this.precedence[event.type] ?? 0, this.tieBreaker(event)];
  }

  /** Offer an event (from the signal handler). Accepted events wait in {@link next}. */
  offer(event: FlowEvent<P>): Admission {
    if (this.seenSet.has(event.id) || this.pending.some((e) => e.id === event.id)) {
      this.counts.duplicates++;
      return 'duplicate';
    }
    this.remember(event.id);
    if (this.last && compareKeys(this.key(event), this.last) < 0) {
      this.counts.stale++;
      return 'stale';
    }
    this.pending.push(event);
    this.pending.sort((a, b) => compareKeys(this.key(a), this.key(b)));
    return 'accepted';
  }

  /** True when events are waiting to be applied. */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * The oldest pending event, marked applied. Events that became stale while waiting (an older
   * one was offered after a newer one was applied) are skipped.
   */
  next(): FlowEvent<P> | undefined {
    for (;;) {
      const event = this.pending.shift();
      if (!event) return undefined;
      const key = this.key(event);
      if (this.last && compareKeys(key, this.last) < 0) {
        this.counts.stale++;
        continue;
      }
      this.last = key;
      this.lastType = event.type;
      this.counts.applied++;
      return event;
    }
  }

  /** Pending events, oldest first, without consuming them. */
  peek(): ReadonlyArray<FlowEvent<P>> {
    return this.pending;
  }

  /** State to carry across continue-as-new, pending events included. */
  snapshot(): EventInboxSnapshot {
    return {
      seen: [...this.seen],
      ...(this.pending.length ? { pending: [...this.pending] } : {}),
      ...(this.last ? { last: this.last } : {}),
      counts: { ...this.counts },
      ...(this.lastType ? { lastType: this.lastType } : {}),
    };
  }

  private remember(id: string): void {
    this.seen.push(id);
    this.seenSet.add(id);
    while (this.seen.length > this.capacity) {
      const dropped = this.seen.shift();
      if (dropped !== undefined) this.seenSet.delete(dropped);
    }
  }
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
