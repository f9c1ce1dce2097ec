#!/usr/bin/env node
// Worker process: one Temporal Worker per enabled domain, graceful shutdown on SIGINT/SIGTERM.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { selectDomains, taskQueueFor, temporalConnectionOptions } from '@stripe-flows/core';
import { loadWorkerConfig } from './config.js';
import { builtInDomains } from './domains.js';
import { createDomainWorkers, createNotifier, createStripeClient } from './workers.js';

const config = loadWorkerConfig();
const logger = pino({ name: 'stripe-flows-worker', level: config.LOG_LEVEL });
// Runtime handles SIGINT/SIGTERM: workers stop polling, finish running tasks, then run() resolves.
Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
const domains = selectDomains(builtInDomains, config.DOMAINS);
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
await Promise.all(workers.map((w) => w.run()));
await connection.close();
logger.info('workers stopped');
