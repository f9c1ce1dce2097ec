// verifyStripeEvent on its own: the order of its checks and the answers the corpus relies on.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPayload } from '@stripe-flows/testing';
import { jsonDepthExceeds, MAX_JSON_DEPTH, verifyStripeEvent } from '../src/verify.js';
import { WebhookRequestError } from '../src/errors.js';

const SECRET = 'whsec_verify_unit_test';
const options = { secrets: [SECRET], toleranceSeconds: 300 };
const event = JSON.stringify({ id: 'evt_1', object: 'event' });

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof WebhookRequestError) return error.code;
    throw error;
  }
}

/** Stripe's v1 signature over exact bytes (stripe-node's signer only takes text). */
function signBytes(body: Buffer, secret: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${t}.`), body])).digest('hex')}`;
}

describe('verifyStripeEvent', () => {
  it('parses a correctly signed body', () => {
    expect(verifyStripeEvent(Buffer.from(event), signPayload(event, SECRET), options)).toEqual({ id: 'evt_1', object: 'event' });
  });

  it('refuses several Stripe-Signature headers, even identical valid ones', () => {
    const header = signPayload(event, SECRET);
    expect(codeOf(() => verifyStripeEvent(Buffer.from(event), [header, header], options))).toBe('duplicate_signature_header');
    expect(codeOf(() => verifyStripeEvent(Buffer.from(event), [header], options))).toBeUndefined();
    expect(codeOf(() => verifyStripeEvent(Buffer.from(event), ['', '  '], options))).toBe('missing_signature_header');
  });

  it.each(['t=abc,v1=00', 't=,v1=00', 't=1,t=2,v1=00', 't=1.5,v1=00', 't=1,v1=', 't=1', 'v1=00', 't=1, v1=00'])('calls %j malformed', (header) => {
    expect(codeOf(() => verifyStripeEvent(Buffer.from(event), header, options))).toBe('malformed_signature_header');
  });

  it('refuses invalid UTF-8 before the signature, which stripe-node would check over U+FFFD', () => {
    const body = Buffer.concat([Buffer.from('{"name":"Caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    expect(codeOf(() => verifyStripeEvent(body, signBytes(body, SECRET), options))).toBe('invalid_utf8');
    // Two different invalid bytes decode to the same text: without the check, one signature would verify both.
    const other = Buffer.concat([Buffer.from('{"name":"Caf'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(codeOf(() => verifyStripeEvent(other, signPayload(body.toString('utf8'), SECRET), options))).toBe('invalid_utf8');
  });

  it('checks the signature over the bytes as sent, byte order mark included', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(event)]);
    expect(codeOf(() => verifyStripeEvent(withBom, signPayload(event, SECRET), options))).toBe('no_valid_signature');
    expect(codeOf(() => verifyStripeEvent(withBom, signBytes(withBom, SECRET), options))).toBe('invalid_json');
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH once signed, and reads a body at the limit', () => {
    const nested = (depth: number) => `{"id":"evt_1","object":"event","x":${'['.repeat(depth - 1)}0${']'.repeat(depth - 1)}}`;
    const deep = nested(MAX_JSON_DEPTH + 1);
    expect(codeOf(() => verifyStripeEvent(Buffer.from(deep), signPayload(deep, SECRET), options))).toBe('too_deeply_nested');
    expect(codeOf(() => verifyStripeEvent(Buffer.from(deep), signPayload(deep, 'whsec_other'), options))).toBe('no_valid_signature');
    const atLimit = nested(MAX_JSON_DEPTH);
    expect(codeOf(() => verifyStripeEvent(Buffer.from(atLimit), signPayload(atLimit, SECRET), options))).toBeUndefined();
  });
});

describe('jsonDepthExceeds', () => {
  it('counts brackets outside strings only, escapes included', () => {
    expect(jsonDepthExceeds(Buffer.from('[[[]]]'), 2)).toBe(true);
    expect(jsonDepthExceeds(Buffer.from('[[[]]]'), 3)).toBe(false);
    expect(jsonDepthExceeds(Buffer.from('{"a":"[[[[[[","b":"\\"[[[["}'), 1)).toBe(false);
    expect(jsonDepthExceeds(Buffer.from('["\\\\",[[1]]]'), 2)).toBe(true);
  });

  it('answers like a plain byte-by-byte scan on any input, unterminated strings and trailing backslashes included', () => {
    // The reference: one state machine over every byte.
    const reference = (body: Uint8Array, limit: number): boolean => {
      let depth = 0;
      let inString = false;
      for (let i = 0; i < body.length; i++) {
        const byte = body[i];
        if (inString) {
          if (byte === 0x5c) i++;
          else if (byte === 0x22) inString = false;
        } else if (byte === 0x22) inString = true;
        else if (byte === 0x5b || byte === 0x7b) {
          if (++depth > limit) return true;
        } else if (byte === 0x5d || byte === 0x7d) depth--;
      }
      return false;
    };
    const alphabet = ['"', '\\', '[', ']', '{', '}', 'a', ',', 'é'];
    let seed = 7; // xorshift32: the same inputs every run
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let n = 0; n < 2000; n++) {
      const text = Array.from({ length: next() % 40 }, () => alphabet[next() % alphabet.length]).join('');
      const limit = next() % 4;
      expect(jsonDepthExceeds(Buffer.from(text), limit), `${text} (limit ${limit})`).toBe(reference(Buffer.from(text), limit));
    }
  });
});
