import type Stripe from 'stripe';
import type { z } from 'zod';

/** Every Stripe (v1 snapshot) event type stripe-node knows. */
export type StripeEventType = Stripe.Event['type'];

/** The typed event for a type: a route for `invoice.payment_failed` gets an invoice. */
export type StripeEventOf<T extends StripeEventType> = Extract<Stripe.Event, { type: T }>;

/**
 * Which Stripe webhook endpoint delivers an event type: the platform's own endpoint, or the
 * Connect endpoint (created with `connect=true`), which carries events from connected accounts.
 */
export type WebhookEndpointKind = 'platform' | 'connect';

/** Ids a flow is findable by in Temporal UI, beyond its own object id. */
export interface RouteSearchIds {
  customerId?: string | null;
  accountId?: string | null;
}

/**
 * How one Stripe event type reaches one flow.
 * - `start` routes use signalWithStart: the event starts the flow or joins the running one.
 * - `signal` routes only matter to a running flow: when none runs, the event is ignored.
 */
export interface Route<T extends StripeEventType = StripeEventType, P = unknown, I = unknown> {
  eventType: T;
  /** Flow name inside the domain (`dunning`): the workflow id is `<domain>.<flow>:<objectId>`. */
  flow: string;
  /** Workflow function name (`collectInvoicePayment`). */
  workflowType: string;
  mode: 'start' | 'signal';
  /** The Stripe object the flow is about: one flow per object. */
  objectId(event: StripeEventOf<T>): string | null | undefined;
  /** Fields of `data.object` the flow reads; failing this sends the event to quarantine. */
  projection: z.ZodType<P>;
  searchIds?(event: StripeEventOf<T>): RouteSearchIds;
  /** Start input (policy) for `start` routes. */
  input?(event: StripeEventOf<T>): I;
  /**
   * Whether this event concerns the flow at all (e.g. only draft subscription invoices). When
   * false the event is acknowledged and ignored on this route, with the returned reason.
   */
  when?(event: StripeEventOf<T>): true | string;
  /** What `when` checks, in words, for the route table. */
  condition?: string;
  /**
   * Endpoints this event type must arrive on for the route (default `['platform']`): `connect`
   * for events of connected accounts (`event.account` set). `stripe-flows endpoints sync`
   * subscribes each endpoint to the types routed to it.
   */
  endpoints?: ReadonlyArray<WebhookEndpointKind>;
  /** One-line summary shown in Temporal UI for a flow this route starts. */
  summary?(event: StripeEventOf<T>): string;
}

/** A route with its event type erased, as registries hold them. */
export type AnyRoute = Route<StripeEventType, unknown, unknown>;

/**
 * Define a route; the callbacks get the event type narrowed by `eventType`, without a cast.
 * ```ts
 * defineRoute({ eventType: 'invoice.payment_failed', objectId: (e) => e.data.object.id, ... })
 * ```
 */
export function defineRoute<T extends StripeEventType, P, I = undefined>(route: Route<T, P, I>): AnyRoute {
  return route as unknown as AnyRoute;
}

/** A domain plugin: its routes, where its workflow code is, and how to build its activities. */
export interface DomainDefinition<Deps = unknown, Activities extends object = object> {
  /** `billing`, `connect`, ...: prefix of workflow ids; task queue `stripe-flows.<name>`. */
  name: string;
  routes: readonly AnyRoute[];
  /** Absolute path of the domain's sandbox-safe workflow module (bundle entry). */
  workflowsPath: string;
  createActivities(deps: Deps): Activities;
}

/** Declare a domain plugin. Names must be lowercase words; routes must use the domain's flows. */
export function defineDomain<Deps, Activities extends object>(
  definition: DomainDefinition<Deps, Activities>,
): DomainDefinition<Deps, Activities> {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name)) {
    throw new Error(`Domain name "${definition.name}" is invalid: use lowercase letters, digits and dashes.`);
  }
  for (const route of definition.routes) {
    if (!/^[a-z][a-z0-9_.-]*$/.test(route.flow)) {
      throw new Error(`Route ${route.eventType} in domain ${definition.name} has an invalid flow name "${route.flow}".`);
    }
  }
  return definition;
}
