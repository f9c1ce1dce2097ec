// The codec endpoint's configuration: the only file of that process that reads process.env.
import { z } from 'zod';
import { commaList, parseEnv, temporalConfigSchema } from '@stripe-flows/core';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const codecConfigSchema = temporalConfigSchema
  .pick({ TEMPORAL_NAMESPACE: true, PAYLOAD_ENCRYPTION_KEYS: true })
  .extend({
    CODEC_PORT: z.coerce.number().int().min(0).max(65535).default(8234),
    CODEC_HOST: z.string().default('127.0.0.1'),
    /** Bearer tokens accepted, comma separated. */
    CODEC_AUTH_TOKENS: commaList.pipe(z.array(z.string().min(24, 'each codec token must be at least 24 characters (e.g. `openssl rand -hex 24`)'))).optional(),
    /** Origins of the Temporal UI allowed to call from the browser. */
    CODEC_CORS_ORIGINS: commaList.default(['http://127.0.0.1:8233', 'http://localhost:8233']),
    /** Dev only: accept requests without a token. Refused unless CODEC_HOST is loopback. */
    CODEC_ALLOW_UNAUTHENTICATED: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .superRefine((config, ctx) => {
    if (!config.PAYLOAD_ENCRYPTION_KEYS) {
      ctx.addIssue({ code: 'custom', path: ['PAYLOAD_ENCRYPTION_KEYS'], message: 'the codec endpoint needs the same PAYLOAD_ENCRYPTION_KEYS as the worker and receiver' });
    }
    if (config.CODEC_ALLOW_UNAUTHENTICATED && !LOOPBACK.has(config.CODEC_HOST)) {
      ctx.addIssue({ code: 'custom', path: ['CODEC_ALLOW_UNAUTHENTICATED'], message: `only allowed when CODEC_HOST is a loopback address (got ${config.CODEC_HOST}); set CODEC_AUTH_TOKENS instead` });
    }
    if (!config.CODEC_ALLOW_UNAUTHENTICATED && !config.CODEC_AUTH_TOKENS?.length) {
      ctx.addIssue({ code: 'custom', path: ['CODEC_AUTH_TOKENS'], message: 'set at least one bearer token (or CODEC_ALLOW_UNAUTHENTICATED=true on loopback for local development)' });
    }
  });
export type CodecConfig = z.infer<typeof codecConfigSchema>;

export function loadCodecConfig(env: Record<string, string | undefined> = process.env): CodecConfig {
  return parseEnv(codecConfigSchema, env);
}
