// `stripe-flows replay`: lists Stripe's event log (GET /v1/events) over a window and pushes each
// event through the receiver's dispatch path, oldest first. Running it again changes nothing:
// flows drop events they already have and ended flows stay ended. Progress goes to stderr as it
// runs, the summary to stdout.
import { z } from 'zod';
import {
  commaList,
  connectTemporalClient,
  Dispatcher,
  oldestListableTime,
  parseDurationMs,
  parseEnv,
  replayStripeEvents,
  ReplayInputError,
  ReplayInterruptedError,
  RouteRegistry,
  selectDomains,
  STRIPE_EVENT_RETENTION_DAYS,
  stripeApiConfigSchema,
  temporalConfigSchema,
  type ReplayedEvent,
  type ReplayProgress,
  type ReplaySummary,
} from '@stripe-flows/core';
import { builtInDomains, createStripeClient } from '@stripe-flows/workers';
import { CliError, type Command } from '../command.js';
import { DEV_PAYLOAD_ENCRYPTION_KEYS, inheritedEnv } from '../config.js';

const usage = `Usage: stripe-flows replay --since <time | evt_id> [--types a,b] [--undelivered] [--account acct_...] [--dry-run]

Lists Stripe's event log (GET /v1/events) from --since on and pushes each event through the
webhook receiver's dispatch path (envelope check, routes, signalWithStart), oldest first, as if
Stripe had delivered it. Safe to run twice: flows drop events they already have, and ended flows
stay ended.

  --since <when>     where to start (required): an ISO time (2026-11-26T09:00:00Z), unix seconds,
                     a time ago (90m, 2h, 3d), or an event id (evt_...: the events after it).
                     At most 30 days back: Stripe keeps events for 30 days.
  --types <list>     only these event types, comma-separated; * matches routed types (invoice.*).
                     Default: the types the enabled routes take from the platform endpoint, or
                     from the Connect endpoint with --account.
  --undelivered      only events Stripe has not delivered to every endpoint (delivery_success=false)
  --account <acct>   read a connected account's event log (its Connect events), not the platform's
  --dry-run          list the events and their routes; dispatch nothing (Temporal not needed)

Progress (count, rate) goes to stderr as it runs, the summary to stdout. Ctrl-C stops after the
event in hand and says where to pick up.

Environment: STRIPE_SECRET_KEY (unset: the dev stack's Stripe API double at STRIPE_API_BASE,
default http://127.0.0.1:<STRIPE_DOUBLE_PORT, 12111>); TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_API_KEY, TEMPORAL_TLS*, PAYLOAD_ENCRYPTION_KEYS as the receiver has them
(TEMPORAL_ADDRESS unset: the dev stack at 127.0.0.1:<TEMPORAL_PORT, 7233> with its dev payload
key); DOMAINS as the receiver has it.

Examples:
  stripe-flows replay --since 2h --dry-run
  stripe-flows replay --since 2026-11-26T09:00:00Z --types invoice.payment_failed,invoice.paid
  stripe-flows replay --since evt_1NuhUa2eZvKYlo2CWYVhyvD9 --undelivered
  stripe-flows replay --since 3d --account acct_1Nv0FGQ9RKHgCVdK`;

/** What the command line asked for. */
export interface ReplayArguments {
  since: string;
  types?: string[];
  undelivered: boolean;
  account?: string;
  dryRun: boolean;
}

const replayEnvSchema = temporalConfigSchema.omit({ TEMPORAL_ADDRESS: true }).extend({
  /** Unset: the dev stack's Temporal at 127.0.0.1:TEMPORAL_PORT. */
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_PORT: z.coerce.number().int().positive().default(7233),
  STRIPE_SECRET_KEY: stripeApiConfigSchema.shape.STRIPE_SECRET_KEY,
  /** Unset: the dev stack's Stripe API double at 127.0.0.1:STRIPE_DOUBLE_PORT. */
  STRIPE_API_BASE: z.url().optional(),
  STRIPE_DOUBLE_PORT: z.coerce.number().int().positive().default(12111),
  DOMAINS: commaList.optional(),
  /** Time Temporal has to accept one event's dispatches. */
  DISPATCH_DEADLINE_MS: z.coerce.number().int().positive().default(10_000),
});

export const replay: Command = {
  name: 'replay',
  summary: "Replay Stripe's event log (GET /v1/events) since a time or event through the dispatch path.",
  usage,
  async run(args) {
    const options = parseReplayArguments(args);
    const config = loadReplayConfig();
    let domains;
    try {
      domains = selectDomains(builtInDomains, config.DOMAINS);
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
    const registry = new RouteRegistry(domains);
    const since = parseSince(options.since);
    // By default what the webhook endpoint would have received: the platform's or the Connect endpoint's types.
    const endpointTypes = registry.eventTypesFor(options.account ? 'connect' : 'platform');
    const { types, warnings } = resolveTypes(options.types, registry.eventTypes(), endpointTypes);
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);

    const stripeBase = config.STRIPE_API_BASE ?? `http://127.0.0.1:${config.STRIPE_DOUBLE_PORT}`;
    const stripeLabel = config.STRIPE_SECRET_KEY ? 'Stripe (STRIPE_SECRET_KEY)' : `the Stripe API double at ${stripeBase}`;
    const stripe = createStripeClient({ STRIPE_SECRET_KEY: config.STRIPE_SECRET_KEY, STRIPE_API_BASE: stripeBase }, { maxNetworkRetries: 2 });
    const temporalAddress = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
    // A dry run only lists: no Temporal needed.
    const client = options.dryRun ? undefined : await connect({ ...config, TEMPORAL_ADDRESS: temporalAddress });
    const dispatcher = client
      ? new Dispatcher({ client, registry, deadlineMs: config.DISPATCH_DEADLINE_MS })
      : { routesFor: (type: string) => registry.routesFor(type), dispatch: () => Promise.reject(new Error('dry run: nothing is dispatched')) };

    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    const progress = progressPrinter();
    const where = options.account ? `account ${options.account}'s event log` : "the platform's event log";
    process.stderr.write(`replay: listing ${where} at ${stripeLabel} since ${typeof since === 'string' ? since : iso(since.getTime())}${options.undelivered ? ' (undelivered only)' : ''}\n`);
    try {
      const summary = await replayStripeEvents({
        stripe,
        dispatcher,
        since,
        ...(types ? { types } : {}),
        undelivered: options.undelivered,
        ...(options.account ? { account: options.account } : {}),
        dryRun: options.dryRun,
        onProgress: progress.update,
        ...(options.dryRun ? { onEvent: (event: ReplayedEvent) => console.log(eventLine(event)) } : {}),
        signal: abort.signal,
      });
      progress.done();
      console.log(summaryText(summary, where, continuation(options)));
      if (summary.stopped) {
        console.log(summary.resumeFrom ? `Stopped (Ctrl-C). Pick up with: stripe-flows replay --since ${summary.resumeFrom.id}${continuation(options)}` : 'Stopped (Ctrl-C) before any event was handled.');
        return 130;
      }
      return 0;
    } catch (error) {
      progress.done();
      if (error instanceof ReplayInterruptedError) {
        console.log(summaryText(error.summary, where, continuation(options)));
        throw new CliError(error.message);
      }
      if (error instanceof ReplayInputError) throw new CliError(error.message, 2);
      throw stripeError(error, stripeLabel) ?? error;
    } finally {
      process.off('SIGINT', onSigint);
      await client?.connection.close();
    }
  },
};

/** Options from the command line; a mistake is a CliError with exit code 2. */
export function parseReplayArguments(args: readonly string[]): ReplayArguments {
  const options: ReplayArguments = { since: '', undelivered: false, dryRun: false };
  const types: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '' || (inline === undefined && v.startsWith('--'))) throw new CliError(`${flag} needs a value. Try: stripe-flows replay --help`, 2);
      return v;
    };
    switch (flag) {
      case '--since':
        options.since = value();
        break;
      case '--types':
      case '--type':
        types.push(...value().split(',').map((t) => t.trim()).filter(Boolean));
        break;
      case '--undelivered':
        options.undelivered = true;
        break;
      case '--account': {
        const account = value();
        if (!/^acct_[A-Za-z0-9]+$/.test(account)) throw new CliError(`--account ${account} is not a connected account id (acct_...).`, 2);
        options.account = account;
        break;
      }
      case '--dry-run':
        options.dryRun = true;
        break;
      default:
        throw new CliError(`Unknown option ${arg} for replay. Try: stripe-flows replay --help`, 2);
    }
  }
  if (!options.since) throw new CliError('--since is required: a time (2026-11-26T09:00:00Z, unix seconds, 2h, 3d) or an event id (evt_...). Try: stripe-flows replay --help', 2);
  if (types.length) options.types = types;
  return options;
}

/**
 * `--since` as the engine takes it: an event id as is, anything else as a time, refused beyond
 * Stripe's 30 days or in the future.
 */
export function parseSince(text: string, now: number = Date.now()): Date | string {
  if (text.startsWith('evt_')) {
    if (!/^evt_[A-Za-z0-9_]+$/.test(text)) throw new CliError(`--since ${text} is not a Stripe event id (evt_ and letters or digits).`, 2);
    return text;
  }
  let ms: number;
  if (/^\d+\s*[smhd]$/.test(text)) ms = now - parseDurationMs(text);
  else if (/^\d{9,11}$/.test(text)) ms = Number(text) * 1000;
  else if (/^\d{4}-\d{2}-\d{2}/.test(text) && Number.isFinite(Date.parse(text))) ms = Date.parse(text);
  else throw new CliError(`--since ${text} is not a time or an event id: use an ISO time (2026-11-26T09:00:00Z), unix seconds, a time ago (90m, 2h, 3d) or evt_...`, 2);
  if (ms > now + 60_000) throw new CliError(`--since ${text} is in the future (${iso(ms)}); nothing to replay yet.`, 2);
  if (ms < oldestListableTime(now)) {
    const days = Math.floor((now - ms) / 86_400_000);
    throw new CliError(
      `--since ${text} is ${days} days ago: Stripe keeps events for ${STRIPE_EVENT_RETENTION_DAYS} days, so older ones cannot be listed. Use a start within the last ${STRIPE_EVENT_RETENTION_DAYS} days (e.g. --since ${STRIPE_EVENT_RETENTION_DAYS}d).`,
      2,
    );
  }
  return new Date(ms);
}

/**
 * The type filter: `defaults` when none is asked for; `*` expanded against routed types; an exact
 * type no enabled domain routes is kept, with a warning (its events are listed and counted as not
 * routed).
 */
export function resolveTypes(
  requested: readonly string[] | undefined,
  routed: readonly string[],
  defaults: readonly string[] = routed,
): { types?: string[]; warnings: string[] } {
  if (!requested) {
    if (!defaults.length) throw new CliError('No enabled route arrives on this endpoint, so there is nothing to replay: pass --types, or check DOMAINS.', 2);
    return { types: [...defaults], warnings: [] };
  }
  const types = new Set<string>();
  const warnings: string[] = [];
  for (const type of requested) {
    if (!/^[a-z0-9_*]+(\.[a-z0-9_*]+)*$/.test(type)) throw new CliError(`--types ${type} is not a Stripe event type (like invoice.payment_failed or invoice.*).`, 2);
    if (type.includes('*')) {
      const pattern = new RegExp(`^${type.split('*').map((p) => p.replace(/\./g, '\\.')).join('[a-z0-9_.]*')}$`);
      const matched = routed.filter((t) => pattern.test(t));
      if (!matched.length) throw new CliError(`--types ${type} matches no routed event type. Routed: ${routed.join(', ')}.`, 2);
      matched.forEach((t) => types.add(t));
    } else {
      if (!routed.includes(type)) warnings.push(`${type} is not routed by the enabled domains: its events are listed and counted as not routed (see stripe-flows routes).`);
      types.add(type);
    }
  }
  return { types: [...types], warnings };
}

function loadReplayConfig() {
  const env = inheritedEnv();
  // The dev stack (no TEMPORAL_ADDRESS) encrypts with its dev key; elsewhere only configured keys.
  const devKey = !env.TEMPORAL_ADDRESS && !env.PAYLOAD_ENCRYPTION_KEYS ? { PAYLOAD_ENCRYPTION_KEYS: DEV_PAYLOAD_ENCRYPTION_KEYS } : {};
  try {
    return parseEnv(replayEnvSchema, { ...env, ...devKey });
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
}

async function connect(config: Parameters<typeof connectTemporalClient>[0]) {
  try {
    return await connectTemporalClient(config);
  } catch (error) {
    throw new CliError(
      `Cannot reach Temporal at ${config.TEMPORAL_ADDRESS} (namespace ${config.TEMPORAL_NAMESPACE}): ${(error as Error).message}. Start the dev stack (stripe-flows dev) or set TEMPORAL_ADDRESS and its TLS or API key.`,
    );
  }
}

/** stripe-node's failures as messages that say what to fix. */
function stripeError(error: unknown, label: string): CliError | undefined {
  const e = error as { type?: string; message?: string; statusCode?: number };
  if (typeof e?.type !== 'string' || !e.type.startsWith('Stripe')) return undefined;
  if (e.type === 'StripeConnectionError') return new CliError(`Could not reach ${label}: ${e.message}. Start the dev stack (stripe-flows dev) or set STRIPE_SECRET_KEY.`);
  if (e.type === 'StripeAuthenticationError' || e.type === 'StripePermissionError') {
    return new CliError(`${label} refused the key (${e.statusCode ?? '401'}): ${e.message}. Check STRIPE_SECRET_KEY: it needs read access to Events (and Accounts for --account).`);
  }
  return new CliError(`${label} refused listing events (${e.statusCode ?? e.type}): ${e.message}`);
}

/** Progress on stderr: one line rewritten in place on a terminal, a line per update otherwise. */
function progressPrinter() {
  const tty = process.stderr.isTTY === true;
  let open = false;
  return {
    update(p: ReplayProgress) {
      const handled = p.delivered + p.ignored + p.quarantined + p.unrouted + p.invalid;
      const line =
        p.phase === 'listing'
          ? `replay: listing… ${p.listed} events`
          : `replay: ${handled}/${p.listed} events (${p.delivered} delivered, ${p.ignored} ignored, ${p.quarantined} quarantined, ${p.unrouted} not routed${p.invalid ? `, ${p.invalid} invalid` : ''}) · ${p.eventsPerSecond} events/s`;
      if (tty) {
        process.stderr.write(`\r\x1b[K${line}`);
        open = true;
      } else {
        process.stderr.write(`${line}\n`);
      }
    },
    done() {
      if (open) process.stderr.write('\n');
      open = false;
    },
  };
}

/** The options besides --since, to repeat in a follow-up command. */
function continuation(options: ReplayArguments): string {
  return [
    ...(options.types ? [` --types ${options.types.join(',')}`] : []),
    ...(options.undelivered ? [' --undelivered'] : []),
    ...(options.account ? [` --account ${options.account}`] : []),
  ].join('');
}

function eventLine(event: ReplayedEvent): string {
  const target =
    event.result === 'invalid' ? `(invalid: ${(event.problems ?? []).join('; ')})` : event.routes.length ? `→ ${event.routes.join(', ')}` : '(not routed)';
  return `${iso(event.created * 1000)}  ${event.id}  ${event.type}${event.account ? ` [${event.account}]` : ''}  ${target}`;
}

function summaryText(s: ReplaySummary, where: string, sameOptions: string): string {
  const start = `${iso(s.since.created * 1000)}${s.since.eventId ? ` (after ${s.since.eventId})` : ''}`;
  const lines: string[] = [];
  if (s.dryRun) {
    lines.push(`Listed ${s.listed} event${s.listed === 1 ? '' : 's'} from ${where} since ${start} (dry run: nothing dispatched): ${s.listed - s.unrouted - s.invalid} routed, ${s.unrouted} not routed, ${s.invalid} invalid.`);
  } else {
    const rows: Array<[number, string, string]> = [
      [s.delivered, 'delivered', 'handed to their flow (a flow that already had one drops it)'],
      [s.ignored, 'ignored', 'no running flow for a signal-only route, a route condition, or the flow already ended'],
      [s.quarantined, 'quarantined', 'a flow could not read it: FlowStatus = "quarantined" in Temporal UI'],
      [s.unrouted, 'not routed', 'no enabled domain routes its type'],
      [s.invalid, 'invalid', 'not an event envelope the receiver accepts'],
      ...(s.failed ? [[s.failed, 'failed', 'Temporal did not accept it'] as [number, string, string]] : []),
    ];
    const width = Math.max(...rows.map(([n]) => String(n).length));
    lines.push(`Replayed ${s.listed} event${s.listed === 1 ? '' : 's'} from ${where} since ${start}:`);
    for (const [n, label, meaning] of rows) lines.push(`  ${String(n).padStart(width)} ${label.padEnd(11)}  ${meaning}`);
    lines.push(`in ${(s.durationMs / 1000).toFixed(1)} s, ${s.eventsPerSecond} events/s.`);
  }
  for (const { eventId, problem } of s.problems) lines.push(`  invalid ${eventId}: ${problem}`);
  if (s.newest && !s.dryRun) lines.push(`Newest event: ${s.newest.id} (${iso(s.newest.created * 1000)}). Continue later with: stripe-flows replay --since ${s.newest.id}${sameOptions}`);
  return lines.join('\n');
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}
