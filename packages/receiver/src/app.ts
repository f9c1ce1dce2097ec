import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { describeIssues, DispatchUnavailableError, stripeEventEnvelopeSchema, type Dispatcher } from '@stripe-flows/core';
import { WebhookRequestError } from './errors.js';
import { ReceiverMetrics } from './metrics.js';
import { verifyStripeEvent } from './verify.js';

export interface ReceiverAppOptions {
  dispatcher: Pick<Dispatcher, 'dispatch' | 'routesFor'>;
  /** Signing secrets of every endpoint that posts here (platform, Connect, rolling). */
  webhookSecrets: readonly string[];
  toleranceSeconds?: number;
  /** Events whose livemode differs are refused: a test event must never act on live data. */
  mode: 'test' | 'live';
  /** Body size limit (express/bytes syntax), default 1mb. */
  bodyLimit?: string;
  logger: Logger;
  /** True when Temporal answers (GET /readyz). */
  isTemporalReachable: () => Promise<boolean>;
  metrics?: ReceiverMetrics;
}

const EVENTS = 'stripe_flows_receiver_events_total';

/**
 * The webhook receiver. `POST /webhooks/stripe` verifies, parses, routes and dispatches one
 * event, answering 2xx only once Temporal accepted every dispatch.
 */
export function createReceiverApp(options: ReceiverAppOptions): express.Express {
  const metrics = options.metrics ?? new ReceiverMetrics();
  const tolerance = options.toleranceSeconds ?? 300;
  const app = express();
  app.disable('x-powered-by');
  // Nobody caches webhook answers: skip hashing every JSON answer into an ETag.
  app.set('etag', false);
  app.set('trust proxy', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const reachable = await options.isTemporalReachable().catch(() => false);
    res.status(reachable ? 200 : 503).json({ status: reachable ? 'ready' : 'temporal_unreachable' });
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(metrics.render());
  });

  // Raw body on this route only: the signature covers the exact bytes Stripe sent.
  app.post(
    '/webhooks/stripe',
    // inflate: false: the signature covers the bytes Stripe sent, and Stripe never compresses them.
    express.raw({ type: () => true, limit: options.bodyLimit ?? '1mb', inflate: false }),
    async (req: Request, res: Response) => {
      const started = performance.now();
      // Child bindings skip the logger's redaction: a request id is logged only when it looks like one.
      const log = options.logger.child({ requestId: req.get('x-request-id')?.match(/^[\w.:-]{1,128}$/)?.[0] });
      try {
        const contentType = req.get('content-type') ?? '';
        if (!isJsonUtf8(contentType)) {
          throw new WebhookRequestError(415, 'unsupported_content_type', `Content-Type must be application/json in UTF-8 (Stripe sends "application/json; charset=utf-8"), got "${contentType || 'none'}".`);
        }
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        // Every value as received: duplicates are refused rather than joined.
        const signatureHeaders = req.headersDistinct['stripe-signature'];
        const parsed = verifyStripeEvent(body, signatureHeaders, { secrets: options.webhookSecrets, toleranceSeconds: tolerance });
        const envelope = stripeEventEnvelopeSchema.safeParse(parsed);
        if (!envelope.success) {
          throw new WebhookRequestError(400, 'invalid_event', 'The body is signed JSON but not a Stripe event envelope.', describeIssues(envelope.error));
        }
        const event = envelope.data;
        if (event.livemode !== (options.mode === 'live')) {
          throw new WebhookRequestError(400, 'livemode_mismatch', `This receiver runs in ${options.mode} mode (STRIPE_MODE) but event ${event.id} has livemode=${event.livemode}; point each mode's endpoint at its own deployment.`);
        }
        if (options.dispatcher.routesFor(event.type).length === 0) {
          metrics.count(EVENTS, { outcome: 'ignored' });
          log.info({ eventId: event.id, eventType: event.type, outcome: 'ignored' }, 'event not routed');
          res.json({ received: true, ignored: true, id: event.id });
          return;
        }
        const deliveries = await options.dispatcher.dispatch(event);
        const ms = performance.now() - started;
        metrics.observeDispatchMs(ms);
        for (const d of deliveries) metrics.count(EVENTS, { outcome: d.result });
        log.info(
          { eventId: event.id, eventType: event.type, account: event.account, deliveries: deliveries.map(({ route, workflowId, result }) => ({ route, workflowId, result })), ms: Math.round(ms) },
          'event dispatched',
        );
        res.json({ received: true, id: event.id, deliveries });
      } catch (error) {
        if (error instanceof WebhookRequestError) {
          metrics.count(EVENTS, { outcome: 'rejected', reason: error.code });
          log.warn({ status: error.status, code: error.code }, 'webhook rejected');
          res.status(error.status).json(error.toJSON());
          return;
        }
        if (error instanceof DispatchUnavailableError) {
          metrics.count(EVENTS, { outcome: 'unavailable' });
          log.error({ err: { message: error.message } }, 'temporal unavailable: answering 503 so Stripe retries');
          res.status(503).json({ error: { code: 'temporal_unavailable', message: 'The event was not accepted by Temporal in time; nothing is acknowledged. Stripe retries with backoff for up to 3 days.' } });
          return;
        }
        throw error;
      }
    },
  );

  app.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `No route for ${req.method} ${req.path}. Stripe events go to POST /webhooks/stripe.` } });
  });

  const onError: ErrorRequestHandler = (error: { type?: string; status?: number; message?: string }, req, res, _next) => {
    // The client went away, or the request timed out and was already answered 408 on the socket.
    if (error.type === 'request.aborted' || res.headersSent || req.socket.destroyed) {
      metrics.count(EVENTS, { outcome: 'rejected', reason: 'aborted' });
      return;
    }
    if (error.type === 'encoding.unsupported') {
      metrics.count(EVENTS, { outcome: 'rejected', reason: 'unsupported_content_encoding' });
      res.status(415).json(new WebhookRequestError(415, 'unsupported_content_encoding', `Content-Encoding "${req.get('content-encoding') ?? ''}" is not accepted: Stripe sends uncompressed bodies, and the signature covers the bytes as sent. Remove the Content-Encoding.`).toJSON());
      return;
    }
    if (error.type === 'entity.too.large') {
      metrics.count(EVENTS, { outcome: 'rejected', reason: 'body_too_large' });
      res.status(413).json(new WebhookRequestError(413, 'body_too_large', `The body exceeds the receiver's limit of ${options.bodyLimit ?? '1mb'} (WEBHOOK_BODY_LIMIT).`).toJSON());
      return;
    }
    if (error.status && error.status >= 400 && error.status < 500) {
      metrics.count(EVENTS, { outcome: 'rejected', reason: 'bad_request' });
      res.status(error.status).json(new WebhookRequestError(error.status, 'bad_request', `The request could not be read (${error.message ?? 'bad request'}); send a complete body matching its Content-Length.`).toJSON());
      return;
    }
    options.logger.error({ err: { message: error.message } }, 'unexpected receiver error');
    res.status(500).json({ error: { code: 'internal_error', message: 'Unexpected error; nothing was acknowledged, Stripe will retry.' } });
  };
  app.use(onError);
  return app;
}

/** `application/json`, with no charset or charset utf-8 (media type and parameters are case-insensitive). */
function isJsonUtf8(contentType: string): boolean {
  const [mediaType, ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json') return false;
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/^"|"$/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}
