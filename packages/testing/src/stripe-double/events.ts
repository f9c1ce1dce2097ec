// The event log: `GET /v1/events` lists what was seeded (the dev stack's `trigger` records every
// event it posts), newest first, filtered like Stripe's: `type` (with `*` wildcards), `types[]`
// (up to 20), `created`, `delivery_success`, and paginated. Events of a connected account are
// listed with its `Stripe-Account` header, as on Stripe.
import { listResponse } from './crud.js';
import { invalidParam } from './errors.js';
import { isRecord, stringParam } from './form.js';
import { route, type Route } from './router.js';

export function eventRoutes(): Route[] {
  return [
    route('GET', '/v1/events', (ctx) => {
      const type = stringParam(ctx.params.type);
      const types = ctx.params.types;
      if (type !== undefined && types !== undefined) throw invalidParam('types', 'You may only specify one of these parameters: type, types.', 'parameters_exclusive');
      const list = types === undefined ? undefined : Array.isArray(types) ? types : isRecord(types) ? Object.values(types) : [types];
      if (list && (list.length > 20 || list.some((t) => typeof t !== 'string'))) throw invalidParam('types', 'types must be an array of at most 20 event types.', 'parameter_invalid_array');
      const patterns = (type !== undefined ? [type] : (list as string[] | undefined))?.map(typePattern);
      const raw = ctx.params.delivery_success;
      const delivery = typeof raw === 'boolean' ? String(raw) : stringParam(raw);
      if (delivery !== undefined && delivery !== 'true' && delivery !== 'false') throw invalidParam('delivery_success', `Invalid boolean: ${delivery}`, 'parameter_invalid_boolean');
      const events = ctx.store.list('event', ctx.account).filter((event) => {
        // Platform events and each connected account's events are separate logs.
        if ((typeof event.account === 'string' ? event.account : undefined) !== ctx.account) return false;
        if (patterns && !patterns.some((p) => p.test(String(event.type)))) return false;
        // Stripe: false lists events with at least one failed delivery to an endpoint.
        if (delivery !== undefined && (event.pending_webhooks === 0) !== (delivery === 'true')) return false;
        return true;
      });
      return listResponse(ctx, 'event', events, '/v1/events');
    }),
  ];
}

/** `invoice.*` matches every invoice event, as Stripe's `type` filter does. */
function typePattern(type: string): RegExp {
  return new RegExp(`^${type.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[a-z0-9_.]*')}$`);
}
