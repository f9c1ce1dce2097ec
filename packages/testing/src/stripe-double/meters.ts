// Billing meters: meter events (`identifier` unique for 24 h, timestamp window, whole values) and
// their cancellation through meter event adjustments (only within 24 h of receipt).
// Stripe checks some of this asynchronously (customer mapping, value key, cancel window: reported
// later through `v1.billing.meter.error_report_triggered`); the double answers them at once with
// a 400, so a test sees the refusal where it happens. Objects are stored under their identifier
// (`<acct>/<identifier>` for a connected account), so `double.get('billing.meter_event', id)` works.
import { checkRequired } from './crud.js';
import { DoubleError, invalidParam, missingParam } from './errors.js';
import { intParam, isRecord, stringParam } from './form.js';
import { route, type RequestContext, type Route } from './router.js';
import { newId, unixNow, type StripeObject } from './store.js';

/** Stripe enforces identifier uniqueness over a rolling period of at least 24 hours. */
export const METER_EVENT_DEDUP_WINDOW_SECONDS = 24 * 60 * 60;
/** Stripe cancels a meter event only within 24 hours of receiving it. */
export const METER_EVENT_CANCEL_WINDOW_SECONDS = 24 * 60 * 60;
/** A meter event's timestamp: within the past 35 days, at most 5 minutes ahead. */
export const METER_EVENT_MAX_PAST_SECONDS = 35 * 24 * 60 * 60;
export const METER_EVENT_MAX_FUTURE_SECONDS = 5 * 60;

const MAX_LENGTH = 100;

const storedId = (ctx: RequestContext, identifier: string) => (ctx.account ? `${ctx.account}/${identifier}` : identifier);

/** The API's view: meter events and adjustments have no `id`. */
function withoutId(object: StripeObject): Record<string, unknown> {
  const copy: Record<string, unknown> = structuredClone(object);
  delete copy.id;
  return copy;
}

function checkLength(param: string, value: string): void {
  if (value.length > MAX_LENGTH) {
    throw invalidParam(param, `Invalid ${param}: must be at most ${MAX_LENGTH} characters (got ${value.length}).`, 'parameter_invalid_string_too_long');
  }
}

/** Stripe's answer to a reused identifier (observed without an error code). */
function duplicateIdentifier(identifier: string): DoubleError {
  return new DoubleError(400, { type: 'invalid_request_error', message: `An event already exists with identifier ${identifier}.`, param: 'identifier' });
}

export function meterRoutes(): Route[] {
  return [
    route('POST', '/v1/billing/meter_events', (ctx) => {
      checkRequired('billing.meter_event', ctx.params, ['event_name', 'payload']);
      const eventName = String(ctx.params.event_name);
      checkLength('event_name', eventName);
      const payload = ctx.params.payload;
      if (!isRecord(payload)) throw invalidParam('payload', 'Invalid payload: must be a hash of string keys and values.');
      // Default payload keys of a meter's customer_mapping and value_settings.
      const customer = stringParam(payload.stripe_customer_id);
      if (!customer) throw missingParam('payload[stripe_customer_id]');
      const value = stringParam(payload.value);
      if (value === undefined) throw missingParam('payload[value]');
      if (!/^-?\d+$/.test(value)) throw invalidParam('payload[value]', `Invalid payload[value]: ${value}. Meter event values must be whole numbers.`);

      const now = unixNow();
      const timestamp = intParam(ctx.params.timestamp, 'timestamp') ?? now;
      if (timestamp < now - METER_EVENT_MAX_PAST_SECONDS) {
        throw invalidParam('timestamp', `Invalid timestamp: ${timestamp} is more than 35 days in the past. Meter events must be within the past 35 calendar days.`);
      }
      if (timestamp > now + METER_EVENT_MAX_FUTURE_SECONDS) {
        throw invalidParam('timestamp', `Invalid timestamp: ${timestamp} is more than 5 minutes in the future.`);
      }

      const identifier = stringParam(ctx.params.identifier) ?? newId('mtrevt', 24).slice(7);
      checkLength('identifier', identifier);
      const id = storedId(ctx, identifier);
      const earlier = ctx.store.find('billing.meter_event', id, ctx.account);
      if (earlier && Number(earlier.created) > now - METER_EVENT_DEDUP_WINDOW_SECONDS) throw duplicateIdentifier(identifier);
      if (earlier) ctx.store.remove('billing.meter_event', id); // outside the window: a new event

      const event = ctx.store.build('billing.meter_event', { id }, ctx.account);
      Object.assign(event, { created: now, event_name: eventName, identifier, payload: { ...payload }, timestamp });
      return withoutId(ctx.store.put('billing.meter_event', event, ctx.account));
    }),

    route('POST', '/v1/billing/meter_event_adjustments', (ctx) => {
      checkRequired('billing.meter_event_adjustment', ctx.params, ['event_name', 'type']);
      const eventName = String(ctx.params.event_name);
      const type = String(ctx.params.type);
      if (type !== 'cancel') throw invalidParam('type', `Invalid type: must be cancel (got '${type}'); only single-event cancellation is supported.`);
      const cancel = ctx.params.cancel;
      const identifier = isRecord(cancel) ? stringParam(cancel.identifier) : undefined;
      if (!identifier) throw missingParam('cancel[identifier]');

      const now = unixNow();
      const event = ctx.store.find('billing.meter_event', storedId(ctx, identifier), ctx.account);
      if (!event || event.event_name !== eventName) {
        throw invalidParam('cancel[identifier]', `No meter event with identifier '${identifier}' and event_name '${eventName}' to cancel.`, 'resource_missing');
      }
      if (Number(event.created) < now - METER_EVENT_CANCEL_WINDOW_SECONDS) {
        throw invalidParam(
          'cancel[identifier]',
          `The meter event with identifier '${identifier}' was received at ${new Date(Number(event.created) * 1000).toISOString()}; meter events can only be canceled within 24 hours of Stripe receiving them.`,
        );
      }
      // Applied at once (kept as `complete`); answered `pending`, as Stripe answers before processing.
      const adjustment = ctx.store.build('billing.meter_event_adjustment', { id: storedId(ctx, identifier) }, ctx.account);
      Object.assign(adjustment, { event_name: eventName, type: 'cancel', cancel: { identifier }, status: 'complete' });
      delete adjustment.created; // not a field of v1 adjustments
      ctx.store.put('billing.meter_event_adjustment', adjustment, ctx.account);
      return { ...withoutId(adjustment), status: 'pending' };
    }),
  ];
}
