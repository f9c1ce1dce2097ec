// Payload encryption: every payload a stripe-flows process hands Temporal (event projections,
// workflow inputs, results, query answers, activity failures) is AES-256-GCM ciphertext in
// workflow history; only processes holding the key, and the codec endpoint, can read it.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';

/** `encoding` of an encrypted payload; its metadata also names the cipher and the key id. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** One AES-256 key and the id stored with each payload it encrypts. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/**
 * Parse `PAYLOAD_ENCRYPTION_KEYS`: comma-separated `id:base64key` entries, each key 32 bytes.
 * The first key encrypts; every key decrypts, so a rotated-out key stays listed until no open
 * flow's history still needs it.
 */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error('PAYLOAD_ENCRYPTION_KEYS is empty: give at least one "keyId:base64key" entry (generate a key with `openssl rand -base64 32`).');
  const keys = entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!KEY_ID.test(id)) throw new Error(`PAYLOAD_ENCRYPTION_KEYS entry ${index + 1} must look like "keyId:base64key" with an id of letters, digits, ".", "_" or "-" (at most 64).`);
    const material = entry.slice(colon + 1);
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(material)) {
      throw new Error(`PAYLOAD_ENCRYPTION_KEYS key "${id}" must be 32 bytes in base64 (got ${key.length} bytes); generate one with \`openssl rand -base64 32\`.`);
    }
    return { id, key };
  });
  const ids = new Set<string>();
  for (const { id } of keys) {
    if (ids.has(id)) throw new Error(`PAYLOAD_ENCRYPTION_KEYS lists key id "${id}" twice; each key needs its own id.`);
    ids.add(id);
  }
  return keys;
}

/**
 * AES-256-GCM payload codec. The whole original payload (metadata and data) is sealed, with a
 * fresh 96-bit IV per payload and the key id bound as associated data, so a payload cannot be
 * moved under another key id. Payloads that are not encrypted pass through on decode: turning
 * encryption on does not strand flows already running.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  // #private: never enumerable, so no serializer (SDK debug lines print worker options) sees key bytes.
  readonly #active: EncryptionKey;
  readonly #byId: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly EncryptionKey[]) {
    const [active] = keys;
    if (!active) throw new Error('AesGcmPayloadCodec needs at least one key.');
    this.#active = active;
    this.#byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** Id of the key new payloads are encrypted with. */
  get activeKeyId(): string {
    return this.#active.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload));
  }

  private seal(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#active.key, iv);
    cipher.setAAD(aad(this.#active.id));
    const sealed = Buffer.concat([cipher.update(serialize(payload)), cipher.final()]);
    return {
      metadata: {
        encoding: utf8(ENCRYPTED_ENCODING),
        'encryption-cipher': utf8(CIPHER),
        'encryption-key-id': utf8(this.#active.id),
      },
      data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
    };
  }

  private open(payload: Payload): Payload {
    if (text(payload.metadata?.['encoding']) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.['encryption-key-id']);
    const key = keyId === undefined ? undefined : this.#byId.get(keyId);
    if (!key) {
      throw new Error(`A payload is encrypted with key "${keyId ?? '(none)'}", which is not in PAYLOAD_ENCRYPTION_KEYS. Add that key back (after the active one) until no open flow needs it.`);
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error(`An encrypted payload (key "${keyId}") is truncated: ${data.length} bytes.`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(aad(keyId as string));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    try {
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return deserialize(plain);
    } catch (error) {
      if (error instanceof SyntaxError) throw new Error(`An encrypted payload (key "${keyId}") decrypted to something that is not a stripe-flows payload.`);
      throw new Error(`An encrypted payload failed authentication under key "${keyId}": it was altered, or that id names a different key than the one that encrypted it.`);
    }
  }
}

/** The codec for `PAYLOAD_ENCRYPTION_KEYS`, or undefined when encryption is off. */
export function payloadCodecFromConfig(config: { PAYLOAD_ENCRYPTION_KEYS?: EncryptionKey[] | undefined }): AesGcmPayloadCodec | undefined {
  return config.PAYLOAD_ENCRYPTION_KEYS ? new AesGcmPayloadCodec(config.PAYLOAD_ENCRYPTION_KEYS) : undefined;
}

/**
 * Data converter for clients and workers: with encryption on, payloads go through the codec, and
 * activity failures carry their message and stack trace as an (encrypted) payload, since Stripe's
 * error messages can echo what was sent.
 */
export function dataConverterFor(config: { PAYLOAD_ENCRYPTION_KEYS?: EncryptionKey[] | undefined }): DataConverter | undefined {
  const codec = payloadCodecFromConfig(config);
  return codec ? { payloadCodecs: [codec], failureConverterPath: encodedFailureConverterPath } : undefined;
}

/** Module exporting a failure converter that moves failure messages into encoded attributes. */
export const encodedFailureConverterPath = fileURLToPath(new URL('./workflow/failure-converter.js', import.meta.url));

/** A payload in Temporal's proto3 JSON form (bytes as base64), as the codec endpoint speaks it. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export function payloadFromJson(json: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(json.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(json.data ?? '', 'base64'),
  };
}

export function payloadToJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

function serialize(payload: Payload): Buffer {
  return Buffer.from(JSON.stringify(payloadToJson(payload)), 'utf8');
}

function deserialize(bytes: Buffer): Payload {
  return payloadFromJson(JSON.parse(bytes.toString('utf8')) as JsonPayload);
}

function aad(keyId: string): Buffer {
  return Buffer.from(`stripe-flows/payload/v1:${keyId}`, 'utf8');
}

function utf8(value: string): Uint8Array {
  return Buffer.from(value, 'utf8');
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}
