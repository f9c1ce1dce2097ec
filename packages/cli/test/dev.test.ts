// The README's main job, as a user runs it: `stripe-flows dev` brings up Temporal (with its Web
// UI), the Stripe API double, the worker and the receiver; a signed event starts a flow; Ctrl-C
// stops everything; a restart on the same data file still has the flow.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { buildEvent, failedInvoice, signedHeaders } from '@stripe-flows/testing';
import { stateQuery } from '@stripe-flows/core';
import { DEV_WEBHOOK_SECRET } from '../src/config.js';
import { devClient, startDevStack, type DevStack } from './dev-stack.js';

const dataDir = mkdtempSync(join(tmpdir(), 'stripe-flows-dev-'));
const ports = { RECEIVER_PORT: '14242', TEMPORAL_PORT: '17233', TEMPORAL_UI_PORT: '18233', STRIPE_DOUBLE_PORT: '22111', CODEC_PORT: '18234' };
let stack: DevStack | undefined;

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startDev(): Promise<DevStack> {
  stack = await startDevStack({ ports, dataDir });
  return stack;
}

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  // The dev stack encrypts payloads with its dev key: a client reading them needs the same key.
  const { client, connection } = await devClient(ports);
  try {
    return await fn(client);
  } finally {
    await connection.close();
  }
}

async function findByStripeId(client: Client, id: string): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const ids: string[] = [];
    for await (const wf of client.workflow.list({ query: `StripeObjectId = '${id}'` })) ids.push(wf.workflowId);
    if (ids.length) return ids;
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

describe('stripe-flows dev (the main job)', () => {
  it('runs the whole stack, dispatches a signed event, stops cleanly on Ctrl-C, and keeps flows across restarts', async () => {
    const first = await startDev();
    expect(first.output()).toContain(`Webhook endpoint   http://127.0.0.1:${ports.RECEIVER_PORT}/webhooks/stripe`);
    expect(first.output()).toContain(`Temporal Web UI    http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`);
    // The Web UI answers.
    expect((await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`)).status).toBe(200);

    const invoice = failedInvoice();
    const payload = JSON.stringify(buildEvent('invoice.payment_failed', { object: invoice }));
    const response = await fetch(`http://127.0.0.1:${ports.RECEIVER_PORT}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, DEV_WEBHOOK_SECRET), body: payload });
    expect(response.status).toBe(200);
    const workflowId = `billing.dunning:${invoice.id as string}`;
    expect(await withClient((c) => findByStripeId(c, invoice.id as string))).toEqual([workflowId]);

    // History holds ciphertext; the codec endpoint the Temporal UI is pointed at decrypts it.
    const signal = await withClient(async (c) => {
      const history = await c.workflow.getHandle(workflowId).fetchHistory();
      return history.events?.find((e) => e.workflowExecutionSignaledEventAttributes)?.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
    });
    expect(Buffer.from(signal?.metadata?.['encoding'] ?? new Uint8Array()).toString()).toBe('binary/encrypted');
    const decoded = await fetch(`http://127.0.0.1:${ports.CODEC_PORT}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: `http://127.0.0.1:${ports.TEMPORAL_UI_PORT}` },
      body: JSON.stringify({ payloads: [{ metadata: Object.fromEntries(Object.entries(signal?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(signal?.data ?? new Uint8Array()).toString('base64') }] }),
    });
    expect(decoded.headers.get('access-control-allow-origin')).toBe(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`);
    const [plain] = ((await decoded.json()) as { payloads: Array<{ data: string }> }).payloads;
    expect(JSON.parse(Buffer.from(plain!.data, 'base64').toString())).toMatchObject({ id: expect.stringMatching(/^evt_/), type: 'invoice.payment_failed' });
    // The flow reads its own (decrypted) event.
    const applied = await withClient(async (c) => {
      for (let i = 0; i < 100; i++) {
        const { events } = await c.workflow.getHandle(workflowId).query(stateQuery);
        if (events.applied) return events.applied;
        await new Promise((r) => setTimeout(r, 100));
      }
      return 0;
    });
    expect(applied).toBe(1);

    expect(await first.stop()).toBe(0);
    expect(first.output()).toContain('[dev] stopped');
    // Everything is down: nothing answers on the receiver's port.
    await expect(fetch(`http://127.0.0.1:${ports.RECEIVER_PORT}/healthz`)).rejects.toThrow();

    // Same data file: the flow is still there and still running.
    const second = await startDev();
    const status = await withClient(async (c) => (await c.workflow.getHandle(workflowId).describe()).status.name);
    expect(status).toBe('RUNNING');
    expect(await second.stop()).toBe(0);
  });
});
