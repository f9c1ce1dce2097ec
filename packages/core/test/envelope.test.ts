// The envelope's api_version and request fields: what Stripe sends passes, anything else is named.
import { describe, expect, it } from 'vitest';
import { stripeEventEnvelopeSchema } from '../src/envelope.js';

const event = (fields: Record<string, unknown>) => ({
  id: 'evt_1', object: 'event', type: 'invoice.paid', created: 1700000000, livemode: false, data: { object: { id: 'in_1' } }, ...fields,
});

describe('envelope api_version', () => {
  it.each(['2017-08-15', '2024-06-20', '2024-09-30.acacia', '2025-03-31.basil', '2026-10-28.endive', '2025-04-30.preview', '2031-01-15.zinnia', '2025-01-27.acacia; custom_checkout_beta=v1', null, undefined])(
    'accepts %s',
    (apiVersion) => {
      expect(stripeEventEnvelopeSchema.safeParse(event({ api_version: apiVersion })).success).toBe(true);
    },
  );

  it.each(['', 'latest', '2024/06/20', '2024-13-01', '2024-06-32', '24-06-20', '2024-06-20.', '2024-06-20.Basil', ' 2024-06-20', '2024-06-20 ', 'v1', 20240620])(
    'refuses %j, naming the field',
    (apiVersion) => {
      const parsed = stripeEventEnvelopeSchema.safeParse(event({ api_version: apiVersion }));
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['api_version']);
    },
  );
});

describe('envelope request', () => {
  it('accepts the object form, null, and the plain id of API versions before 2017-05-25', () => {
    for (const request of [{ id: 'req_1', idempotency_key: null }, { id: null, idempotency_key: null }, null, 'req_1', undefined]) {
      expect(stripeEventEnvelopeSchema.safeParse(event({ request })).success).toBe(true);
    }
  });

  it('refuses other shapes', () => {
    for (const request of [42, true, ['req_1'], { id: 42 }]) {
      expect(stripeEventEnvelopeSchema.safeParse(event({ request })).success).toBe(false);
    }
  });
});
