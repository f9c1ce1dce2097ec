// The stack the worker-side scenarios run on: a Temporal dev server process, the Stripe API
// double (in this process, so faults can be injected and requests read) behind a response-fault
// proxy, the worker as a real process, and a receiver (in this process, for a deployment's
// compressed dunning policy) that starts flows from signed events.
import { join } from 'node:path';
import pino from 'pino';
import type { Client, DataConverter } from '@temporalio/client';
import { createBillingDomain } from '@stripe-flows/billing';
import { startReceiver, type RunningReceiver } from '@stripe-flows/receiver';
import { StripeApiDouble } from '@stripe-flows/testing';
import { freePort, ProcessSet, sleep, startTemporalDevServer, startWorkerProcess, type ManagedProcess } from '../processes.js';
import { ResponseFaultProxy } from './response-proxy.js';
import { compressedDunningPolicy, connectClient, deliverEvent, FAULTS_WEBHOOK_SECRET, isAcknowledged, type DunningEvent } from './shared.js';

export interface FlowStack {
  processes: ProcessSet;
  temporalAddress: string;
  client: Client;
  stripe: StripeApiDouble;
  /** Between the worker and the double: faults on responses (held, lost after the write applied). */
  proxy: ResponseFaultProxy;
  receiver: RunningReceiver;
  /** The worker process started with the stack. */
  worker: ManagedProcess;
  /** Start another worker process. */
  startWorker(name?: string): Promise<ManagedProcess>;
  /**
   * Seed the event's invoice in the double and deliver the signed event, re-sending as Stripe
   * does until it is acknowledged (a Temporal server just started can take a few seconds to
   * accept its first workflows); throws if it is not within 30 s.
   */
  startDunning(event: DunningEvent): Promise<void>;
  /** Stop everything: receiver, processes, double, client. Safe to call twice. */
  close(): Promise<void>;
}

export interface FlowStackOptions {
  /** Folder for the Temporal data file. */
  dir: string;
  /** Worker's STRIPE_TIMEOUT_MS. */
  stripeTimeoutMs?: number;
  /** Seconds from the first failed payment to dunning's final action. Default 2. */
  finalActionAfterSeconds?: number;
  /** Extra worker environment (e.g. PAYLOAD_ENCRYPTION_KEYS); `dataConverter` then the matching one for this side. */
  workerEnv?: Record<string, string>;
  dataConverter?: DataConverter;
}

export async function startFlowStack(options: FlowStackOptions): Promise<FlowStack> {
  const processes = new ProcessSet();
  const closers: Array<() => Promise<unknown>> = [() => processes.killAll()];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  };
  try {
    const port = await freePort();
    const temporalAddress = `127.0.0.1:${port}`;
    const [, stripe] = await Promise.all([
      startTemporalDevServer(processes, { port, dbFile: join(options.dir, 'temporal.sqlite') }),
      StripeApiDouble.start(),
    ]);
    closers.push(() => stripe.stop());
    const proxy = await ResponseFaultProxy.start(stripe.url);
    closers.push(() => proxy.stop());
    const client = await connectClient(temporalAddress, options.dataConverter);
    closers.push(() => client.connection.close());
    let workers = 0;
    const startWorker = (name?: string) =>
      startWorkerProcess(processes, {
        name: name ?? `worker#${++workers}`,
        temporalAddress,
        stripeApiBase: proxy.url,
        ...(options.stripeTimeoutMs !== undefined ? { stripeTimeoutMs: options.stripeTimeoutMs } : {}),
        ...(options.workerEnv ? { env: options.workerEnv } : {}),
      });
    const [receiver, worker] = await Promise.all([
      startReceiver({
        config: {
          PORT: 0,
          HOST: '127.0.0.1',
          STRIPE_WEBHOOK_SECRETS: [FAULTS_WEBHOOK_SECRET],
          STRIPE_WEBHOOK_TOLERANCE_SECONDS: 300,
          STRIPE_MODE: 'test',
          WEBHOOK_BODY_LIMIT: '1mb',
          DISPATCH_DEADLINE_MS: 5000,
          SHUTDOWN_GRACE_MS: 1000,
        },
        client,
        domains: [createBillingDomain({ dunning: compressedDunningPolicy(options.finalActionAfterSeconds ?? 2) })],
        logger: pino({ level: 'silent' }),
      }),
      startWorker(),
    ]);
    closers.push(() => receiver.close());
    const webhookUrl = `${receiver.url}/webhooks/stripe`;
    return {
      processes,
      temporalAddress,
      client,
      stripe,
      proxy,
      receiver,
      worker,
      startWorker,
      async startDunning(event) {
        stripe.seed('invoice', event.invoice);
        const deadline = Date.now() + 30_000;
        for (let backoff = 250; ; backoff = Math.min(backoff * 2, 2000)) {
          const attempt = await deliverEvent(webhookUrl, event.payload);
          if (isAcknowledged(attempt)) return;
          if (Date.now() > deadline) throw new Error(`The receiver did not acknowledge ${event.eventId} within 30 s (last answer: ${attempt.status} ${attempt.code ?? ''}).`);
          await sleep(backoff);
        }
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
