import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { Dispatcher, RouteRegistry, type DomainDefinition } from '@stripe-flows/core';
import { createReceiverApp } from './app.js';
import type { ReceiverConfig } from './config.js';
import { WebhookRequestError } from './errors.js';
import { ReceiverMetrics } from './metrics.js';

export interface RunningReceiver {
  server: Server;
  url: string;
  /** Stop accepting, let in-flight requests finish (up to the grace period), then close. */
  close(): Promise<void>;
}

/** Start the receiver's HTTP server for the given domains. */
export async function startReceiver(options: {
  config: Pick<ReceiverConfig, 'PORT' | 'HOST' | 'STRIPE_WEBHOOK_SECRETS' | 'STRIPE_WEBHOOK_TOLERANCE_SECONDS' | 'STRIPE_MODE' | 'WEBHOOK_BODY_LIMIT' | 'DISPATCH_DEADLINE_MS' | 'SHUTDOWN_GRACE_MS'> &
    Partial<Pick<ReceiverConfig, 'WEBHOOK_REQUEST_TIMEOUT_MS'>>;
  client: Client;
  domains: ReadonlyArray<Pick<DomainDefinition, 'name' | 'routes'>>;
  logger: Logger;
  /** Replace the dispatcher built from `client` and `domains` (tests, custom dispatch). */
  dispatcher?: Pick<Dispatcher, 'dispatch' | 'routesFor'>;
}): Promise<RunningReceiver> {
  const { config, client, logger } = options;
  const dispatcher =
    options.dispatcher ?? new Dispatcher({ client, registry: new RouteRegistry(options.domains), deadlineMs: config.DISPATCH_DEADLINE_MS });
  const metrics = new ReceiverMetrics();
  const app = createReceiverApp({
    dispatcher,
    metrics,
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
  // A client that never finishes its request (slow drip, stalled body) is cut off and answered 408;
  // headers must arrive within the same time. Checked often enough for the timeout to be felt.
  const requestTimeout = config.WEBHOOK_REQUEST_TIMEOUT_MS ?? 10_000;
  const server = createServer({ requestTimeout, connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(requestTimeout / 4))) }, app);
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    answerClientError(error, socket, requestTimeout, metrics, logger);
  });
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

/**
 * Answer what Node's HTTP parser refused (or timed out) with the receiver's JSON error body
 * instead of Node's bare status line, then close the connection.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, requestTimeoutMs: number, metrics: ReceiverMetrics, logger: Logger): void {
  // Node's own check: answer only if no response has started on this connection.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const refusal =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new WebhookRequestError(408, 'request_timeout', `The request was not received completely within ${requestTimeoutMs} ms (WEBHOOK_REQUEST_TIMEOUT_MS); nothing was done. Send the whole body promptly.`)
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new WebhookRequestError(431, 'headers_too_large', 'The request headers are larger than this server accepts; Stripe sends a few small headers. Nothing was done.')
        : new WebhookRequestError(400, 'bad_request', `The HTTP request is malformed (${error.code ?? 'parse error'}); nothing was done. Send a well-formed HTTP/1.1 request.`);
  metrics.count('stripe_flows_receiver_events_total', { outcome: 'rejected', reason: refusal.code });
  logger.warn({ status: refusal.status, code: refusal.code }, 'webhook rejected before routing');
  const body = JSON.stringify(refusal.toJSON());
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
