import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { Dispatcher, RouteRegistry, type DomainDefinition } from '@stripe-flows/core';
import { createReceiverApp } from './app.js';
import type { ReceiverConfig } from './config.js';

export interface RunningReceiver {
  server: Server;
  url: string;
  /** Stop accepting, let in-flight requests finish (up to the grace period), then close. */
  close(): Promise<void>;
}

/** Start the receiver's HTTP server for the given domains. */
export async function startReceiver(options: {
  config: Pick<ReceiverConfig, 'PORT' | 'HOST' | 'STRIPE_WEBHOOK_SECRETS' | 'STRIPE_WEBHOOK_TOLERANCE_SECONDS' | 'STRIPE_MODE' | 'WEBHOOK_BODY_LIMIT' | 'DISPATCH_DEADLINE_MS' | 'SHUTDOWN_GRACE_MS'>;
  client: Client;
  domains: ReadonlyArray<Pick<DomainDefinition, 'name' | 'routes'>>;
  logger: Logger;
  /** Replace the dispatcher built from `client` and `domains` (tests, custom dispatch). */
  dispatcher?: Pick<Dispatcher, 'dispatch' | 'routesFor'>;
}): Promise<RunningReceiver> {
  const { config, client, logger } = options;
  const dispatcher =
    options.dispatcher ?? new Dispatcher({ client, registry: new RouteRegistry(options.domains), deadlineMs: config.DISPATCH_DEADLINE_MS });
  const app = createReceiverApp({
    dispatcher,
    webhookSecrets: config.STRIPE_WEBHOOK_SECRETS,
    toleranceSeconds: config.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
    mode: config.STRIPE_MODE,
    bodyLimit: config.WEBHOOK_BODY_LIMIT,
    logger,
    isTemporalReachable: async () => {
      try {
        // A cheap call that needs the namespace to be served.
        await client.withDeadline(Date.now() + 2000, () =>
          client.workflowService.getSystemInfo({}),
        );
        return true;
      } catch {
        return false;
      }
    },
  });
  const server = createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  logger.info({ url, domains: options.domains.map((d) => d.name) }, 'receiver listening');
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_GRACE_MS);
        // Keep-alive sockets go idle once their in-flight response is sent: close them as they do.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearTimeout(force);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
