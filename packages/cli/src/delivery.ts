// Delivering an event the way Stripe does, for trigger and its scenarios: put the objects in the
// Stripe API double first (so a flow's fresh reads agree with the event), sign the exact bytes
// with the receiver's secret, POST them, and record the event in the double's event log.
import { RESOURCES, signedHeaders, type RelatedObject } from '@stripe-flows/testing';
import { CliError } from './command.js';
import type { DoubleAdmin } from './stripe-api.js';

type Json = Record<string, unknown>;

/** What the receiver did with the event on one route (its `deliveries[]`). */
export interface RouteDelivery {
  route: string;
  workflowId: string;
  result: 'delivered' | 'ignored' | 'quarantined';
  reason?: string;
  problems?: string[];
}

export interface DeliveryReport {
  eventId: string;
  type: string;
  account?: string;
  /** HTTP status the receiver answered. */
  status: number;
  /** The receiver's JSON answer. */
  body: Json;
  deliveries: RouteDelivery[];
  /** `resource id` of every object put in the double before posting. */
  seeded: string[];
  /** Whether the event went into the double's event log. */
  recorded: boolean;
}

export interface DeliveryTarget {
  receiverUrl: string;
  secret: string;
  /** The Stripe API double the worker reads, when the dev stack runs one. */
  double?: DoubleAdmin;
}

/** Events after which Stripe no longer has the object (it is not put back in the double). */
const REMOVED_BY_EVENT = new Set(['invoice.deleted']);

const isDoubleResource = (resource: unknown): resource is string => typeof resource === 'string' && Object.hasOwn(RESOURCES, resource);

/** The objects to seed before an event: the related ones, then the event's own object. */
export function seedsFor(event: Json, related: readonly RelatedObject[]): RelatedObject[] {
  const object = ((event.data as Json | undefined)?.object ?? {}) as Json;
  const account = typeof event.account === 'string' ? event.account : undefined;
  const seeds = related.filter((r) => isDoubleResource(r.resource));
  const resource = object.object;
  if (isDoubleResource(resource) && typeof object.id === 'string' && !REMOVED_BY_EVENT.has(String(event.type))) {
    // A connected account's own objects live on it; the account object itself is the platform's.
    seeds.push({ resource, object: object as Json & { id: string }, ...(account && resource !== 'account' ? { stripeAccount: account } : {}) });
  }
  return seeds;
}

/** Seed, sign, post, record. Throws CliError when the receiver cannot be reached. */
export async function deliver(event: Json, target: DeliveryTarget, related: readonly RelatedObject[] = []): Promise<DeliveryReport> {
  const seeded: string[] = [];
  if (target.double) {
    for (const seed of seedsFor(event, related)) {
      await target.double.seed(seed.resource, seed.object, seed.stripeAccount);
      seeded.push(`${seed.resource} ${seed.object.id}`);
    }
  }
  // Stripe stamps `created` when the event happens: after the state it reports was stored.
  const payload = JSON.stringify(event);
  let response: Response;
  try {
    response = await fetch(target.receiverUrl, { method: 'POST', headers: signedHeaders(payload, target.secret), body: payload, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CliError(
      `Could not reach the receiver at ${target.receiverUrl} (${cause}). Is the main job running (./infra/bin/dev or stripe-flows dev)? Otherwise point --receiver at your receiver's /webhooks/stripe.`,
    );
  }
  const text = await response.text();
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    body = { text: text.slice(0, 500) };
  }
  let recorded = false;
  if (target.double) {
    // Stripe counts a delivery pending until the endpoint answers 2xx: replay and reconciliation look for those.
    await target.double.seed('event', { ...event, pending_webhooks: response.ok ? 0 : 1 }, typeof event.account === 'string' ? event.account : undefined);
    recorded = true;
  }
  return {
    eventId: String(event.id),
    type: String(event.type),
    ...(typeof event.account === 'string' ? { account: event.account } : {}),
    status: response.status,
    body,
    deliveries: Array.isArray(body.deliveries) ? (body.deliveries as RouteDelivery[]) : [],
    seeded,
    recorded,
  };
}

/** Temporal UI's page of a workflow (it opens the latest run). */
export function workflowUrl(uiBase: string, namespace: string, workflowId: string): string {
  return `${uiBase}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The report as a few lines for a terminal. */
export function describeDelivery(report: DeliveryReport, ui: { base: string; namespace: string }, indent = '  '): string[] {
  const lines = [`${indent}HTTP ${report.status}${answerNote(report)}`];
  for (const d of report.deliveries) {
    const why = d.result === 'ignored' && d.reason ? ` (${d.reason})` : d.result === 'quarantined' && d.problems ? ` (${d.problems.join('; ')})` : '';
    lines.push(`${indent}${d.route}  ${d.workflowId}  ${d.result}${why}`);
    lines.push(`${indent}  ${workflowUrl(ui.base, ui.namespace, d.workflowId)}`);
  }
  return lines;
}

function answerNote(report: DeliveryReport): string {
  if (report.body.ignored === true) return ' (no enabled domain routes this event type: acknowledged and ignored)';
  const error = report.body.error as { code?: string; message?: string } | undefined;
  return error ? ` ${error.code ?? ''}: ${error.message ?? ''}` : '';
}
