#!/usr/bin/env node
// Receiver process: verifies Stripe webhooks and dispatches them to Temporal.
import { connectTemporalClient, selectDomains } from '@stripe-flows/core';
import { billing } from '@stripe-flows/billing';
import { connect } from '@stripe-flows/connect';
import { loadReceiverConfig } from './config.js';
import { createLogger } from './logger.js';
import { startReceiver } from './server.js';

const config = loadReceiverConfig();
const logger = createLogger(config.LOG_LEVEL);
const domains = selectDomains([billing, connect], config.DOMAINS);
const client = await connectTemporalClient(config);
const receiver = await startReceiver({ config, client, domains, logger });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    void receiver.close().then(async () => {
      await client.connection.close();
      logger.info('receiver stopped');
      process.exit(0);
    });
  });
}
