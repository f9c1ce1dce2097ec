// What the corpus runs against: a Temporal dev server (or a Temporal that is not there) and the
// receiver in-process with the real billing and Connect domains, configured as corpus/receiver.json says.
import { createServer } from 'node:net';
import pino, { type Logger } from 'pino';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Dispatcher, RouteRegistry, type DispatchOutcome, type StripeEventEnvelope } from '@stripe-flows/core';
import { billing } from '@stripe-flows/billing';
import { connect } from '@stripe-flows/connect';
import { startReceiver, type RunningReceiver } from '@stripe-flows/receiver';
import { createDevServerEnv } from '@stripe-flows/testing';
import { loadCorpus, type CorpusReceiverSettings, type CorpusTargetKind } from './corpus-schema.js';

/** Dispatch calls made by the receiver, and the per-route results they returned. */
export interface DispatchTally {
  calls: number;
  results: Record<string, number>;
}

/** A dispatcher that counts what the receiver hands it, then does what `inner` does. */
export function countingDispatcher(inner: Pick<Dispatcher, 'dispatch' | 'routesFor'>): Pick<Dispatcher, 'dispatch' | 'routesFor'> & { tally: DispatchTally } {
  const tally: DispatchTally = { calls: 0, results: {} };
  return {
    tally,
    routesFor: (eventType: string) => inner.routesFor(eventType),
    dispatch: async (event: StripeEventEnvelope): Promise<DispatchOutcome[]> => {
      tally.calls++;
      try {
        const outcomes = await inner.dispatch(event);
        for (const o of outcomes) tally.results[o.result] = (tally.results[o.result] ?? 0) + 1;
        return outcomes;
      } catch (error) {
        tally.results['unavailable'] = (tally.results['unavailable'] ?? 0) + 1;
        throw error;
      }
    },
  };
}

/** A receiver ready for {@link runCorpus}; `close()` stops it and Temporal. */
export interface CorpusTarget {
  kind: CorpusTargetKind;
  receiverUrl: string;
  /** Client of the namespace the receiver dispatches to (unusable when Temporal is unavailable). */
  client: Client;
  dispatches: DispatchTally;
  receiver: RunningReceiver;
  settings: CorpusReceiverSettings;
  close(): Promise<void>;
}

export interface StartCorpusTargetOptions {
  /** `temporal-available` (default): a fresh Temporal dev server from the project's binary.
   * `temporal-unavailable`: a client pointed at a closed loopback port. */
  kind?: CorpusTargetKind;
  /** Reuse a running Temporal environment instead of starting one (not closed by `close()`). */
  env?: TestWorkflowEnvironment;
  settings?: CorpusReceiverSettings;
  logger?: Logger;
}

/** Start what the corpus needs: Temporal (or its absence) and the receiver on a free loopback port. */
export async function startCorpusTarget(options: StartCorpusTargetOptions = {}): Promise<CorpusTarget> {
  const kind = options.kind ?? 'temporal-available';
  const settings = options.settings ?? loadCorpus().receiver;
  const logger = options.logger ?? pino({ level: 'silent' });
  let env: TestWorkflowEnvironment | undefined;
  let client: Client;
  let deadlineMs = settings.dispatchDeadlineMs;
  if (kind === 'temporal-available') {
    env = options.env ?? (await createDevServerEnv());
    client = env.client;
  } else {
    client = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await closedPort()}`, connectTimeout: 200 }) });
    deadlineMs = Math.min(deadlineMs, 1000);
  }
  const dispatcher = countingDispatcher(new Dispatcher({ client, registry: new RouteRegistry([billing, connect]), deadlineMs }));
  const receiver = await startReceiver({
    config: {
      PORT: 0,
      HOST: '127.0.0.1',
      STRIPE_WEBHOOK_SECRETS: [settings.secrets.configured, settings.secrets.connect],
      STRIPE_WEBHOOK_TOLERANCE_SECONDS: settings.toleranceSeconds,
      STRIPE_MODE: settings.mode,
      WEBHOOK_BODY_LIMIT: settings.bodyLimit,
      WEBHOOK_REQUEST_TIMEOUT_MS: settings.requestTimeoutMs,
      DISPATCH_DEADLINE_MS: deadlineMs,
      SHUTDOWN_GRACE_MS: 2000,
    },
    client,
    domains: [billing, connect],
    logger,
    dispatcher,
  });
  return {
    kind,
    receiverUrl: receiver.url,
    client,
    dispatches: dispatcher.tally,
    receiver,
    settings,
    close: async () => {
      await receiver.close();
      if (kind === 'temporal-unavailable') await client.connection.close().catch(() => undefined);
      if (env && !options.env) await env.teardown();
    },
  };
}

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 1;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
