import type { AnyRoute, DomainDefinition, WebhookEndpointKind } from './routes.js';

/** A route together with the domain it belongs to. */
export interface RegisteredRoute {
  domain: string;
  route: AnyRoute;
}

/** Routes of the enabled domains, looked up by event type. */
export class RouteRegistry {
  private readonly byType = new Map<string, RegisteredRoute[]>();

  constructor(domains: ReadonlyArray<Pick<DomainDefinition, 'name' | 'routes'>>) {
    const names = new Set<string>();
    for (const domain of domains) {
      if (names.has(domain.name)) throw new Error(`Domain "${domain.name}" is registered twice.`);
      names.add(domain.name);
      for (const route of domain.routes) {
        const list = this.byType.get(route.eventType) ?? [];
        if (list.some((r) => r.domain === domain.name && r.route.flow === route.flow)) {
          throw new Error(`Event type ${route.eventType} is routed twice to ${domain.name}.${route.flow}.`);
        }
        list.push({ domain: domain.name, route });
        this.byType.set(route.eventType, list);
      }
    }
  }

  /** Routes for an event type; empty when the type is not routed. */
  routesFor(eventType: string): readonly RegisteredRoute[] {
    return this.byType.get(eventType) ?? [];
  }

  /** Every routed event type, sorted. */
  eventTypes(): string[] {
    return [...this.byType.keys()].sort();
  }

  /**
   * Event types routed to a webhook endpoint kind, sorted: what that endpoint's `enabled_events`
   * must list. A route without `endpoints` arrives on the platform endpoint.
   */
  eventTypesFor(endpoint: WebhookEndpointKind): string[] {
    return this.eventTypes().filter((type) => this.routesFor(type).some(({ route }) => endpointsOf(route).includes(endpoint)));
  }

  /** Flat table for docs and the CLI: event type → domain.flow (mode), and the endpoints it arrives on. */
  table(): Array<{
    eventType: string;
    domain: string;
    flow: string;
    workflowType: string;
    mode: 'start' | 'signal';
    endpoints: WebhookEndpointKind[];
    condition?: string;
  }> {
    return this.eventTypes().flatMap((eventType) =>
      this.routesFor(eventType).map(({ domain, route }) => ({
        eventType,
        domain,
        flow: route.flow,
        workflowType: route.workflowType,
        mode: route.mode,
        endpoints: endpointsOf(route),
        ...(route.condition ? { condition: route.condition } : {}),
      })),
    );
  }
}

/** The endpoints a route's event type arrives on (platform unless the route says otherwise). */
export function endpointsOf(route: Pick<AnyRoute, 'endpoints'>): WebhookEndpointKind[] {
  return route.endpoints && route.endpoints.length > 0 ? [...route.endpoints] : ['platform'];
}

/**
 * The enabled domains among those built into a process: `names` from the `DOMAINS` setting,
 * all when unset. Unknown names fail with the list of known ones.
 */
export function selectDomains<D extends { name: string }>(available: readonly D[], names?: readonly string[]): D[] {
  if (!names || names.length === 0) return [...available];
  const known = new Map(available.map((d) => [d.name, d]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new Error(`DOMAINS names unknown domain(s) ${unknown.join(', ')}; this build has: ${[...known.keys()].join(', ')}.`);
  }
  return names.map((n) => known.get(n) as D);
}
