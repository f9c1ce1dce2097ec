// Shared by the worker and scale benchmarks: a Temporal client like the receiver's, dunning flows
// started through the real dispatcher (the policy travels in the start input, as a deployment's
// createBillingDomain({ dunning }) puts it), and waiting on many flows through visibility.
import type { Client } from '@temporalio/client';
import { createBillingDomain, type DunningPolicy } from '@stripe-flows/billing';
import { dataConverterFor, Dispatcher, parseEncryptionKeys, RouteRegistry } from '@stripe-flows/core';
import type { StripeApiDouble } from '@stripe-flows/testing';
import { dunningEvent, connectClient } from '../faults/shared.js';
import { sleep, waitFor } from '../processes.js';
import { parseEnvelope } from './events.js';
import { mapLimit } from '../processes.js';
import { BENCH_ENCRYPTION_KEYS } from './stack.js';

/** A client on its own connection, encrypting like the bench's processes when asked. */
export async function benchClient(address: string, encryption: boolean): Promise<Client> {
  const dataConverter = encryption ? dataConverterFor({ PAYLOAD_ENCRYPTION_KEYS: parseEncryptionKeys(BENCH_ENCRYPTION_KEYS) }) : undefined;
  return connectClient(address, dataConverter);
}

/**
 * Start `count` dunning flows, one per fresh open invoice (seeded in the double first), through
 * the dispatcher with `policy`; resolves once Temporal accepted every start.
 */
export async function startDunningFlows(options: {
  client: Client;
  stripe: StripeApiDouble;
  count: number;
  policy?: Partial<DunningPolicy>;
  concurrency?: number;
}): Promise<{ workflowIds: string[]; startMs: number }> {
  const events = Array.from({ length: options.count }, () => dunningEvent());
  for (const e of events) options.stripe.seed('invoice', e.invoice);
  const domain = createBillingDomain(options.policy ? { dunning: options.policy } : {});
  const dispatcher = new Dispatcher({ client: options.client, registry: new RouteRegistry([domain]), deadlineMs: 30_000 });
  const started = performance.now();
  await mapLimit(events, options.concurrency ?? 32, async (e) => {
    const [delivery] = await dispatcher.dispatch(parseEnvelope(e.payload));
    if (delivery?.result !== 'delivered') throw new Error(`dunning start for ${e.invoiceId} was not delivered: ${JSON.stringify(delivery)}`);
  });
  return { workflowIds: events.map((e) => e.workflowId), startMs: performance.now() - started };
}

export interface ClosedFlows {
  completed: number;
  failed: number;
  /** Close time of the last flow to close (epoch ms). */
  lastCloseMs: number;
}

/** Wait until `count` flows of `workflowType` exist and none is running; how they closed. */
export async function waitForFlowsClosed(client: Client, workflowType: string, count: number, timeoutMs: number): Promise<ClosedFlows> {
  await waitFor(`${count} ${workflowType} flows to close`, async () => {
    const [all, running] = await Promise.all([
      client.workflow.count(`WorkflowType = "${workflowType}"`),
      client.workflow.count(`WorkflowType = "${workflowType}" AND ExecutionStatus = "Running"`),
    ]);
    return all.count >= count && running.count === 0;
  }, { timeoutMs, intervalMs: 200 });
  const closed: ClosedFlows = { completed: 0, failed: 0, lastCloseMs: 0 };
  for await (const execution of client.workflow.list({ query: `WorkflowType = "${workflowType}"` })) {
    if (execution.status.name === 'COMPLETED') closed.completed++;
    else closed.failed++;
    closed.lastCloseMs = Math.max(closed.lastCloseMs, execution.closeTime?.getTime() ?? 0);
  }
  return closed;
}

/** Wait until a process used under `thresholdMs` of CPU in each of two consecutive seconds. */
export async function waitForIdle(cpuMs: () => number | undefined, timeoutMs: number, thresholdMs = 30): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  let last = cpuMs() ?? 0;
  while (quiet < 2) {
    if (Date.now() > deadline) throw new Error(`the process did not settle within ${timeoutMs} ms`);
    await sleep(1000);
    const now = cpuMs() ?? 0;
    quiet = now - last < thresholdMs ? quiet + 1 : 0;
    last = now;
  }
}
