// WEBHOOK_REQUEST_TIMEOUT_MS: a request whose body never completes is answered 408 with the
// receiver's JSON error body; time spent dispatching a complete request does not count.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import type { Dispatcher } from '@stripe-flows/core';
import { buildEvent, failedInvoice, signedHeaders } from '@stripe-flows/testing';
import { startReceiver } from '../src/index.js';

const SECRET = 'whsec_request_timeout_test';

async function receiverWith(dispatchMs: number) {
  const dispatcher: Pick<Dispatcher, 'dispatch' | 'routesFor'> = {
    routesFor: () => [{ domain: 'billing', route: {} as never }],
    dispatch: async (event) => {
      await new Promise((r) => setTimeout(r, dispatchMs));
      return [{ route: 'billing.dunning', workflowId: `billing.dunning:${String(event.data.object['id'])}`, result: 'delivered' }];
    },
  };
  return startReceiver({
    config: { PORT: 0, HOST: '127.0.0.1', STRIPE_WEBHOOK_SECRETS: [SECRET], STRIPE_WEBHOOK_TOLERANCE_SECONDS: 300, STRIPE_MODE: 'test', WEBHOOK_BODY_LIMIT: '1mb', WEBHOOK_REQUEST_TIMEOUT_MS: 400, DISPATCH_DEADLINE_MS: 5000, SHUTDOWN_GRACE_MS: 1000 },
    client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
    domains: [],
    logger: pino({ level: 'silent' }),
    dispatcher,
  });
}

/** Send the head and part of the body, then nothing; resolve with everything the server answered. */
function stall(url: string, payload: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let answer = '';
    socket.on('data', (chunk) => (answer += String(chunk)));
    socket.on('close', () => resolve(answer));
    socket.on('connect', () => {
      const headers = { ...signedHeaders(payload, SECRET), 'content-length': String(Buffer.byteLength(payload)), host: `${hostname}:${port}` };
      socket.write(`POST /webhooks/stripe HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${payload.slice(0, 50)}`);
    });
  });
}

describe('request timeout', () => {
  it('answers a stalled body 408 request_timeout in JSON, and keeps serving', async () => {
    const receiver = await receiverWith(0);
    try {
      const payload = JSON.stringify(buildEvent('invoice.payment_failed', { object: failedInvoice() }));
      const started = Date.now();
      const answer = await stall(receiver.url, payload);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'request_timeout' } });
      expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
    } finally {
      await receiver.close();
    }
  });

  it('does not count dispatch time: a complete request slower to dispatch than the timeout gets 200', async () => {
    const receiver = await receiverWith(900);
    try {
      const payload = JSON.stringify(buildEvent('invoice.payment_failed', { object: failedInvoice() }));
      const response = await fetch(`${receiver.url}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, SECRET), body: payload });
      expect(response.status).toBe(200);
    } finally {
      await receiver.close();
    }
  });
});
