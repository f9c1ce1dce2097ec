import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { redactForLog, redactingLoggerOptions, redactText, toActivityFailure } from '../src/index.js';

describe('redactText', () => {
  it.each([
    ['Invalid email address: jenny.rosen@example.com', 'Invalid email address: [email]'],
    ['card 4242424242424242 and 4000 0566 5566 5556', 'card [number] and [number]'],
    ['routing 110000000 account 000123456789', 'routing [number] account [number]'],
    ['call +1 (415) 555-0134', 'call [phone]'],
    ['key sk_live_51Habc123XYZ and rk_test_abcd1234', 'key sk_live_[redacted] and rk_test_[redacted]'],
    ['secret whsec_abc123DEF456', 'secret whsec_[redacted]'],
    ['Authorization: Bearer eyJhbGciOi.x-y_z', 'Authorization: Bearer [redacted]'],
    ['t=1719000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd', 't=1719000000,v1=[redacted]'],
    ['see https://invoice.stripe.com/i/acct_1/test_YWNjdF8x?s=ap', 'see https://invoice.stripe.com/[redacted]'],
    ['POST https://ops:hunter2@hooks.example.com/x?token=abc&kind=1', 'POST https://[redacted]@hooks.example.com/x?token=[redacted]&kind=1'],
  ])('masks %j', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it.each([
    'Stripe rejected GET /v1/invoices/in_1NuhUa2eZvKYlo2CWYVhyvD9 (HTTP 404, resource_missing)',
    'billing.alert:alrt_1:cus_1:1719000000 at 2024-06-21 10:00:00, ms 1719000000000',
    'Temporal at 127.0.0.1:7233 answered in 5000 ms; acct_1234567890abcdef',
    'Invalid API Key provided: sk_test_****1234',
  ])('keeps %j as it is', (input) => {
    expect(redactText(input)).toBe(input);
  });
});

describe('redactForLog', () => {
  it('censors sensitive keys at any depth, masks strings, and keeps ids, counts and error shape', () => {
    const error = Object.assign(new Error('No such customer: jenny@example.com'), { code: 'resource_missing', raw: { message: 'jenny@example.com' } });
    const out = redactForLog({
      eventId: 'evt_1',
      payloads: 2,
      headers: { authorization: 'Bearer abc', 'stripe-signature': 't=1,v1=ff' },
      object: { customer_email: 'a@b.co', billing_details: { name: 'Jenny' }, id: 'in_1' },
      data: new Uint8Array([123, 34, 97]),
      error,
    });
    expect(out).toMatchObject({
      eventId: 'evt_1',
      payloads: 2,
      headers: { authorization: '[redacted]', 'stripe-signature': '[redacted]' },
      object: { customer_email: '[redacted]', billing_details: '[redacted]', id: 'in_1' },
      data: '[3 bytes]',
      error: { type: 'Error', message: 'No such customer: [email]', code: 'resource_missing', raw: { message: '[email]' } },
    });
    expect(JSON.stringify(out)).not.toContain('jenny@example.com');
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { id: 'x' };
    a.self = a;
    expect(redactForLog(a)).toEqual({ id: 'x', self: '[circular]' });
  });
});

describe('redactingLoggerOptions', () => {
  it('redacts the message and arguments before pino formats them, and the logged object', () => {
    const { hooks, formatters } = redactingLoggerOptions();
    const calls: unknown[][] = [];
    const method = (...args: unknown[]) => void calls.push(args);
    hooks.logMethod.call(undefined, [{ eventId: 'evt_1' }, 'sent to jenny@example.com'], method);
    hooks.logMethod.call(undefined, [new Error('card 4242424242424242 declined')], method);
    expect(calls[0]).toEqual([{ eventId: 'evt_1' }, 'sent to [email]']);
    expect(calls[1]?.[0]).toMatchObject({ err: { type: 'Error', message: 'card [number] declined' } });
    expect(calls[1]?.[1]).toBe('card [number] declined');
    expect(formatters.log({ token: 'abc', note: 'jenny@example.com', count: 3 })).toEqual({ token: '[redacted]', note: '[email]', count: 3 });
  });
});

describe('toActivityFailure', () => {
  it('keeps code, param and request id, masks what Stripe echoed', () => {
    const failure = toActivityFailure('POST /v1/customers', {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'email_invalid',
      param: 'email',
      requestId: 'req_123',
      message: 'Invalid email address: jenny@example.com',
    }) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('stripe.email_invalid');
    expect(failure.message).toBe('Stripe rejected POST /v1/customers (HTTP 400, email_invalid): Invalid email address: [email] (param email). This will not be retried; fix the cause, then retry the flow step.');
    expect(failure.details).toEqual([{ status: 400, code: 'email_invalid', param: 'email', declineCode: undefined, requestId: 'req_123' }]);
  });

  it('rethrows retryable errors as the same object, message and stack masked', () => {
    const error = Object.assign(new Error('Card 4242424242424242 of jenny@example.com could not be charged'), { type: 'StripeAPIError', statusCode: 500 });
    expect(toActivityFailure('GET /v1/invoices/in_1', error)).toBe(error);
    expect(error.message).toBe('Card [number] of [email] could not be charged');
    expect(error.stack).not.toContain('jenny@example.com');
  });
});
