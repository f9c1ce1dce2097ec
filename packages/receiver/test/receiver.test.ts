// The receiver's event path (ARCHITECTURE.md steps 1-7) over HTTP, against a real Temporal dev
// server: each bad input gets its status and error body and starts no workflow.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Connection, Client, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Dispatcher, RouteRegistry } from '@stripe-flows/core';
import { billing } from '@stripe-flows/billing';
import { buildEvent, createDevServerEnv, failedInvoice, signPayload } from '@stripe-flows/testing';
import { createReceiverApp } from '../src/index.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const PLATFORM_SECRET = 'whsec_platform_test_secret_0123456789';
const CONNECT_SECRET = 'whsec_connect_test_secret_9876543210';
let env: TestWorkflowEnvironment;
let server: Server;
let base: string;
const logLines: string[] = [];

function capturingLogger() {
  return pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
}

async function listen(app: ReturnType<typeof createReceiverApp>): Promise<{ server: Server; base: string }> {
  const s = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => s.once('listening', resolve));
  return { server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  env = await createDevServerEnv();
  const dispatcher = new Dispatcher({ client: env.client, registry: new RouteRegistry([billing]), deadlineMs: 5000 });
  ({ server, base } = await listen(
    createReceiverApp({
      dispatcher,
      webhookSecrets: [PLATFORM_SECRET, CONNECT_SECRET],
      mode: 'test',
      bodyLimit: '64kb',
      logger: capturingLogger(),
      isTemporalReachable: async () => true,
    }),
  ));
});
afterAll(async () => {
  server?.close();
  await env?.teardown();
});

interface ReceiverAnswer {
  error: { code: string; message: string; details?: string[] };
  received?: boolean;
  ignored?: boolean;
  deliveries?: unknown[];
}

async function post(body: string, headers: Record<string, string>) {
  const response = await fetch(`${base}/webhooks/stripe`, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as ReceiverAnswer };
}

function signed(event: unknown, options: { secret?: string; timestamp?: number } = {}) {
  const payload = typeof event === 'string' ? event : JSON.stringify(event);
  return {
    payload,
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signPayload(payload, options.secret ?? PLATFORM_SECRET, options) },
  };
}

async function workflowExists(workflowId: string): Promise<boolean> {
  try {
    await env.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function workflowCount(): Promise<number> {
  return (await env.client.workflow.count()).count;
}

function paymentFailed(overrides: Record<string, unknown> = {}, options: Parameters<typeof buildEvent>[1] = {}) {
  const invoice = failedInvoice(overrides);
  return { invoiceId: invoice.id as string, event: buildEvent('invoice.payment_failed', { ...options, object: invoice }) };
}

describe('POST /webhooks/stripe refuses bad input and starts nothing', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<{ name: string; status: number; code: string; make: () => { payload: string; headers: Record<string, string>; invoiceId: string } }> = [
    {
      name: 'missing Stripe-Signature header',
      status: 400,
      code: 'missing_signature_header',
      make: () => {
        const { event, invoiceId } = paymentFailed();
        return { payload: JSON.stringify(event), headers: { 'content-type': 'application/json' }, invoiceId };
      },
    },
    {
      name: 'malformed Stripe-Signature header',
      status: 400,
      code: 'malformed_signature_header',
      make: () => {
        const { event, invoiceId } = paymentFailed();
        return { payload: JSON.stringify(event), headers: { 'content-type': 'application/json', 'stripe-signature': 'garbage' }, invoiceId };
      },
    },
    {
      name: 'signed with a secret that is not configured',
      status: 400,
      code: 'no_valid_signature',
      make: () => {
        const { event, invoiceId } = paymentFailed();
        return { ...signed(event, { secret: 'whsec_someone_else' }), invoiceId };
      },
    },
    {
      name: 'body changed after signing',
      status: 400,
      code: 'no_valid_signature',
      make: () => {
        const { event, invoiceId } = paymentFailed();
        const s = signed(event);
        return { payload: s.payload.replace('"amount_due":4200', '"amount_due":1'), headers: s.headers, invoiceId };
      },
    },
    {
      name: 'stale timestamp (older than the 300 s tolerance)',
      status: 400,
      code: 'timestamp_outside_tolerance',
      make: () => {
        const { event, invoiceId } = paymentFailed();
        return { ...signed(event, { timestamp: now() - 301 }), invoiceId };
      },
    },
    {
      name: 'timestamp from the future',
      status: 400,
      code: 'timestamp_outside_tolerance',
      make: () => {
        const { event, invoiceId } = paymentFailed();
        return { ...signed(event, { timestamp: now() + 3600 }), invoiceId };
      },
    },
    {
      name: 'signed body that is not JSON',
      status: 400,
      code: 'invalid_json',
      make: () => ({ ...signed('{"id": "evt_1", "type": invoice.payment_failed'), invoiceId: 'in_notjson' }),
    },
    {
      name: 'signed JSON that is not an event',
      status: 400,
      code: 'invalid_event',
      make: () => ({ ...signed({ hello: 'world' }), invoiceId: 'in_notevent' }),
    },
    {
      name: 'live event sent to a test-mode receiver',
      status: 400,
      code: 'livemode_mismatch',
      make: () => {
        const { event, invoiceId } = paymentFailed({}, { livemode: true });
        return { ...signed(event), invoiceId };
      },
    },
    {
      name: 'wrong content type',
      status: 415,
      code: 'unsupported_content_type',
      make: () => {
        const { event, invoiceId } = paymentFailed();
        const s = signed(event);
        return { payload: s.payload, headers: { ...s.headers, 'content-type': 'text/plain' }, invoiceId };
      },
    },
    {
      name: 'empty body',
      status: 400,
      code: 'empty_body',
      make: () => ({ payload: '', headers: { 'content-type': 'application/json', 'stripe-signature': signPayload('', PLATFORM_SECRET) }, invoiceId: 'in_empty' }),
    },
    {
      name: 'body over the size limit',
      status: 413,
      code: 'body_too_large',
      make: () => {
        const { event, invoiceId } = paymentFailed({ description: 'x'.repeat(70 * 1024) });
        return { ...signed(event), invoiceId };
      },
    },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = await workflowCount();
      const { payload, headers, invoiceId } = c.make();
      const response = await post(payload, headers);
      expect(response.status).toBe(c.status);
      expect(response.body.error.code).toBe(c.code);
      expect(response.body.error.message).toEqual(expect.any(String));
      expect(response.body.error.message.length).toBeGreaterThan(20);
      expect(await workflowExists(`billing.dunning:${invoiceId}`)).toBe(false);
      expect(await workflowCount()).toBe(before);
    });
  }

  it('names each wrong field of a malformed envelope', async () => {
    const event = { ...(buildEvent('invoice.payment_failed', { object: failedInvoice() }) as Record<string, unknown>), created: 'yesterday', id: 'not-an-id' };
    const response = await post(...(Object.values(signed(event)) as [string, Record<string, string>]));
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual(expect.arrayContaining([expect.stringMatching(/^id: /), expect.stringMatching(/^created: /)]));
  });
});

describe('POST /webhooks/stripe accepts what it should', () => {
  it('answers 200 {ignored: true} for an event type no enabled domain routes, starting nothing', async () => {
    const before = await workflowCount();
    const { payload, headers } = signed(buildEvent('customer.created'));
    const response = await post(payload, headers);
    expect(response).toMatchObject({ status: 200, body: { received: true, ignored: true } });
    expect(await workflowCount()).toBe(before);
  });

  it('verifies against every configured secret (Connect endpoint secret too) and starts the flow', async () => {
    const { event, invoiceId } = paymentFailed({}, { account: 'acct_1ConnectedTest' });
    const { payload, headers } = signed(event, { secret: CONNECT_SECRET });
    const response = await post(payload, headers);
    expect(response.status).toBe(200);
    expect(response.body.deliveries).toEqual([{ route: 'billing.dunning', workflowId: `billing.dunning:${invoiceId}`, result: 'delivered' }]);
    const description = await env.client.workflow.getHandle(`billing.dunning:${invoiceId}`).describe();
    expect(description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([
        ['StripeObjectId', invoiceId],
        ['StripeAccountId', 'acct_1ConnectedTest'],
        ['FlowDomain', 'billing'],
      ]),
    );
    await env.client.workflow.getHandle(`billing.dunning:${invoiceId}`).terminate('test cleanup');
  });

  it('quarantines an event whose projection fails, keeping the raw event, and starts no flow', async () => {
    const { event, invoiceId } = paymentFailed({ status: 'mystery', amount_due: 'lots' });
    const { payload, headers } = signed(event);
    const response = await post(payload, headers);
    expect(response.status).toBe(200);
    const [delivery] = response.body.deliveries as Array<{ result: string; workflowId: string; problems: string[] }>;
    expect(delivery?.result).toBe('quarantined');
    expect(delivery?.problems.join(' ')).toContain('data.object.status');
    expect(await workflowExists(`billing.dunning:${invoiceId}`)).toBe(false);
    const quarantine = env.client.workflow.getHandle(delivery!.workflowId);
    const description = await quarantine.describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe('stripe-flows.quarantine');
    // Redelivery reaches the same quarantine workflow.
    const again = await post(payload, headers);
    expect((again.body.deliveries as Array<{ workflowId: string }>)[0]?.workflowId).toBe(delivery!.workflowId);
    await quarantine.terminate('test cleanup');
  });
});

describe('Temporal unavailable', () => {
  it('answers 503 within the deadline so Stripe retries, and /readyz says so', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200 });
    const client = new Client({ connection });
    const app = createReceiverApp({
      dispatcher: new Dispatcher({ client, registry: new RouteRegistry([billing]), deadlineMs: 1500 }),
      webhookSecrets: [PLATFORM_SECRET],
      mode: 'test',
      logger: capturingLogger(),
      isTemporalReachable: async () => false,
    });
    const down = await listen(app);
    try {
      const { event } = paymentFailed();
      const { payload, headers } = signed(event);
      const started = Date.now();
      const response = await fetch(`${down.base}/webhooks/stripe`, { method: 'POST', headers, body: payload });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('temporal_unavailable');
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await fetch(`${down.base}/readyz`)).status).toBe(503);
      expect((await fetch(`${down.base}/healthz`)).status).toBe(200);
    } finally {
      down.server.close();
    }
  });
});

describe('logs', () => {
  it('never contain the secrets, signatures or payload bodies', () => {
    const all = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(10);
    expect(all).not.toContain(PLATFORM_SECRET);
    expect(all).not.toContain(CONNECT_SECRET);
    expect(all).not.toMatch(/v1=[0-9a-f]{64}/);
    expect(all).not.toContain('hosted_invoice_url');
    expect(all).not.toContain('invoice.stripe.com');
  });
});
