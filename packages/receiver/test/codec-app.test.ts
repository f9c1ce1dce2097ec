// The codec endpoint over HTTP: Temporal's remote codec protocol, bearer tokens, CORS for the
// Temporal UI origin, one namespace, and configuration that refuses unsafe settings.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { AesGcmPayloadCodec, parseEncryptionKeys, payloadToJson } from '@stripe-flows/core';
import { codecConfigSchema, createCodecApp } from '../src/index.js';

const TOKEN = randomBytes(24).toString('hex');
const UI = 'http://127.0.0.1:8233';
const keyText = `k1:${randomBytes(32).toString('base64')}`;
const codec = new AesGcmPayloadCodec(parseEncryptionKeys(keyText));
const servers: Server[] = [];

async function serve(allowUnauthenticated = false): Promise<string> {
  const server = createServer(createCodecApp({ codec, namespace: 'payments', authTokens: [TOKEN], allowUnauthenticated, corsOrigins: [UI], logger: pino({ level: 'silent' }) }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
let url: string;
beforeAll(async () => {
  url = await serve();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-namespace': 'payments' };
/** A JSON payload as Temporal's default converter writes it. */
const jsonPayload = (value: unknown) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) });
const post = (path: string, body: unknown, headers: Record<string, string> = auth, base = url) => fetch(`${base}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('codec endpoint', () => {
  it('encodes and decodes in the remote codec protocol', async () => {
    const plain = payloadToJson(jsonPayload({ email: 'jenny@example.com' }));
    const encoded = (await (await post('/codec/encode', { payloads: [plain] })).json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(encoded.payloads[0]!.metadata['encoding']!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encoded.payloads[0]!.data, 'base64').toString('latin1')).not.toContain('jenny@example.com');
    const decoded = (await (await post('/codec/decode', encoded)).json()) as { payloads: unknown[] };
    expect(decoded.payloads).toEqual([plain]);
  });

  it('takes {} as no payloads, as proto3 JSON writes an empty list (the Temporal CLI sends it)', async () => {
    const empty = await post('/codec/decode', {});
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ payloads: [] });
  });

  it('answers 401 without a token or with a wrong one, 403 for another namespace', async () => {
    const body = { payloads: [] };
    const none = await post('/codec/decode', body, { 'content-type': 'application/json' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await post('/codec/decode', body, { ...auth, authorization: `Bearer ${TOKEN.slice(1)}x` })).status).toBe(401);
    const other = await post('/codec/decode', body, { ...auth, 'x-namespace': 'default' });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: { code: 'wrong_namespace' } });
  });

  it('lets the Temporal UI origin through CORS, and no other', async () => {
    const preflight = (origin: string) => fetch(`${url}/codec/decode`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' } });
    const ok = await preflight(UI);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const evil = await preflight('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('says what is wrong with a bad body or a payload it cannot open', async () => {
    const bad = await post('/codec/decode', { payloads: [{ data: 'not base64!' }] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_payloads' } });
    expect((await post('/codec/decode', '{')).status).toBe(400);
    const foreign = (await new AesGcmPayloadCodec(parseEncryptionKeys(`k9:${randomBytes(32).toString('base64')}`)).encode([jsonPayload(1)])).map(payloadToJson);
    const refused = await post('/codec/decode', { payloads: foreign });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/key "k9", which is not in PAYLOAD_ENCRYPTION_KEYS/);
  });

  it('dev mode on loopback accepts the unauthenticated dev UI', async () => {
    const dev = await serve(true);
    expect((await post('/codec/decode', { payloads: [] }, { 'content-type': 'application/json' }, dev)).status).toBe(200);
  });
});

describe('codec configuration', () => {
  it('requires keys and a token, and allows unauthenticated access only on loopback', () => {
    const errors = (env: Record<string, string>) => {
      const r = codecConfigSchema.safeParse(env);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(errors({})).toEqual(expect.arrayContaining([expect.stringMatching(/^PAYLOAD_ENCRYPTION_KEYS/), expect.stringMatching(/^CODEC_AUTH_TOKENS/)]));
    expect(errors({ PAYLOAD_ENCRYPTION_KEYS: keyText, CODEC_AUTH_TOKENS: 'short' })).toEqual([expect.stringMatching(/at least 24 characters/)]);
    expect(errors({ PAYLOAD_ENCRYPTION_KEYS: keyText, CODEC_ALLOW_UNAUTHENTICATED: 'true', CODEC_HOST: '0.0.0.0' })).toEqual([expect.stringMatching(/only allowed when CODEC_HOST is a loopback/)]);
    expect(errors({ PAYLOAD_ENCRYPTION_KEYS: keyText, CODEC_AUTH_TOKENS: TOKEN })).toEqual([]);
  });
});
