// Payload encryption end to end: the receiver's client and the worker share PAYLOAD_ENCRYPTION_KEYS,
// so workflow history on the Temporal server holds ciphertext only. The test reads raw history
// (no codec) and looks for the event's email, name and amount; the codec endpoint then decrypts
// the same history payload for an operator with a token.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { AesGcmPayloadCodec, dataConverterFor, parseEncryptionKeys, QUARANTINE_TASK_QUEUE, stateQuery, type QuarantineInput } from '@stripe-flows/core';
import { createCodecApp, startReceiver, type RunningReceiver } from '@stripe-flows/receiver';
import { buildEvent, createDevServerEnv, failedInvoice, signedHeaders, StripeApiDouble } from '@stripe-flows/testing';
import { builtInDomains, createDomainWorkers } from '../src/index.js';

const SECRET = 'whsec_encryption_test_only';
const TOKEN = randomBytes(24).toString('hex');
const keys = parseEncryptionKeys(`k-2026-11:${randomBytes(32).toString('base64')}`);
const logger = pino({ level: 'silent' });
// Values that must never appear in history as plaintext.
const EMAIL = 'ada.canary@example.com';
const NAME = 'Ada Canary-Lovelace';
const AMOUNT = 987_651;

let env: TestWorkflowEnvironment;
let stripe: StripeApiDouble;
let receiver: RunningReceiver;
let workers: Worker[];
let running: Promise<unknown>;
let client: Client;
let codecServer: Server;
let codecUrl: string;

beforeAll(async () => {
  [env, stripe] = await Promise.all([createDevServerEnv(), StripeApiDouble.start()]);
  const dataConverter = dataConverterFor({ PAYLOAD_ENCRYPTION_KEYS: keys });
  client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', ...(dataConverter ? { dataConverter } : {}) });
  workers = await createDomainWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    domains: builtInDomains,
    deps: { stripe: stripe.client(), notifier: { notify: async () => undefined } },
    bundleDir: join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundles'),
    ...(dataConverter ? { dataConverter } : {}),
  });
  running = Promise.all(workers.map((w) => w.run()));
  receiver = await startReceiver({
    config: { PORT: 0, HOST: '127.0.0.1', STRIPE_WEBHOOK_SECRETS: [SECRET], STRIPE_WEBHOOK_TOLERANCE_SECONDS: 300, STRIPE_MODE: 'test', WEBHOOK_BODY_LIMIT: '1mb', DISPATCH_DEADLINE_MS: 5000, SHUTDOWN_GRACE_MS: 2000 },
    client,
    domains: builtInDomains,
    logger,
  });
  codecServer = createServer(
    createCodecApp({ codec: new AesGcmPayloadCodec(keys), namespace: env.namespace ?? 'default', authTokens: [TOKEN], allowUnauthenticated: false, corsOrigins: ['http://127.0.0.1:8233'], logger }),
  );
  await new Promise<void>((resolve) => codecServer.listen(0, '127.0.0.1', resolve));
  codecUrl = `http://127.0.0.1:${(codecServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await receiver?.close();
  await new Promise((resolve) => codecServer?.close(resolve));
  for (const w of workers ?? []) w.shutdown();
  await running;
  await stripe?.stop();
  await env?.teardown();
});

async function postSigned(event: Record<string, unknown>) {
  const payload = JSON.stringify(event);
  const response = await fetch(`${receiver.url}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, SECRET), body: payload });
  return { status: response.status, body: (await response.json()) as { deliveries: Array<{ workflowId: string; result: string }> } };
}

/** Every string and byte array of a workflow's raw history, as text. */
async function rawHistoryText(workflowId: string): Promise<string> {
  const response = await env.client.workflowService.getWorkflowExecutionHistory({ namespace: env.namespace ?? 'default', execution: { workflowId } });
  const parts: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('latin1'));
    else if (typeof value === 'string') parts.push(value);
    else if (typeof value === 'number') parts.push(String(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(response.history);
  return parts.join('\n');
}

function leaks(text: string): string[] {
  return [EMAIL, NAME, String(AMOUNT)].filter((secret) => text.includes(secret));
}

describe('payload encryption', () => {
  it('keeps the event email, name and amount out of workflow history, for flows and quarantined events', async () => {
    const invoice = failedInvoice({ amount_due: AMOUNT, amount_remaining: AMOUNT, customer_email: EMAIL, customer_name: NAME });
    stripe.seed('invoice', invoice as { id: string });
    const delivered = await postSigned(buildEvent('invoice.payment_failed', { object: invoice }));
    expect(delivered.body.deliveries[0]?.result).toBe('delivered');
    const dunningId = delivered.body.deliveries[0]!.workflowId;

    // A signed event the flow cannot read is held whole in quarantine: the most PII-rich payload there is.
    const unreadable = failedInvoice({ amount_due: String(AMOUNT), customer_email: EMAIL, customer_name: NAME });
    const quarantined = await postSigned(buildEvent('invoice.payment_failed', { object: unreadable }));
    expect(quarantined.body.deliveries[0]?.result).toBe('quarantined');
    const quarantineId = quarantined.body.deliveries[0]!.workflowId;

    // The flow ran on the decrypted event (the worker and this client hold the key): it read the
    // invoice and sent the first notice, so activity inputs and results are in history too.
    let state: { done: Array<{ action: string }>; events: { applied?: number } } | undefined;
    for (let i = 0; i < 100; i++) {
      state = (await client.workflow.getHandle(dunningId).query(stateQuery)) as typeof state;
      if (state?.done.some((d) => d.action === 'sent payment_failed')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(state?.events.applied).toBe(1);
    expect(state?.done.map((d) => d.action)).toContain('sent payment_failed');

    const dunningHistory = await rawHistoryText(dunningId);
    const quarantineHistory = await rawHistoryText(quarantineId);
    expect(dunningHistory).toContain('binary/encrypted');
    expect(dunningHistory).toContain('k-2026-11');
    expect(leaks(dunningHistory)).toEqual([]);
    expect(leaks(quarantineHistory)).toEqual([]);
  });

  it('keeps an activity failure message that echoes personal data out of history', async () => {
    const invoice = failedInvoice({ amount_due: 4200 });
    stripe.seed('invoice', invoice as { id: string });
    // Stripe error messages can repeat what they refuse, as "Invalid email address: ..." does.
    stripe.inject({ method: 'GET', path: `/v1/invoices/${invoice.id as string}`, times: Infinity, fault: { type: 'status', status: 400, code: 'parameter_invalid', message: `Invalid email address: ${EMAIL}` } });
    const { body } = await postSigned(buildEvent('invoice.payment_failed', { object: invoice }));
    const workflowId = body.deliveries[0]!.workflowId;
    let history = '';
    for (let i = 0; i < 100 && !history.includes('Encoded failure'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      history = await rawHistoryText(workflowId);
    }
    stripe.clearFaults();
    // The failure is in history, its message and stack trace sealed in encoded attributes.
    expect(history).toContain('Encoded failure');
    expect(leaks(history)).toEqual([]);
  });

  it('the same scan finds them when a client without the codec writes the payload (the check is not vacuous)', async () => {
    const input = { event: buildEvent('invoice.payment_failed', { object: failedInvoice({ customer_email: EMAIL, customer_name: NAME, amount_due: AMOUNT }) }), route: 'billing.dunning', problems: [], receivedAt: new Date().toISOString(), retentionDays: 1 } as unknown as QuarantineInput;
    const handle = await env.client.workflow.start('holdQuarantinedEvent', { workflowId: `plaintext-control-${Date.now()}`, taskQueue: `${QUARANTINE_TASK_QUEUE}-unpolled`, args: [input] });
    expect(leaks(await rawHistoryText(handle.workflowId)).sort()).toEqual([EMAIL, NAME, String(AMOUNT)].sort());
    await handle.terminate('control done');
  });

  it('the codec endpoint decrypts history payloads for a token holder, and for nobody else', async () => {
    const invoice = failedInvoice({ amount_due: AMOUNT, amount_remaining: AMOUNT });
    stripe.seed('invoice', invoice as { id: string });
    const { body } = await postSigned(buildEvent('invoice.payment_failed', { object: invoice }));
    const workflowId = body.deliveries[0]!.workflowId;
    const history = await env.client.workflowService.getWorkflowExecutionHistory({ namespace: env.namespace ?? 'default', execution: { workflowId } });
    const signal = history.history?.events?.find((e) => e.workflowExecutionSignaledEventAttributes)?.workflowExecutionSignaledEventAttributes;
    const payload = signal?.input?.payloads?.[0];
    expect(payload).toBeDefined();
    const wire = {
      payloads: [{
        metadata: Object.fromEntries(Object.entries(payload!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        data: Buffer.from(payload!.data ?? new Uint8Array()).toString('base64'),
      }],
    };
    const post = (headers: Record<string, string>) =>
      fetch(`${codecUrl}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': env.namespace ?? 'default', ...headers }, body: JSON.stringify(wire) });

    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer not-the-token-not-the-token' })).status).toBe(401);
    const decoded = await post({ authorization: `Bearer ${TOKEN}` });
    expect(decoded.status).toBe(200);
    const [plain] = ((await decoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads;
    expect(Buffer.from(plain!.metadata['encoding']!, 'base64').toString()).toBe('json/plain');
    const flowEvent = JSON.parse(Buffer.from(plain!.data, 'base64').toString()) as { object: { amountDue: number } };
    expect(flowEvent.object.amountDue).toBe(AMOUNT);
  });
});
