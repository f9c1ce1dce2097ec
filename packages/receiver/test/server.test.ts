// Graceful shutdown: close() stops taking connections but lets an in-flight event finish, so a
// dispatch Temporal accepted is acknowledged to Stripe.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import type { Dispatcher } from '@stripe-flows/core';
import { buildEvent, failedInvoice, signedHeaders } from '@stripe-flows/testing';
import { startReceiver } from '../src/index.js';

const SECRET = 'whsec_shutdown_test_secret';

describe('startReceiver', () => {
  it('finishes in-flight requests on close and refuses new ones', async () => {
    let dispatched = 0;
    const slowDispatcher: Pick<Dispatcher, 'dispatch' | 'routesFor'> = {
      routesFor: () => [{ domain: 'billing', route: {} as never }],
      dispatch: async (event) => {
        await new Promise((r) => setTimeout(r, 500));
        dispatched++;
        return [{ route: 'billing.dunning', workflowId: `billing.dunning:${String(event.data.object['id'])}`, result: 'delivered' }];
      },
    };
    const receiver = await startReceiver({
      config: { PORT: 0, HOST: '127.0.0.1', STRIPE_WEBHOOK_SECRETS: [SECRET], STRIPE_WEBHOOK_TOLERANCE_SECONDS: 300, STRIPE_MODE: 'test', WEBHOOK_BODY_LIMIT: '1mb', DISPATCH_DEADLINE_MS: 5000, SHUTDOWN_GRACE_MS: 5000 },
      client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
      domains: [],
      logger: pino({ level: 'silent' }),
      dispatcher: slowDispatcher,
    });
    const payload = JSON.stringify(buildEvent('invoice.payment_failed', { object: failedInvoice() }));
    const inFlight = fetch(`${receiver.url}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, SECRET), body: payload });
    await new Promise((r) => setTimeout(r, 100)); // the request is now being dispatched
    const closed = receiver.close();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(dispatched).toBe(1);
    await closed;
    await expect(fetch(`${receiver.url}/healthz`)).rejects.toThrow();
  });
});
