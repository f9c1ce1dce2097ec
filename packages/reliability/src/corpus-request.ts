// Turns one corpus case into the exact bytes of an HTTP request.
import { createHmac } from 'node:crypto';
import { buildEvent, failedInvoice, signPayload } from '@stripe-flows/testing';
import type { BodyEdit, BodySpec, CorpusCase, CorpusReceiverSettings, Mutation, SerializeOptions } from './corpus-schema.js';

/** A request ready to write to a socket. */
export interface BuiltRequest {
  head: Buffer;
  body: Buffer;
}

type Json = unknown;
type PathKey = string | number;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Build the request bytes for a case against `host` (`127.0.0.1:port`). */
export function buildCorpusRequest(c: CorpusCase, settings: CorpusReceiverSettings, host: string): BuiltRequest {
  let body = initialBody(c.body, c.mutations, c.serialize);
  body = applyEdits(body, c.edits);
  const fill = signatureTemplate(c, settings, body);
  const templates = c.signing.header === undefined ? ['t={t},v1={v1}'] : typeof c.signing.header === 'string' ? [c.signing.header] : c.signing.header;
  const signatureHeaders = c.signing.secret === 'none' ? [] : templates.map(fill);
  body = applyEdits(body, c.afterSigning);
  const wire = c.transport.chunked ? chunkEncode(body, c.transport.drip?.chunkBytes ?? 16_384) : body;
  return { head: buildHead(c, host, body, signatureHeaders, fill), body: wire };
}

/** `Transfer-Encoding: chunked` framing of the body, ending with the zero-length chunk. */
function chunkEncode(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += size) {
    const chunk = body.subarray(at, at + size);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

// ---- body ----

function initialBody(spec: BodySpec, mutations: Mutation[], serialize: SerializeOptions | undefined): Buffer {
  if ('empty' in spec) return Buffer.alloc(0);
  if ('text' in spec) return Buffer.from(spec.text, 'utf8');
  if ('hex' in spec) return Buffer.from(spec.hex, 'hex');
  if ('base64' in spec) return Buffer.from(spec.base64, 'base64');
  let value: Json;
  if ('event' in spec) {
    const object = spec.object === 'failedInvoice' ? failedInvoice(spec.merge ?? {}) : (spec.merge ?? {});
    value = buildEvent(spec.event, { object, ...(spec.resource ? { resource: spec.resource } : {}) });
  } else {
    value = structuredClone(spec.json);
  }
  for (const m of mutations) value = applyMutation(value, m);
  return serializeJson(value, serialize ?? {});
}

function toPath(path: string | PathKey[]): PathKey[] {
  return typeof path === 'string' ? path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)) : path;
}

function applyMutation(root: Json, mutation: Mutation): Json {
  const path = toPath('set' in mutation ? mutation.set : mutation.delete);
  if (path.length === 0) return 'set' in mutation ? mutation.value : undefined;
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) throw new Error(`Corpus mutation path ${path.join('.')} goes through a non-object at "${key}".`);
    const record = node as Record<PathKey, Json>;
    if (record[key] === undefined || record[key] === null || typeof record[key] !== 'object') record[key] = {};
    node = record[key];
  }
  const last = path[path.length - 1] as PathKey;
  const record = node as Record<PathKey, Json>;
  if ('set' in mutation) record[last] = structuredClone(mutation.value);
  else if (Array.isArray(record)) record.splice(Number(last), 1);
  else delete record[last];
  return root;
}

/**
 * Generators inside a JSON value: `{"$array": {length, item}}`, `{"$string": {length, char}}`,
 * `{"$nested": {depth, kind, leaf}}` and `{"$raw": "json text"}`. Nested and raw ones are
 * spliced in as text, so a depth no JSON.stringify could walk is still written.
 */
interface Expansion {
  value: Json;
  raw: Map<string, string>;
}

function expandGenerators(value: Json, raw: Map<string, string>): Json {
  if (Array.isArray(value)) return value.map((v) => expandGenerators(v, raw));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, Json>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0]?.startsWith('$')) {
    const arg = record[keys[0]] as Record<string, Json>;
    switch (keys[0]) {
      case '$array':
        return Array.from({ length: Number(arg['length']) }, () => expandGenerators(structuredClone(arg['item'] ?? 0), raw));
      case '$string':
        return String(arg['char'] ?? 'x').repeat(Number(arg['length']));
      case '$nested': {
        const depth = Number(arg['depth']);
        const leaf = JSON.stringify(arg['leaf'] ?? 0);
        const text = arg['kind'] === 'object' ? '{"a":'.repeat(depth) + leaf + '}'.repeat(depth) : '['.repeat(depth) + leaf + ']'.repeat(depth);
        return rawToken(text, raw);
      }
      case '$raw':
        return rawToken(String(record['$raw']), raw);
      default:
        throw new Error(`Unknown corpus generator ${keys[0]}: use $array, $string, $nested or $raw.`);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, expandGenerators(record[k], raw)]));
}

function rawToken(text: string, raw: Map<string, string>): string {
  const token = `\u0000raw${raw.size}\u0000`;
  raw.set(token, text);
  return token;
}

function orderKeys(value: Json, options: SerializeOptions): Json {
  if (Array.isArray(value)) return value.map((v) => orderKeys(v, options));
  if (typeof value !== 'object' || value === null) return value;
  let keys = Object.keys(value);
  if (options.sortKeys) keys = keys.sort();
  if (options.reverseKeys) keys = keys.reverse();
  return Object.fromEntries(keys.map((k) => [k, orderKeys((value as Record<string, Json>)[k], options)]));
}

function serializeJson(value: Json, options: SerializeOptions): Buffer {
  const expansion: Expansion = { value: undefined, raw: new Map() };
  expansion.value = orderKeys(expandGenerators(value, expansion.raw), options);
  let text = stringify(expansion, options);
  if (options.padTo !== undefined) {
    const bytes = Buffer.byteLength(text);
    // The padding string's key and quotes cost bytes too: measure with an empty one, then fill.
    const padded = withPadding(expansion.value, '');
    const base = Buffer.byteLength(stringify({ value: padded, raw: expansion.raw }, options));
    if (base > options.padTo) throw new Error(`Cannot pad a ${bytes}-byte body to ${options.padTo} bytes: it is already larger.`);
    text = stringify({ value: withPadding(expansion.value, 'x'.repeat(options.padTo - base)), raw: expansion.raw }, options);
  }
  return Buffer.from(text, 'utf8');
}

function withPadding(value: Json, padding: string): Json {
  const copy = structuredClone(value) as Record<string, Json>;
  const data = copy['data'] as Record<string, Json> | undefined;
  const target = data && typeof data['object'] === 'object' && data['object'] !== null ? (data['object'] as Record<string, Json>) : copy;
  target['padding'] = padding;
  return copy;
}

function stringify({ value, raw }: Expansion, options: SerializeOptions): string {
  let text = JSON.stringify(value, null, options.indent);
  if (options.newline && options.indent !== undefined) text = text.replace(/\n/g, options.newline);
  if (options.asciiOnly) text = text.replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (options.escapeSlashes) text = text.replace(/\//g, '\\/');
  for (const [token, fragment] of raw) text = text.replace(JSON.stringify(token), () => fragment);
  return text;
}

function applyEdits(body: Buffer, edits: BodyEdit[]): Buffer {
  let out = body;
  for (const edit of edits) {
    if ('replace' in edit) {
      const at = out.indexOf(edit.replace);
      if (at < 0) throw new Error(`Corpus edit: "${edit.replace}" is not in the body.`);
      const by = edit.withHex !== undefined ? Buffer.from(edit.withHex, 'hex') : Buffer.from(edit.with ?? '', 'utf8');
      out = Buffer.concat([out.subarray(0, at), by, out.subarray(at + Buffer.byteLength(edit.replace))]);
    } else if ('append' in edit) out = Buffer.concat([out, Buffer.from(edit.append, 'utf8')]);
    else if ('appendHex' in edit) out = Buffer.concat([out, Buffer.from(edit.appendHex, 'hex')]);
    else if ('prepend' in edit) out = Buffer.concat([Buffer.from(edit.prepend, 'utf8'), out]);
    else if ('prependHex' in edit) out = Buffer.concat([Buffer.from(edit.prependHex, 'hex'), out]);
    else if ('truncate' in edit) out = out.subarray(0, Math.max(0, out.length - edit.truncate));
    else out = serializeJson(JSON.parse(out.toString('utf8')) as Json, edit.reserialize);
  }
  return out;
}

// ---- signature ----

function secretFor(name: string, settings: CorpusReceiverSettings): string {
  if (name === 'configured') return settings.secrets.configured;
  if (name === 'connect') return settings.secrets.connect;
  if (name === 'wrong') return settings.secrets.wrong;
  return name;
}

/**
 * The v1 signature of the body, as Stripe computes it: HMAC-SHA256 of `<t>.<body bytes>`.
 * stripe-node signs text, so a body that is not UTF-8 is signed over its bytes here.
 */
function v1(body: Buffer, secret: string, timestamp: number): string {
  let text: string | undefined;
  try {
    text = strictUtf8.decode(body);
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    const header = signPayload(text, secret, { timestamp });
    return /v1=([0-9a-f]+)/.exec(header)?.[1] ?? '';
  }
  return createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${timestamp}.`), body])).digest('hex');
}

/**
 * Fills `{t}`, `{t_next}`, `{now}`, `{v1}`, `{v1_upper}`, `{v1_wrong}`, `{v1_connect}` and
 * `{repeat:<count>:<text>}` in a header template, for the case's secret and timestamp.
 */
function signatureTemplate(c: CorpusCase, settings: CorpusReceiverSettings, body: Buffer): (template: string) => string {
  const secretName = c.signing.secret ?? 'configured';
  const now = Math.floor(Date.now() / 1000);
  const t = c.signing.timestamp ?? now + (c.signing.timestampOffset ?? 0);
  const main = () => v1(body, secretFor(secretName === 'none' ? 'configured' : secretName, settings), t);
  const vars: Record<string, () => string> = {
    t: () => String(t),
    t_next: () => String(t + 1),
    now: () => String(now),
    v1: main,
    v1_upper: () => main().toUpperCase(),
    v1_wrong: () => v1(body, settings.secrets.wrong, t),
    v1_connect: () => v1(body, settings.secrets.connect, t),
  };
  return (template) =>
    template
      .replace(/\{repeat:(\d+):([^}]*)\}/g, (_whole, count: string, text: string) => text.repeat(Number(count)))
      .replace(/\{(\w+)\}/g, (whole, name: string) => {
        const fill = vars[name];
        if (!fill) throw new Error(`Corpus case ${c.name}: unknown template variable ${whole} (known: ${Object.keys(vars).join(', ')}, repeat:N:text).`);
        return fill();
      });
}

// ---- head ----

function buildHead(c: CorpusCase, host: string, body: Buffer, signatureHeaders: string[], fill: (template: string) => string): Buffer {
  const length = c.transport.contentLength ?? body.length;
  if (c.transport.rawHead) {
    const lines = c.transport.rawHead.map((line) => fill(line.replace('{length}', String(length)).replace('{host}', host)));
    return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  }
  const headers: Array<[string, string]> = [
    ['Host', host],
    ['Content-Type', 'application/json; charset=utf-8'],
    ['User-Agent', 'Stripe/1.0 (+https://stripe.com/docs/webhooks)'],
    ['Connection', 'close'],
  ];
  if (c.transport.chunked) headers.push(['Transfer-Encoding', 'chunked']);
  else if (body.length > 0 || c.transport.contentLength !== undefined) headers.push(['Content-Length', String(length)]);
  for (const value of signatureHeaders) headers.push(['Stripe-Signature', value]);
  // Case headers replace generated ones of the same name (case-insensitively); null removes them.
  const replaced = new Set(Object.keys(c.headers).map((n) => n.toLowerCase()));
  const all = headers.filter(([n]) => !replaced.has(n.toLowerCase()));
  for (const [name, value] of Object.entries(c.headers)) {
    for (const v of value === null ? [] : Array.isArray(value) ? value : [value]) all.push([name, fill(v)]);
  }
  const lines = ['POST /webhooks/stripe HTTP/1.1', ...all.map(([n, v]) => `${n}: ${v}`)];
  // latin1: a header value may carry any byte the case asks for.
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}
