import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StripeApiDouble } from '../src/stripe-double/index.js';

// One double for the file; each test uses its own identifiers.
let double: StripeApiDouble;
let stripe: Stripe;
let counter = 0;

beforeAll(async () => {
  double = await StripeApiDouble.start();
  stripe = double.client();
});

afterAll(async () => {
  await double.stop();
});

const now = () => Math.floor(Date.now() / 1000);
const HOUR = 60 * 60;
const unique = (label: string) => `${label}-${++counter}-${Date.now()}`;

async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Stripe.errors.StripeError);
    return error as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}

function meterEvent(identifier: string, extra: Partial<Stripe.Billing.MeterEventCreateParams> = {}): Stripe.Billing.MeterEventCreateParams {
  return { event_name: 'api_requests', payload: { stripe_customer_id: 'cus_Meter1', value: '3' }, identifier, timestamp: now() - 60, ...extra };
}

/** A meter event the double received `hoursAgo` hours ago (the double's clock is real time). */
function seedReceived(identifier: string, hoursAgo: number, extra: Record<string, unknown> = {}): void {
  const created = now() - hoursAgo * HOUR;
  double.seed('billing.meter_event', {
    id: identifier, identifier, event_name: 'api_requests', created, timestamp: created,
    payload: { stripe_customer_id: 'cus_Meter1', value: '1' }, ...extra,
  });
}

describe('POST /v1/billing/meter_events', () => {
  it('records an event as Stripe shows it (no id, payload values as strings) from the form stripe-node sends', async () => {
    const identifier = unique('usage');
    const timestamp = now() - 120;
    const event = await stripe.billing.meterEvents.create(meterEvent(identifier, { timestamp }), { idempotencyKey: `key-${identifier}` });
    expect(event).toEqual({
      object: 'billing.meter_event',
      created: expect.any(Number) as number,
      event_name: 'api_requests',
      identifier,
      livemode: false,
      payload: { stripe_customer_id: 'cus_Meter1', value: '3' },
      timestamp,
    });
    const request = double.requests.at(-1);
    expect(request?.rawBody).toBe(
      `event_name=api_requests&payload[stripe_customer_id]=cus_Meter1&payload[value]=3&identifier=${identifier}&timestamp=${timestamp}`,
    );
    expect(request).toMatchObject({ idempotencyKey: `key-${identifier}`, status: 200 });
    expect(double.get('billing.meter_event', identifier)).toMatchObject({ identifier, payload: { value: '3' } });
  });

  it('generates an identifier when none is given, and defaults the timestamp to now', async () => {
    const before = now();
    const event = await stripe.billing.meterEvents.create({ event_name: 'api_requests', payload: { stripe_customer_id: 'cus_Meter1', value: '1' } });
    expect(event.identifier).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(event.timestamp).toBeGreaterThanOrEqual(before);
  });

  it('refuses a reused identifier within 24 h (new idempotency key) like Stripe: 400 without a code, no second event', async () => {
    const identifier = unique('dup');
    await stripe.billing.meterEvents.create(meterEvent(identifier), { idempotencyKey: `first-${identifier}` });
    const error = await stripeError(stripe.billing.meterEvents.create(meterEvent(identifier, { payload: { stripe_customer_id: 'cus_Meter1', value: '9' } }), { idempotencyKey: `second-${identifier}` }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 400, message: `An event already exists with identifier ${identifier}.`, param: 'identifier' });
    expect(error.code).toBeUndefined();
    expect(double.get('billing.meter_event', identifier)?.payload).toEqual({ stripe_customer_id: 'cus_Meter1', value: '3' });
  });

  it('replays a retry under the same idempotency key: one side effect', async () => {
    const identifier = unique('retry');
    const first = await stripe.billing.meterEvents.create(meterEvent(identifier), { idempotencyKey: `k-${identifier}` });
    const again = await stripe.billing.meterEvents.create(meterEvent(identifier), { idempotencyKey: `k-${identifier}` });
    expect(again).toEqual(first);
    expect(double.sideEffects({ path: '/v1/billing/meter_events' }).filter((r) => r.idempotencyKey === `k-${identifier}`)).toHaveLength(1);
    expect(double.requests.filter((r) => r.idempotencyKey === `k-${identifier}`).map((r) => r.replayed)).toEqual([false, true]);
  });

  it('takes an identifier again once the one it held was received more than 24 h ago', async () => {
    const identifier = unique('old');
    seedReceived(identifier, 25);
    const event = await stripe.billing.meterEvents.create(meterEvent(identifier));
    expect(event.created).toBeGreaterThan(now() - 60);
    expect(double.get('billing.meter_event', identifier)?.payload).toEqual({ stripe_customer_id: 'cus_Meter1', value: '3' });
  });

  it('validates like Stripe: required fields, whole values, the timestamp window, 100-character identifiers', async () => {
    const cases: Array<[Stripe.Billing.MeterEventCreateParams, { param: string; code?: string; message: RegExp }]> = [
      [{ payload: { stripe_customer_id: 'cus_1', value: '1' } } as unknown as Stripe.Billing.MeterEventCreateParams, { param: 'event_name', code: 'parameter_missing', message: /Missing required param: event_name/ }],
      [{ event_name: 'api_requests', payload: { value: '1' } }, { param: 'payload[stripe_customer_id]', code: 'parameter_missing', message: /payload\[stripe_customer_id\]/ }],
      [{ event_name: 'api_requests', payload: { stripe_customer_id: 'cus_1' } }, { param: 'payload[value]', code: 'parameter_missing', message: /payload\[value\]/ }],
      [meterEvent(unique('v'), { payload: { stripe_customer_id: 'cus_1', value: '1.5' } }), { param: 'payload[value]', message: /whole numbers/ }],
      [meterEvent(unique('t'), { timestamp: now() - 36 * 24 * HOUR }), { param: 'timestamp', message: /more than 35 days in the past/ }],
      [meterEvent(unique('t'), { timestamp: now() + 10 * 60 }), { param: 'timestamp', message: /more than 5 minutes in the future/ }],
      [meterEvent('x'.repeat(101)), { param: 'identifier', code: 'parameter_invalid_string_too_long', message: /at most 100 characters/ }],
    ];
    for (const [params, expected] of cases) {
      const error = await stripeError(stripe.billing.meterEvents.create(params));
      expect(error.statusCode, expected.param).toBe(400);
      expect(error.param).toBe(expected.param);
      if (expected.code) expect(error.code).toBe(expected.code);
      expect(error.message).toMatch(expected.message);
    }
    // The edges of the window are accepted.
    await stripe.billing.meterEvents.create(meterEvent(unique('edge'), { timestamp: now() - 35 * 24 * HOUR + 60 }));
    await stripe.billing.meterEvents.create(meterEvent(unique('edge'), { timestamp: now() + 4 * 60 }));
  });

  it("keeps a connected account's identifiers apart from the platform's", async () => {
    const identifier = unique('acct');
    await stripe.billing.meterEvents.create(meterEvent(identifier));
    await stripe.billing.meterEvents.create(meterEvent(identifier), { stripeAccount: 'acct_1MeterTest' });
    expect(double.get('billing.meter_event', `acct_1MeterTest/${identifier}`)).toMatchObject({ identifier });
  });
});

describe('POST /v1/billing/meter_event_adjustments', () => {
  it('cancels an event received within 24 h: answers pending, form cancel[identifier]=..., type=cancel', async () => {
    const identifier = unique('cancel');
    seedReceived(identifier, 23);
    const adjustment = await stripe.billing.meterEventAdjustments.create(
      { event_name: 'api_requests', type: 'cancel', cancel: { identifier } },
      { idempotencyKey: `cancel-${identifier}` },
    );
    expect(adjustment).toEqual({ object: 'billing.meter_event_adjustment', event_name: 'api_requests', type: 'cancel', cancel: { identifier }, livemode: false, status: 'pending' });
    expect(double.requests.at(-1)?.rawBody).toBe(`event_name=api_requests&type=cancel&cancel[identifier]=${identifier}`);
    expect(double.get('billing.meter_event_adjustment', identifier)).toMatchObject({ status: 'complete', cancel: { identifier } });
  });

  it('refuses to cancel an event received more than 24 h ago, naming the rule', async () => {
    const identifier = unique('late');
    seedReceived(identifier, 25);
    const error = await stripeError(stripe.billing.meterEventAdjustments.create({ event_name: 'api_requests', type: 'cancel', cancel: { identifier } }));
    expect(error).toMatchObject({ statusCode: 400, param: 'cancel[identifier]' });
    expect(error.message).toMatch(/can only be canceled within 24 hours of Stripe receiving them/);
    expect(double.get('billing.meter_event_adjustment', identifier)).toBeUndefined();
  });

  it('refuses an unknown identifier, an event of another meter, a missing identifier and a type other than cancel', async () => {
    const identifier = unique('other');
    seedReceived(identifier, 1);
    const unknown = await stripeError(stripe.billing.meterEventAdjustments.create({ event_name: 'api_requests', type: 'cancel', cancel: { identifier: 'never-sent' } }));
    expect(unknown).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'cancel[identifier]' });
    const otherMeter = await stripeError(stripe.billing.meterEventAdjustments.create({ event_name: 'storage_gb', type: 'cancel', cancel: { identifier } }));
    expect(otherMeter.message).toContain(`No meter event with identifier '${identifier}' and event_name 'storage_gb'`);
    const missing = await stripeError(stripe.billing.meterEventAdjustments.create({ event_name: 'api_requests', type: 'cancel' }));
    expect(missing).toMatchObject({ code: 'parameter_missing', param: 'cancel[identifier]' });
    const wrongType = await stripeError(
      stripe.billing.meterEventAdjustments.create({ event_name: 'api_requests', type: 'void' as 'cancel', cancel: { identifier } }),
    );
    expect(wrongType).toMatchObject({ statusCode: 400, param: 'type' });
  });
});

describe('reset', () => {
  it('forgets meter events, so an identifier can be sent again', async () => {
    const identifier = unique('reset');
    await stripe.billing.meterEvents.create(meterEvent(identifier));
    double.reset();
    await expect(stripe.billing.meterEvents.create(meterEvent(identifier))).resolves.toMatchObject({ identifier });
  });
});
