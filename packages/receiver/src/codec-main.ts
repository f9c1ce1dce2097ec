#!/usr/bin/env node
// Codec endpoint process: decrypts payloads for Temporal UI and the Temporal CLI, for operators
// holding a token. Runs apart from the receiver, which faces the internet.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AesGcmPayloadCodec } from '@stripe-flows/core';
import { createCodecApp } from './codec-app.js';
import { loadCodecConfig } from './codec-config.js';
import { createLogger } from './logger.js';

const config = loadCodecConfig();
const logger = createLogger(config.LOG_LEVEL, 'stripe-flows-codec');
const codec = new AesGcmPayloadCodec(config.PAYLOAD_ENCRYPTION_KEYS ?? []);
const app = createCodecApp({
  codec,
  namespace: config.TEMPORAL_NAMESPACE,
  authTokens: config.CODEC_AUTH_TOKENS ?? [],
  allowUnauthenticated: config.CODEC_ALLOW_UNAUTHENTICATED,
  corsOrigins: config.CODEC_CORS_ORIGINS,
  logger,
});
const server = createServer(app);
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.CODEC_PORT, config.CODEC_HOST, () => resolve());
});
const { port } = server.address() as AddressInfo;
logger.info(
  { url: `http://${config.CODEC_HOST}:${port}/codec`, activeKey: codec.activeKeyId, corsOrigins: config.CODEC_CORS_ORIGINS, auth: config.CODEC_ALLOW_UNAUTHENTICATED ? 'none (loopback dev)' : 'bearer' },
  'codec endpoint listening',
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
