import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, parseEncryptionKeys, payloadFromJson, payloadToJson, temporalConfigSchema } from '../src/index.js';

const keyText = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const event = { id: 'evt_1', object: { email: 'jenny.rosen@example.com', name: 'Jenny Rosen', amount_due: 424_242 } };
const plain = (): Payload => defaultPayloadConverter.toPayload(event);
const meta = (p: Payload, key: string) => Buffer.from(p.metadata?.[key] ?? new Uint8Array()).toString();

describe('AesGcmPayloadCodec', () => {
  it('seals the whole payload under the active key id and opens it again', async () => {
    const codec = new AesGcmPayloadCodec(parseEncryptionKeys(`${keyText('k2')},${keyText('k1')}`));
    const [sealed] = await codec.encode([plain()]);
    expect(meta(sealed!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(meta(sealed!, 'encryption-key-id')).toBe('k2');
    expect(meta(sealed!, 'encryption-cipher')).toBe('AES-256-GCM');
    const bytes = Buffer.from(sealed!.data!).toString('latin1');
    for (const secret of ['jenny.rosen@example.com', 'Jenny Rosen', '424242', 'json/plain']) expect(bytes).not.toContain(secret);
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(event);
    expect(meta(opened!, 'encoding')).toBe('json/plain');
  });

  it('uses a fresh IV per payload, so equal payloads never look alike', async () => {
    const codec = new AesGcmPayloadCodec(parseEncryptionKeys(keyText('k1')));
    const [a, b] = await codec.encode([plain(), plain()]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('rotation: a payload sealed under the old key opens once the new key is active, and fails without it', async () => {
    const old = keyText('2026-01');
    const next = keyText('2026-07');
    const [sealed] = await new AesGcmPayloadCodec(parseEncryptionKeys(old)).encode([plain()]);
    const rotated = new AesGcmPayloadCodec(parseEncryptionKeys(`${next},${old}`));
    expect(rotated.activeKeyId).toBe('2026-07');
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([sealed!]))[0]!)).toEqual(event);
    await expect(new AesGcmPayloadCodec(parseEncryptionKeys(next)).decode([sealed!])).rejects.toThrow(/key "2026-01", which is not in PAYLOAD_ENCRYPTION_KEYS/);
  });

  it('detects tampering and a payload moved under another key id', async () => {
    const keys = parseEncryptionKeys(`${keyText('a')},${keyText('b')}`);
    const codec = new AesGcmPayloadCodec(keys);
    const [sealed] = await codec.encode([plain()]);
    const flipped = Buffer.from(sealed!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...sealed!, data: flipped }])).rejects.toThrow(/failed authentication under key "a"/);
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('b') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication under key "b"/);
  });

  it('passes payloads that were never encrypted through on decode (turning encryption on mid-flow)', async () => {
    const codec = new AesGcmPayloadCodec(parseEncryptionKeys(keyText('k1')));
    const [out] = await codec.decode([plain()]);
    expect(defaultPayloadConverter.fromPayload(out!)).toEqual(event);
  });

  it('round-trips the proto3 JSON form the codec endpoint speaks', async () => {
    const codec = new AesGcmPayloadCodec(parseEncryptionKeys(keyText('k1')));
    const [sealed] = await codec.encode([plain()]);
    const [opened] = await codec.decode([payloadFromJson(payloadToJson(sealed!))]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(event);
  });
});

describe('PAYLOAD_ENCRYPTION_KEYS', () => {
  it('names what is wrong with a bad key list', () => {
    expect(() => parseEncryptionKeys('')).toThrow(/at least one "keyId:base64key"/);
    expect(() => parseEncryptionKeys(randomBytes(32).toString('base64'))).toThrow(/entry 1 must look like "keyId:base64key"/);
    expect(() => parseEncryptionKeys(`k1:${randomBytes(16).toString('base64')}`)).toThrow(/"k1" must be 32 bytes in base64 \(got 16 bytes\)/);
    expect(() => parseEncryptionKeys(`${keyText('k1')},${keyText('k1')}`)).toThrow(/key id "k1" twice/);
  });

  it('is optional in the Temporal settings every process shares, and validated when set', () => {
    expect(temporalConfigSchema.parse({}).PAYLOAD_ENCRYPTION_KEYS).toBeUndefined();
    const keys = temporalConfigSchema.parse({ PAYLOAD_ENCRYPTION_KEYS: keyText('k1') }).PAYLOAD_ENCRYPTION_KEYS;
    expect(keys?.map((k) => k.id)).toEqual(['k1']);
    const bad = temporalConfigSchema.safeParse({ PAYLOAD_ENCRYPTION_KEYS: 'k1:short' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/must be 32 bytes/);
  });
});
