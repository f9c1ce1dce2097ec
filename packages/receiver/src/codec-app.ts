import { timingSafeEqual } from 'node:crypto';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { payloadFromJson, payloadToJson, type AesGcmPayloadCodec, type JsonPayload } from '@stripe-flows/core';

/** Any payload codec; core provides the AES-256-GCM one. */
export type PayloadCodecLike = Pick<AesGcmPayloadCodec, 'encode' | 'decode'>;

export interface CodecAppOptions {
  codec: PayloadCodecLike;
  /** Namespace whose payloads this endpoint serves; requests naming another are refused. */
  namespace: string;
  /** Bearer tokens accepted (operators, the Temporal CLI's `--codec-auth`). */
  authTokens: readonly string[];
  /** Dev only (loopback): accept requests without a token, as the unauthenticated dev UI sends them. */
  allowUnauthenticated: boolean;
  /** Browser origins allowed to call (the Temporal UI's origin). */
  corsOrigins: readonly string[];
  logger: Logger;
}

// proto3 JSON leaves an empty repeated field out: `{}` is a request with no payloads (the
// Temporal CLI sends it for a query without arguments).
const payloadsBody = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64')).optional(),
      data: z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64').optional(),
    }),
  ).default([]),
});

/**
 * Temporal's remote codec protocol: `POST /codec/encode` and `POST /codec/decode` take and return
 * `{ payloads: [...] }` in proto3 JSON. Temporal UI (`--ui-codec-endpoint`, or the UI's Data
 * Encoder setting) and the CLI (`--codec-endpoint`) call it to show decrypted payloads to operators.
 */
export function createCodecApp(options: CodecAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const allowed = new Set(options.corsOrigins);

  // CORS first: the UI runs in the operator's browser on another origin.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('origin');
    if (origin && allowed.has(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Namespace',
        'Access-Control-Max-Age': '600',
      });
    }
    res.vary('Origin');
    if (req.method === 'OPTIONS') {
      res.status(origin && allowed.has(origin) ? 204 : 403).end();
      return;
    }
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  const tokens = options.authTokens.map((t) => Buffer.from(t));
  const authorize = (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (presented === undefined) {
      if (options.allowUnauthenticated) return next();
      res.status(401).set('WWW-Authenticate', 'Bearer realm="stripe-flows codec"').json({ error: { code: 'unauthorized', message: 'Send "Authorization: Bearer <token>" with one of the tokens in CODEC_AUTH_TOKENS.' } });
      return;
    }
    const given = Buffer.from(presented);
    if (!tokens.some((t) => t.length === given.length && timingSafeEqual(t, given))) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="stripe-flows codec", error="invalid_token"').json({ error: { code: 'invalid_token', message: 'The bearer token is not one of CODEC_AUTH_TOKENS.' } });
      return;
    }
    next();
  };

  const namespaceCheck = (req: Request, res: Response, next: NextFunction) => {
    const namespace = req.get('x-namespace');
    if (namespace !== undefined && namespace !== options.namespace) {
      res.status(403).json({ error: { code: 'wrong_namespace', message: `This codec serves namespace "${options.namespace}", not "${namespace}".` } });
      return;
    }
    next();
  };

  for (const direction of ['encode', 'decode'] as const) {
    app.post(`/codec/${direction}`, authorize, namespaceCheck, express.json({ limit: '16mb', type: () => true }), async (req: Request, res: Response) => {
      const body = payloadsBody.safeParse(req.body);
      if (!body.success) {
        res.status(400).json({ error: { code: 'invalid_payloads', message: 'Expected {"payloads": [{"metadata": {...base64}, "data": "base64"}]} (Temporal remote codec protocol).', details: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) } });
        return;
      }
      try {
        const payloads = body.data.payloads.map((p) => payloadFromJson(p as JsonPayload));
        const out = direction === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
        // Counts only: the payloads are exactly what this endpoint protects.
        options.logger.info({ direction, payloads: out.length, namespace: options.namespace }, 'codec request');
        res.json({ payloads: out.map(payloadToJson) });
      } catch (error) {
        options.logger.warn({ direction, reason: (error as Error).message }, 'codec request refused');
        res.status(422).json({ error: { code: 'codec_failed', message: (error as Error).message } });
      }
    });
  }

  app.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `No route for ${req.method} ${req.path}. The codec serves POST /codec/encode and POST /codec/decode.` } });
  });
  const onError: ErrorRequestHandler = (error: { type?: string; status?: number }, _req, res, _next) => {
    if (error.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'body_too_large', message: 'At most 16 MB of payloads per request.' } });
      return;
    }
    if (error.status && error.status >= 400 && error.status < 500) {
      res.status(error.status).json({ error: { code: 'invalid_json', message: 'The body is not JSON.' } });
      return;
    }
    options.logger.error('unexpected codec error');
    res.status(500).json({ error: { code: 'internal_error', message: 'Unexpected error.' } });
  };
  app.use(onError);
  return app;
}
