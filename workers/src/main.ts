#!/usr/bin/env node
// Worker process: one Temporal Worker per enabled domain, the quarantine and reconcile workers,
// the reconcile schedule kept up to date, graceful shutdown on SIGINT/SIGTERM.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import pino from 'pino';
import {
  connectTemporalClient,
  dataConverterFor,
  ensureReconcileSchedule,
  RECONCILE_SCHEDULE_ID,
  RECONCILE_TASK_QUEUE,
  redactingLoggerOptions,
  selectDomains,
  taskQueueFor,
  temporalConnectionOptions,
} from '@stripe-flows/core';
import { loadWorkerConfig } from './config.js';
import { configuredDomains } from './domains.js';
import { reconcileSettings } from './reconcile.js';
import { createDomainWorkers, createNotifier, createStripeClient } from './workers.js';

const config = loadWorkerConfig();
// Redacted like the receiver's: activity failures carry Stripe's messages, which echo what they refuse.
const logger = pino({ name: 'stripe-flows-worker', level: config.LOG_LEVEL, ...redactingLoggerOptions() });
// SDK and Core (native) logs go through pino too, so the process writes one redacted JSON format.
const sdkLevels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };
const sdkLevel = (Object.keys(sdkLevels) as LogLevel[]).find((level) => sdkLevels[level] === config.LOG_LEVEL) ?? 'ERROR';
Runtime.install({
  shutdownSignals: [],
  logger: new DefaultLogger(sdkLevel, (entry) => logger[sdkLevels[entry.level]]({ sdk: entry.meta }, entry.message)),
  // Core at WARN whatever LOG_LEVEL says: its debug and trace lines print activations, payloads included.
  telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
});
const domains = selectDomains(configuredDomains(config), config.DOMAINS);
const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
const dataConverter = dataConverterFor(config);
// Reconciliation dispatches through a client like the receiver's (same namespace and encryption).
const client = await connectTemporalClient(config);
const reconcile = reconcileSettings(config, domains);
const workers = await createDomainWorkers({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  domains,
  deps: { stripe: createStripeClient(config), notifier: createNotifier(config, logger) },
  bundleDir: config.WORKFLOW_BUNDLE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'bundles'),
  ...(config.MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: config.MAX_CACHED_WORKFLOWS } : {}),
  ...(dataConverter ? { dataConverter } : {}),
  // Listing pages of events: a few stripe-node retries of a GET beat retrying the whole run.
  reconcile: { client, stripe: createStripeClient(config, { maxNetworkRetries: 2 }), settings: reconcile },
});
// Reconciliation is a safety net: the flows run whether or not the schedule could be set up.
const scheduleFields = {
  schedule: RECONCILE_SCHEDULE_ID,
  interval: config.RECONCILE_INTERVAL === null ? 'off' : `${config.RECONCILE_INTERVAL / 60_000}m`,
  lookback: `${config.RECONCILE_LOOKBACK / 3_600_000}h`,
  connectAccounts: Array.isArray(reconcile.connectAccounts) ? reconcile.connectAccounts.length : reconcile.connectAccounts,
};
try {
  logger.info({ ...scheduleFields, status: await ensureReconcileSchedule(client, { intervalMs: reconcile.intervalMs }) }, 'reconcile schedule ready');
} catch (error) {
  logger.error(
    { ...scheduleFields, err: { message: (error as Error).message } },
    'could not create or update the reconcile schedule: missed events are not reconciled until a worker with access to Temporal schedules starts (flows run as usual)',
  );
}
logger.info(
  { taskQueues: [...domains.map((d) => taskQueueFor(d.name)), RECONCILE_TASK_QUEUE], stripe: config.STRIPE_SECRET_KEY ? 'api.stripe.com' : config.STRIPE_API_BASE, payloadEncryption: config.PAYLOAD_ENCRYPTION_KEYS ? `on (key ${config.PAYLOAD_ENCRYPTION_KEYS[0]?.id})` : 'off' },
  'workers running',
);
// SIGINT/SIGTERM: stop polling, finish the tasks in hand, then run() resolves.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down: finishing running tasks');
    for (const worker of workers) worker.shutdown();
  });
}
await Promise.all(workers.map((w) => w.run()));
await client.connection.close();
await connection.close();
logger.info('workers stopped');
