#!/usr/bin/env node
// Worker process: one Temporal Worker per enabled domain, graceful shutdown on SIGINT/SIGTERM.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import pino from 'pino';
import { selectDomains, taskQueueFor, temporalConnectionOptions } from '@stripe-flows/core';
import { loadWorkerConfig } from './config.js';
import { configuredDomains } from './domains.js';
import { createDomainWorkers, createNotifier, createStripeClient } from './workers.js';

const config = loadWorkerConfig();
const logger = pino({ name: 'stripe-flows-worker', level: config.LOG_LEVEL });
// SDK logs go through pino too, so the process writes one JSON format.
const sdkLevels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };
Runtime.install({
  shutdownSignals: [],
  logger: new DefaultLogger('INFO', (entry) => logger[sdkLevels[entry.level]]({ sdk: entry.meta }, entry.message)),
});
const domains = selectDomains(configuredDomains(config), config.DOMAINS);
const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
const workers = await createDomainWorkers({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  domains,
  deps: { stripe: createStripeClient(config), notifier: createNotifier(config, logger) },
  bundleDir: config.WORKFLOW_BUNDLE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'bundles'),
  ...(config.MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: config.MAX_CACHED_WORKFLOWS } : {}),
});
logger.info(
  { taskQueues: domains.map((d) => taskQueueFor(d.name)), stripe: config.STRIPE_SECRET_KEY ? 'api.stripe.com' : config.STRIPE_API_BASE },
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
await connection.close();
logger.info('workers stopped');
