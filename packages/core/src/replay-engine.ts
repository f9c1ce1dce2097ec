// Replay: read Stripe's event log (GET /v1/events) and hand each event to the flows through the
// receiver's own path (envelope check, route lookup, Dispatcher.dispatch), oldest first. Used by
// `stripe-flows replay` and by the reconciliation schedule. Re-dispatching is harmless by design:
// workflow ids are deterministic, flows drop event ids they already have, and an ended flow stays
// ended, so replaying a window twice changes nothing.
import type Stripe from 'stripe';
import { describeIssues, stripeEventEnvelopeSchema, type StripeEventEnvelope } from './envelope.js';
import type { Dispatcher } from './dispatcher.js';
import type { StripeEventOf, StripeEventType } from './routes.js';
import { flowWorkflowId } from './workflow/ids.js';

/** Stripe keeps events for 30 days: `GET /v1/events` reaches no further back. */
export const STRIPE_EVENT_RETENTION_DAYS = 30;
/** Stripe's `types[]` filter takes at most 20 event types per list call. */
export const STRIPE_MAX_TYPES_PER_LIST = 20;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What became of one replayed event. */
export type ReplayResult =
  /** Handed to at least one flow (a flow that already had it drops it as a duplicate). */
  | 'delivered'
  /** Every route ignored it: signal-only route with no running flow, route condition, or the flow already ended. */
  | 'ignored'
  /** A flow could not read it: held by a quarantine workflow, as the receiver does. */
  | 'quarantined'
  /** No enabled domain routes its type (the receiver answers `ignored: true`). */
  | 'unrouted'
  /** Not a Stripe event envelope the receiver would accept (it would answer 400). */
  | 'invalid';

/** One listed event and what happened to it (`listed` in a dry run). */
export interface ReplayedEvent {
  id: string;
  type: string;
  created: number;
  account?: string;
  result: ReplayResult | 'listed';
  /** `<domain>.<flow>` routes for its type. */
  routes: string[];
  /** Workflows it reached (dispatched events only). */
  workflowIds: string[];
  /** Why it is invalid. */
  problems?: string[];
}

export interface ReplayCounts {
  /** Events listed in the window. */
  listed: number;
  delivered: number;
  ignored: number;
  quarantined: number;
  unrouted: number;
  invalid: number;
  /** Events Temporal did not accept (the replay stops at the first). */
  failed: number;
}

export interface ReplayProgress extends ReplayCounts {
  phase: 'listing' | 'dispatching' | 'done';
  elapsedMs: number;
  /** Events handled per second since dispatching began (0 while listing). */
  eventsPerSecond: number;
}

export interface ReplaySummary extends ReplayCounts {
  /** Where the window started: `created >= since.created`, after `since.eventId` when given. */
  since: { created: number; eventId?: string };
  account?: string;
  /** The newest event listed: the next replay can start from it (`--since <id>`). */
  newest?: { id: string; created: number };
  dryRun: boolean;
  /** Stopped early by the abort signal; `resumeFrom` says where to pick up. */
  stopped: boolean;
  /** The last event handled in order, when the replay stopped early. */
  resumeFrom?: { id: string; created: number };
  durationMs: number;
  /** Events handled per second while dispatching. */
  eventsPerSecond: number;
  /** Invalid events and why (the first 50). */
  problems: Array<{ eventId: string; problem: string }>;
}

export interface ReplayOptions {
  /** stripe-node client (the platform's key; `account` lists a connected account's log). */
  stripe: Stripe;
  /** The receiver's dispatcher over the enabled domains' routes. */
  dispatcher: Pick<Dispatcher, 'dispatch' | 'routesFor'>;
  /** Start of the window: a time (`created >= since`), or an event id (events after it). */
  since: Date | string;
  /** Only these event types (any number: listed 20 per call, as Stripe allows). Default: every type. */
  types?: readonly string[];
  /** Only events with a failed or pending delivery to some endpoint (`delivery_success=false`). */
  undelivered?: boolean;
  /** Connected account whose event log to read (`Stripe-Account`). */
  account?: string;
  /** List and classify only; dispatch nothing. */
  dryRun?: boolean;
  /** Called as the replay goes (at most every `progressIntervalMs`, and at each phase change). */
  onProgress?: (progress: ReplayProgress) => void;
  progressIntervalMs?: number;
  /** Called for each event once it is handled. */
  onEvent?: (event: ReplayedEvent) => void;
  /**
   * Events dispatched at once (default 8). Events of one flow are always dispatched one after
   * another, oldest first; different flows in parallel.
   */
  concurrency?: number;
  /** Stop after the event in hand (Ctrl-C, activity cancellation). */
  signal?: AbortSignal;
}

/** The replay cannot start: an unknown `since` event, a bad type list. Nothing was dispatched. */
export class ReplayInputError extends Error {
  override readonly name = 'ReplayInputError';
}

/**
 * Temporal did not accept an event. Events before it were dispatched (oldest first), so a replay
 * from `summary.resumeFrom` (or the same window) picks up where this one stopped.
 */
export class ReplayInterruptedError extends Error {
  override readonly name = 'ReplayInterruptedError';
  constructor(
    message: string,
    readonly summary: ReplaySummary,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Lists the window of Stripe's event log and dispatches each event, oldest first, exactly as the
 * webhook receiver would have. Stripe lists newest first, so the window is listed whole, then
 * handed over in Stripe's order (the events of a 30-day window are held in memory meanwhile):
 * each flow gets its events one after another in that order, several flows at once.
 *
 * @throws {@link ReplayInputError} before anything is dispatched; {@link ReplayInterruptedError}
 * when Temporal did not accept an event; stripe-node's errors when Stripe could not be listed.
 */
export async function replayStripeEvents(options: ReplayOptions): Promise<ReplaySummary> {
  const started = Date.now();
  const counts: ReplayCounts = { listed: 0, delivered: 0, ignored: 0, quarantined: 0, unrouted: 0, invalid: 0, failed: 0 };
  const problems: ReplaySummary['problems'] = [];
  let phase: ReplayProgress['phase'] = 'listing';
  let dispatchStarted = 0;
  let lastProgress = 0;
  const handled = () => counts.delivered + counts.ignored + counts.quarantined + counts.unrouted + counts.invalid;
  const rate = (now: number) => (dispatchStarted && now > dispatchStarted ? Math.round((handled() / ((now - dispatchStarted) / 1000)) * 10) / 10 : 0);
  const progress = (force = false) => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - lastProgress < (options.progressIntervalMs ?? 1000))) return;
    lastProgress = now;
    options.onProgress({ phase, ...counts, elapsedMs: now - started, eventsPerSecond: rate(now) });
  };
  const requestOptions: Stripe.RequestOptions = options.account ? { stripeAccount: options.account } : {};

  const since = await resolveSince(options, requestOptions);
  progress(true);
  const listed = await listWindow(options, since.created, requestOptions, () => {
    counts.listed++;
    progress();
  });
  // An event-id start lists its whole second; drop what Stripe ordered up to and including it.
  const position = since.eventId ? listed.findIndex((e) => e.id === since.eventId) : -1;
  const events = position >= 0 ? listed.slice(position + 1) : listed;
  counts.listed = events.length;
  const newestListed = events.at(-1);

  phase = 'dispatching';
  dispatchStarted = Date.now();
  progress(true);
  let stopped = false;
  // Events 0..prefix-1 are all handled: where a stopped replay can pick up.
  let prefix = 0;
  const done: boolean[] = events.map(() => false);
  const markDone = (index: number) => {
    done[index] = true;
    while (prefix < events.length && done[prefix]) prefix++;
    progress();
  };
  const lastInOrder = () => {
    const event = prefix > 0 ? events[prefix - 1] : undefined;
    return event ? { id: event.id, created: event.created } : undefined;
  };
  const summary = (): ReplaySummary => {
    const now = Date.now();
    const resumeFrom = stopped ? lastInOrder() : undefined;
    return {
      since,
      ...(options.account ? { account: options.account } : {}),
      ...counts,
      ...(newestListed ? { newest: { id: newestListed.id, created: newestListed.created } } : {}),
      dryRun: options.dryRun ?? false,
      stopped,
      ...(resumeFrom ? { resumeFrom } : {}),
      durationMs: now - started,
      eventsPerSecond: rate(now),
      problems,
    };
  };

  // Several flows at once, each flow's events one after another in Stripe's order.
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const inFlight = new Set<Promise<void>>();
  const tails = new Map<string, Promise<void>>();
  let failure: { event: Stripe.Event; error: unknown } | undefined;
  for (const [index, raw] of events.entries()) {
    if (failure) break;
    if (options.signal?.aborted) {
      stopped = true;
      break;
    }
    const { record, envelope } = classify(raw, options, counts, problems);
    if (!envelope || options.dryRun) {
      options.onEvent?.(record);
      markDone(index);
      continue;
    }
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) break;
    if (options.signal?.aborted) {
      stopped = true;
      break;
    }
    const keys = flowKeys(envelope, options.dispatcher);
    const before = keys.flatMap((key) => tails.get(key) ?? []);
    const task = (async () => {
      await Promise.all(before);
      if (failure) return;
      try {
        const outcomes = await options.dispatcher.dispatch(envelope);
        const result: ReplayResult = outcomes.some((o) => o.result === 'delivered')
          ? 'delivered'
          : outcomes.some((o) => o.result === 'quarantined')
            ? 'quarantined'
            : 'ignored';
        counts[result]++;
        options.onEvent?.({ ...record, result, workflowIds: outcomes.map((o) => o.workflowId) });
        markDone(index);
      } catch (error) {
        counts.failed++;
        failure ??= { event: raw, error };
      }
    })();
    inFlight.add(task);
    for (const key of keys) tails.set(key, task);
    void task.finally(() => {
      inFlight.delete(task);
      for (const key of keys) if (tails.get(key) === task) tails.delete(key);
    });
  }
  await Promise.all(inFlight);
  phase = 'done';
  if (failure) {
    stopped = true;
    progress(true);
    const { event, error } = failure;
    const last = lastInOrder();
    throw new ReplayInterruptedError(
      `Temporal did not accept event ${event.id} (${event.type}): ${error instanceof Error ? error.message : String(error)}. ` +
        `${handled()} of ${events.length} events were handled, oldest first; replay again ${last ? `after ${last.id}` : 'from the same start'} once Temporal is reachable (re-dispatching is harmless).`,
      summary(),
      { cause: error },
    );
  }
  progress(true);
  return summary();
}

/** The flows an event goes to (`<domain>.<flow>:<object id>`): dispatches to one flow stay in order. */
function flowKeys(event: StripeEventEnvelope, dispatcher: ReplayOptions['dispatcher']): string[] {
  // The envelope passed zod and its type selected these routes, as in the dispatcher.
  const typed = event as unknown as StripeEventOf<StripeEventType>;
  return dispatcher.routesFor(event.type).map(({ domain, route }) => {
    let objectId: string | null | undefined;
    try {
      objectId = route.objectId(typed);
    } catch {
      objectId = undefined;
    }
    return objectId ? flowWorkflowId(domain, route.flow, objectId) : `quarantine:${event.id}`;
  });
}

/**
 * The receiver's checks before dispatch: an envelope it accepts (else `invalid`), and a route for
 * its type (else `unrouted`). A dispatchable event comes back with its parsed envelope.
 */
function classify(
  raw: Stripe.Event,
  options: ReplayOptions,
  counts: ReplayCounts,
  problems: ReplaySummary['problems'],
): { record: ReplayedEvent; envelope?: StripeEventEnvelope } {
  const base = { id: raw.id, type: raw.type, created: raw.created, ...(raw.account ? { account: raw.account } : {}), workflowIds: [] };
  const envelope = stripeEventEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    const issues = describeIssues(envelope.error);
    counts.invalid++;
    if (problems.length < 50) problems.push({ eventId: String(raw.id), problem: issues.join('; ') });
    return { record: { ...base, result: 'invalid', routes: [], problems: issues } };
  }
  const routes = options.dispatcher.routesFor(envelope.data.type).map(({ domain, route }) => `${domain}.${route.flow}`);
  if (routes.length === 0) {
    counts.unrouted++;
    return { record: { ...base, result: 'unrouted', routes } };
  }
  return { record: { ...base, result: 'listed', routes }, envelope: envelope.data };
}

async function resolveSince(options: ReplayOptions, requestOptions: Stripe.RequestOptions): Promise<ReplaySummary['since']> {
  if (options.since instanceof Date) {
    const ms = options.since.getTime();
    if (!Number.isFinite(ms)) throw new ReplayInputError('The replay start is not a valid time.');
    return { created: Math.floor(ms / 1000) };
  }
  const id = options.since;
  if (!/^evt_[A-Za-z0-9_]+$/.test(id)) throw new ReplayInputError(`"${id}" is not a Stripe event id (evt_...) or a time.`);
  try {
    // Its created time bounds the listing, so type and delivery filters apply as they do to times.
    const event = await options.stripe.events.retrieve(id, {}, requestOptions);
    return { created: event.created, eventId: id };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new ReplayInputError(
        `Stripe has no event ${id}${options.account ? ` on account ${options.account}` : ''}: Stripe keeps events for ${STRIPE_EVENT_RETENTION_DAYS} days` +
          `${options.account ? '' : ", and a connected account's events are listed with its account"}. Start from a time instead.`,
      );
    }
    throw error;
  }
}

/** Every event created at or after `since` (seconds) matching the filters, oldest first. */
async function listWindow(options: ReplayOptions, since: number, requestOptions: Stripe.RequestOptions, onListed: () => void): Promise<Stripe.Event[]> {
  const types = options.types ? [...new Set(options.types)] : undefined;
  if (types && types.length === 0) throw new ReplayInputError('The type filter is empty: leave it out to replay every type.');
  const chunks = types ? chunk(types, STRIPE_MAX_TYPES_PER_LIST) : [undefined];
  const byId = new Map<string, Stripe.Event>();
  for (const typesChunk of chunks) {
    const params: Stripe.EventListParams = {
      limit: 100,
      created: { gte: since },
      ...(typesChunk ? { types: typesChunk } : {}),
      ...(options.undelivered ? { delivery_success: false } : {}),
    };
    for await (const event of options.stripe.events.list(params, requestOptions)) {
      // Stopped while listing: a partial list is the newest events only, so nothing is dispatched.
      if (options.signal?.aborted) return [];
      if (byId.has(event.id)) continue;
      byId.set(event.id, event);
      onListed();
    }
  }
  // Each list is newest first: reversed, it is Stripe's order (same-second ties included).
  const oldestFirst = [...byId.values()].reverse();
  // Several type lists: merge them by time (a stable sort keeps each list's own order).
  return chunks.length > 1 ? oldestFirst.sort((a, b) => a.created - b.created) : oldestFirst;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A duration like `90s`, `15m`, `2h`, `3d` in milliseconds. Throws a message that shows the
 * accepted forms.
 */
export function parseDurationMs(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration: use a whole number and a unit, like 90s, 15m, 2h or 3d.`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** The earliest time Stripe still lists events for, as of `now` (ms). */
export function oldestListableTime(now: number = Date.now()): number {
  return now - STRIPE_EVENT_RETENTION_DAYS * DAY_MS;
}
