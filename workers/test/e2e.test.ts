// End to end on real processes' parts: Temporal dev server, the Stripe API double, the worker
// (workflow bundles as built) and the receiver over HTTP. A signed invoice.payment_failed starts
// dunning, found through its StripeObjectId search attribute; a signed invoice.paid ends it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { discardQuarantinedSignal, quarantineStateQuery, stateQuery, type QuarantineState } from '@stripe-flows/core';
import type { DunningResult } from '@stripe-flows/billing';
import { startReceiver, type RunningReceiver } from '@stripe-flows/receiver';
import { buildEvent, createDevServerEnv, failedInvoice, signedHeaders, StripeApiDouble } from '@stripe-flows/testing';
import { builtInDomains, createDomainWorkers } from '../src/index.js';

const SECRET = 'whsec_e2e_secret_for_tests_only';
const logger = pino({ level: 'silent' });
let env: TestWorkflowEnvironment;
let stripe: StripeApiDouble;
let receiver: RunningReceiver;
let workers: Worker[];
let running: Promise<unknown>;

beforeAll(async () => {
  [env, stripe] = await Promise.all([createDevServerEnv(), StripeApiDouble.start()]);
  workers = await createDomainWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    domains: builtInDomains,
    deps: { stripe: stripe.client(), notifier: { notify: async () => undefined } },
    bundleDir: join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundles'),
  });
  running = Promise.all(workers.map((w) => w.run()));
  receiver = await startReceiver({
    config: {
      PORT: 0,
      HOST: '127.0.0.1',
      STRIPE_WEBHOOK_SECRETS: [SECRET],
      STRIPE_WEBHOOK_TOLERANCE_SECONDS: 300,
      STRIPE_MODE: 'test',
      WEBHOOK_BODY_LIMIT: '1mb',
      DISPATCH_DEADLINE_MS: 5000,
      SHUTDOWN_GRACE_MS: 2000,
    },
    client: env.client,
    domains: builtInDomains,
    logger,
  });
});
afterAll(async () => {
  await receiver?.close();
  for (const w of workers ?? []) w.shutdown();
  await running;
  await stripe?.stop();
  await env?.teardown();
});

async function postSigned(event: Record<string, unknown>) {
  const payload = JSON.stringify(event);
  const response = await fetch(`${receiver.url}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, SECRET), body: payload });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('receiver → Temporal → worker → Stripe', () => {
  it('runs dunning from a signed invoice.payment_failed to recovery on a signed invoice.paid', async () => {
    const invoice = failedInvoice();
    const invoiceId = invoice.id as string;
    stripe.seed('invoice', invoice as { id: string });

    const failed = await postSigned(buildEvent('invoice.payment_failed', { object: invoice }));
    expect(failed.status).toBe(200);

    // Found in Temporal by the Stripe id, as an operator would in Temporal UI.
    let found: string[] = [];
    for (let i = 0; i < 100 && found.length === 0; i++) {
      found = [];
      for await (const wf of env.client.workflow.list({ query: `StripeObjectId = '${invoiceId}'` })) found.push(wf.workflowId);
      if (!found.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toEqual([`billing.dunning:${invoiceId}`]);
    const handle = env.client.workflow.getHandle(found[0]!);

    // The flow read the invoice from Stripe and is waiting for payment.
    let state = (await handle.query(stateQuery)) as { step: string };
    for (let i = 0; i < 50 && state.step !== 'waiting_for_payment'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await handle.query(stateQuery)) as { step: string };
    }
    expect(state.step).toBe('waiting_for_payment');
    expect(stripe.requests.some((r) => r.method === 'GET' && r.path === `/v1/invoices/${invoiceId}`)).toBe(true);

    stripe.update('invoice', invoiceId, { status: 'paid', amount_remaining: 0 });
    const paid = await postSigned(buildEvent('invoice.paid', { object: { ...invoice, status: 'paid', amount_remaining: 0 } }));
    expect(paid.status).toBe(200);
    const result = (await handle.result()) as DunningResult;
    expect(result).toMatchObject({ invoiceId, outcome: 'recovered' });
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.getAll().find((p) => p.key.name === 'FlowStatus')?.value).toBe('completed');
    // No Stripe writes for a recovered invoice.
    expect(stripe.sideEffects({ method: 'POST' })).toEqual([]);
  });

  it('is ready only with Temporal reachable (/readyz) and alive (/healthz)', async () => {
    expect(await (await fetch(`${receiver.url}/readyz`)).json()).toEqual({ status: 'ready' });
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
  });

  it('holds an event whose payload a flow cannot read in a running quarantine workflow', async () => {
    const event = buildEvent('invoice.payment_failed', { object: failedInvoice({ collection_method: 'by_carrier_pigeon' }) });
    const response = await postSigned(event);
    const [delivery] = response.body.deliveries as Array<{ result: string; workflowId: string }>;
    expect(delivery?.result).toBe('quarantined');
    const handle = env.client.workflow.getHandle(delivery!.workflowId);
    let state: QuarantineState | undefined;
    for (let i = 0; i < 50 && !state; i++) {
      state = await handle.query(quarantineStateQuery).catch(() => undefined);
      if (!state) await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toMatchObject({ route: 'billing.dunning', eventId: event.id, eventType: 'invoice.payment_failed', deliveries: 1 });
    // Stripe retries the same event: counted on the same quarantine workflow, not stored twice.
    const again = await postSigned(event);
    expect((again.body.deliveries as Array<{ workflowId: string }>)[0]?.workflowId).toBe(delivery!.workflowId);
    for (let i = 0; i < 50 && state?.deliveries !== 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await handle.query(quarantineStateQuery);
    }
    expect(state?.deliveries).toBe(2);
    expect(state?.problems.join(' ')).toContain('data.object.collection_method');
    expect(state?.event).toEqual(event);
    await handle.signal(discardQuarantinedSignal, { reason: 'test: written off' });
    expect(await handle.result()).toMatchObject({ released: { reason: 'test: written off' } });
  });
});
