// An HTTP proxy between the worker and the Stripe API double for the faults the double cannot
// make itself: Stripe applied a write, but its answer never reached the caller (held until the
// caller is gone, or the connection cut after the response was produced).
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What to do with the upstream response to a matching request. */
export type ResponseFault =
  /** Hold the response this long before sending it (dropped if the caller is gone by then). */
  | { type: 'hold'; ms: number }
  /** Cut the connection instead of sending the response: the write happened, the caller never hears. */
  | { type: 'lose' };

export interface ResponseFaultRule {
  method: string;
  path: string;
  /** Matching requests the fault applies to (then it is spent). Default 1. */
  times?: number;
  fault: ResponseFault;
}

/** One request that went through the proxy, and what happened to its response. */
export interface ProxiedRequest {
  method: string;
  path: string;
  upstreamStatus: number | undefined;
  fault?: string;
  /** The response reached the caller. */
  delivered: boolean;
}

export class ResponseFaultProxy {
  readonly url: string;
  readonly #server: Server;
  readonly #upstream: URL;
  readonly #rules: Array<{ rule: ResponseFaultRule; remaining: number }> = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #log: ProxiedRequest[] = [];

  private constructor(server: Server, upstream: URL) {
    this.#server = server;
    this.#upstream = upstream;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#forward(req, res));
  }

  /** A proxy on a free loopback port forwarding to `upstream` (e.g. the double's URL). */
  static async start(upstream: string): Promise<ResponseFaultProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new ResponseFaultProxy(server, new URL(upstream));
  }

  inject(rule: ResponseFaultRule): void {
    this.#rules.push({ rule, remaining: rule.times ?? 1 });
  }

  get requests(): readonly ProxiedRequest[] {
    return [...this.#log];
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  #take(method: string, path: string): ResponseFault | undefined {
    const armed = this.#rules.find((a) => a.remaining > 0 && a.rule.method.toUpperCase() === method && a.rule.path === path);
    if (!armed) return undefined;
    armed.remaining -= 1;
    return armed.rule.fault;
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = new URL(req.url ?? '/', 'http://proxy.invalid').pathname;
    const entry: ProxiedRequest = { method, path, upstreamStatus: undefined, delivered: false };
    this.#log.push(entry);
    const upstream = httpRequest(
      { host: this.#upstream.hostname, port: this.#upstream.port, method, path: req.url, headers: { ...req.headers, host: this.#upstream.host }, agent: false },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          entry.upstreamStatus = answer.statusCode;
          const fault = this.#take(method, path);
          const send = () => {
            if (res.destroyed) return;
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
            entry.delivered = true;
          };
          if (!fault) return send();
          entry.fault = fault.type === 'hold' ? `hold:${fault.ms}` : 'lose';
          if (fault.type === 'lose') {
            req.socket.destroy();
            return;
          }
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            send();
          }, fault.ms);
          this.#timers.add(timer);
        });
      },
    );
    // Transparent otherwise: a dropped upstream drops the caller, and a caller that gave up (timeout,
    // killed process) abandons the upstream request, as a closed connection does without a proxy.
    upstream.on('error', () => {
      if (!res.destroyed) req.socket.destroy();
    });
    res.on('close', () => {
      if (entry.upstreamStatus === undefined) upstream.destroy();
    });
    req.pipe(upstream);
  }
}
