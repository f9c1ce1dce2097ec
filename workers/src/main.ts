#!/usr/bin/env node
// Worker process: one Temporal Worker per enabled domain, graceful shutdown on SIGINT/SIGTERM.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import pino from 'pino';
import { dataConverterFor, redactingLoggerOptions, selectDomains, taskQueueFor, temporalConnectionOptions } from '@stripe-flows/core';
import { loadWorkerConfig } from './config.js';
import { configuredDomains } from './domains.js';
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
const workers = await createDomainWorkers({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  domains,
  deps: { stripe: createStripeClient(config), notifier: createNotifier(config, logger) },
  bundleDir: config.WORKFLOW_BUNDLE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'bundles'),
  ...(config.MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: config.MAX_CACHED_WORKFLOWS } : {}),
  ...(dataConverter ? { dataConverter } : {}),
});
logger.info(
  { taskQueues: domains.map((d) => taskQueueFor(d.name)), stripe: config.STRIPE_SECRET_KEY ? 'api.stripe.com' : config.STRIPE_API_BASE, payloadEncryption: config.PAYLOAD_ENCRYPTION_KEYS ? `on (key ${config.PAYLOAD_ENCRYPTION_KEYS[0]?.id})` : 'off' },
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
