// A raw HTTP/1.1 client on node:net: it sends exactly the bytes it is given (duplicate headers,
// invalid bytes, broken framing), as slowly as asked, and reads whatever comes back.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TransportSpec } from './corpus-schema.js';

export interface RawAnswer {
  /** 0 when the connection closed without an answer. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Socket error seen while sending or reading (e.g. ECONNRESET), if any. */
  socketError?: string;
  ms: number;
}

export interface RawRequest {
  host: string;
  port: number;
  head: Buffer;
  body: Buffer;
  transport: TransportSpec;
  /** Give up (and report status 0) after this long. */
  timeoutMs: number;
}

/** Send one request on a fresh connection and read the answer until the server closes it. */
export function sendRawRequest(request: RawRequest): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let socketError: string | undefined;
    let answered = false;
    let settled = false;
    const socket = connect({ host: request.host, port: request.port });
    socket.setNoDelay(true);
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseAnswer(Buffer.concat(received)), ...(socketError ? { socketError } : {}), ms: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => {
      socketError ??= `no answer within ${request.timeoutMs} ms`;
      finish();
    }, request.timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      answered = true;
      received.push(chunk);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      socketError ??= error.code ?? error.message;
    });
    socket.on('close', finish);
    socket.on('end', finish);

    const write = async (bytes: Buffer): Promise<boolean> => {
      if (answered || socket.destroyed) return false;
      if (!socket.write(bytes)) await new Promise<void>((r) => socket.once('drain', () => r()).once('close', () => r()));
      return !socket.destroyed;
    };
    const send = async (bytes: Buffer, drip: TransportSpec['drip'], stopAfter: number | undefined): Promise<boolean> => {
      const limit = stopAfter === undefined ? bytes.length : Math.min(stopAfter, bytes.length);
      const step = drip?.chunkBytes ?? 65_536;
      for (let at = 0; at < limit; at += step) {
        if (!(await write(bytes.subarray(at, Math.min(at + step, limit))))) return false;
        if (drip && drip.intervalMs > 0 && at + step < limit) await sleep(drip.intervalMs);
      }
      return stopAfter === undefined;
    };
    socket.once('connect', () => {
      void (async () => {
        const t = request.transport;
        if (!(await send(request.head, t.headDrip, t.stallAfterHeadBytes))) return;
        const stop = t.withholdLastBodyBytes !== undefined ? Math.max(0, request.body.length - t.withholdLastBodyBytes) : t.stallAfterBodyBytes;
        await send(request.body, t.drip, stop);
        // Then wait: the server answers and closes (every corpus request asks Connection: close).
      })().catch((error: unknown) => {
        socketError ??= error instanceof Error ? error.message : String(error);
      });
    });
  });
}

function parseAnswer(raw: Buffer): Omit<RawAnswer, 'ms' | 'socketError'> {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: raw };
  const [statusLine = '', ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') body = dechunk(body);
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status, headers, body };
}

function dechunk(wire: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < wire.length) {
    const lineEnd = wire.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(wire.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(wire.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
