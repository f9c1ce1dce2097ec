// The HTTP server: records every request, applies injected faults, checks the API key, replays
// idempotent requests, and runs the matching route against the in-memory store.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { handleAdmin } from './admin.js';
import { crudRoutes, view } from './crud.js';
import { DoubleError, faultErrorBody, idempotencyMismatch, invalidApiKey, invalidHeader, missingApiKey, unrecognizedUrl } from './errors.js';
import { FaultBook, describeFault } from './faults.js';
import { findFixturesPath, loadFixtures } from './fixtures.js';
import { connectRoutes } from './connect.js';
import { customerRoutes } from './customers.js';
import { eventRoutes } from './events.js';
import { decodeForm } from './form.js';
import { IdempotencyCache, fingerprint } from './idempotency.js';
import { invoiceRoutes, normalizeInvoice } from './invoices.js';
import { deepMerge } from './merge.js';
import { meterRoutes } from './meters.js';
import { paymentRoutes } from './payments.js';
import { isDoubleResource, RESOURCE_NAMES, type DoubleResource } from './resources.js';
import { matchRoute, type HttpMethod, type Route } from './router.js';
import { Store, newId } from './store.js';
import { subscriptionRoutes } from './subscriptions.js';
import { webhookEndpointRoutes } from './webhook-endpoints.js';
import type { FaultRule, RecordedRequest, StripeDoubleOptions } from './types.js';

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

// Specific routes first; the generic table-derived CRUD routes last.
const ROUTES: readonly Route[] = [
  ...invoiceRoutes(),
  ...subscriptionRoutes(),
  ...connectRoutes(),
  ...paymentRoutes(),
  ...customerRoutes(),
  ...eventRoutes(),
  ...meterRoutes(),
  ...webhookEndpointRoutes(),
  ...crudRoutes(),
];

interface Outcome {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * A Stripe API test double: an HTTP server speaking Stripe's v1 wire format (form-encoded
 * requests, JSON responses and errors, idempotency keys, Stripe-Account) over an in-memory store
 * seeded from Stripe's published fixtures. Point stripe-node at it with {@link stripeOptions} or
 * use {@link client}.
 *
 * Like Stripe, it checks what params reference (an invoice's `customer`, a transfer's
 * `destination` account, ...): seed those first, or start it `lenient`.
 *
 * @example
 * ```ts
 * const double = await StripeApiDouble.start();
 * double.seed('invoice', { id: 'in_1', status: 'draft', customer: 'cus_1' });
 * const invoice = await double.client().invoices.finalizeInvoice('in_1');
 * await double.stop();
 * ```
 */
export class StripeApiDouble {
  /** Interface the server listens on. */
  readonly host: string;
  /** Port the server listens on. */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:12111`. */
  readonly url: string;

  readonly #server: Server;
  readonly #store: Store;
  readonly #faults = new FaultBook();
  readonly #idempotency = new IdempotencyCache();
  readonly #timers = new Set<NodeJS.Timeout>();
  #requests: RecordedRequest[] = [];
  #stopped = false;

  private constructor(server: Server, store: Store) {
    const address = server.address() as AddressInfo;
    this.#server = server;
    this.#store = store;
    this.host = address.address;
    this.port = address.port;
    this.url = `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: `Stripe API double failed: ${(error as Error).message}` } }));
      });
    });
  }

  /** Starts a double listening on `host:port` (default 127.0.0.1, a free port). */
  static async start(opts: StripeDoubleOptions = {}): Promise<StripeApiDouble> {
    const fixtures = loadFixtures(opts.fixturesPath ?? findFixturesPath());
    const store = new Store(fixtures, { lenient: opts.lenient ?? false, normalizers: { invoice: normalizeInvoice } });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new StripeApiDouble(server, store);
  }

  /** Options to spread into `new Stripe(key, { ...double.stripeOptions() })`. */
  stripeOptions(): { host: string; port: number; protocol: 'http' } {
    return { host: this.host, port: this.port, protocol: 'http' };
  }

  /** A stripe-node client pointed at the double; `maxNetworkRetries` defaults to 0. */
  client(opts: { apiKey?: string; maxNetworkRetries?: number } = {}): Stripe {
    return new Stripe(opts.apiKey ?? 'sk_test_stripe_api_double', {
      ...this.stripeOptions(),
      maxNetworkRetries: opts.maxNetworkRetries ?? 0,
      telemetry: false,
    });
  }

  /**
   * Stores an object: the fixture's shape for the resource merged with `object` (deeply for plain
   * objects; arrays replace). Invoices get a proper `lines` list (invoice items created for their
   * lines) and totals from their lines unless given. `stripeAccount` makes it a connected account's
   * object, visible only to requests made as that account. Returns the stored object.
   */
  seed<T extends object = Record<string, unknown>>(
    resource: DoubleResource,
    object: { id: string } & Partial<NoInfer<T>> & Record<string, unknown>,
    opts: { stripeAccount?: string } = {},
  ): T {
    if (!isDoubleResource(resource)) throw new Error(`Unknown resource ${String(resource)}; known: ${RESOURCE_NAMES.join(', ')}.`);
    if (typeof object.id !== 'string' || object.id === '') throw new Error(`seed(${resource}) needs an object with a string id.`);
    this.#store.remove(resource, object.id);
    const built = this.#store.build(resource, object, opts.stripeAccount, 'seed');
    this.#store.put(resource, built, opts.stripeAccount);
    return view(this.#store, resource, built, opts.stripeAccount) as unknown as T;
  }

  /** A copy of a stored object (whichever account owns it), or undefined. */
  get(resource: DoubleResource, id: string): Record<string, unknown> | undefined {
    const object = this.#store.find(resource, id, this.#store.ownerOf(resource, id));
    return object ? view(this.#store, resource, object, this.#store.ownerOf(resource, id)) : undefined;
  }

  /** Deep-merges `patch` into a stored object (to move state along outside the API). */
  update(resource: DoubleResource, id: string, patch: Record<string, unknown>): void {
    const owner = this.#store.ownerOf(resource, id);
    const object = this.#store.find(resource, id, owner);
    if (!object) throw new Error(`update(${resource}, ${id}): no such object in the double.`);
    deepMerge(object, patch);
    this.#store.normalize(resource, object, patch, owner);
  }

  /** Every request received, in order (admin endpoint calls excluded). */
  get requests(): readonly RecordedRequest[] {
    return [...this.#requests];
  }

  /**
   * POST/DELETE requests that took effect: answered 2xx and not idempotent replays (faulted and
   * failed requests change nothing). Count them per idempotency key to assert "one side effect".
   */
  sideEffects(filter: { method?: string; path?: string | RegExp } = {}): RecordedRequest[] {
    return this.#requests.filter((r) => {
      if (r.method !== 'POST' && r.method !== 'DELETE') return false;
      if (r.replayed || r.status < 200 || r.status >= 300) return false;
      if (filter.method && filter.method.toUpperCase() !== r.method) return false;
      if (filter.path === undefined) return true;
      return typeof filter.path === 'string' ? filter.path === r.path : new RegExp(filter.path.source, filter.path.flags.replace('g', '')).test(r.path);
    });
  }

  /** Adds a fault rule (tried after the rules already injected). */
  inject(rule: FaultRule): void {
    this.#faults.add(rule);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Forgets objects, recorded requests, faults and stored idempotent responses. */
  reset(): void {
    this.#store.clear();
    this.#requests = [];
    this.#faults.clear();
    this.#idempotency.clear();
  }

  /** Stops listening and closes open connections. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch (error) {
      if (!res.destroyed) respond(res, { status: 413, body: JSON.stringify({ error: { type: 'invalid_request_error', message: (error as Error).message } }) });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://stripe-double.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;

    if (path.startsWith('/__double/')) {
      const answer = handleAdmin(this, method, path, rawBody);
      respond(res, { status: answer.status, body: JSON.stringify(answer.body) });
      return;
    }

    const auth = parseAuthorization(header(req, 'authorization'));
    const record: RecordedRequest = {
      method,
      path,
      query: decodeForm(url.search.slice(1)),
      params: decodeForm(rawBody),
      rawBody,
      authorization: auth.state,
      status: 0,
      replayed: false,
      at: Date.now(),
    };
    const idempotencyKey = header(req, 'idempotency-key');
    const stripeAccount = header(req, 'stripe-account');
    const stripeVersion = header(req, 'stripe-version');
    if (idempotencyKey !== undefined) record.idempotencyKey = idempotencyKey;
    if (stripeAccount !== undefined) record.stripeAccount = stripeAccount;
    if (stripeVersion !== undefined) record.stripeVersion = stripeVersion;
    this.#requests.push(record);

    // Faults come first: a faulted request never reaches idempotency storage.
    const fault = this.#faults.take(method, path);
    if (fault) {
      record.fault = describeFault(fault);
      if (fault.type === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault.type === 'status') {
        const headers: Record<string, string> = fault.shouldRetry === undefined ? {} : { 'Stripe-Should-Retry': String(fault.shouldRetry) };
        const body = JSON.stringify({ error: faultErrorBody(fault.status, fault.code, fault.message) });
        this.#send(res, record, { status: fault.status, body, headers });
        return;
      }
      await this.#sleep(fault.ms);
      if (this.#stopped || res.destroyed) return;
    }

    this.#send(res, record, this.#process(record, auth));
  }

  #process(record: RecordedRequest, auth: Authorization): Outcome {
    if (auth.state === 'missing') return errorOutcome(missingApiKey());
    if (auth.state === 'invalid') return errorOutcome(invalidApiKey(auth.key));

    const method = record.method as HttpMethod;
    const match = matchRoute(ROUTES, method, record.path);
    if (!match) return errorOutcome(unrecognizedUrl(record.method, record.path));

    const params = method === 'POST' ? record.params : record.query;
    const account = record.stripeAccount;
    const key = method !== 'GET' ? record.idempotencyKey : undefined;
    const print = fingerprint(method, record.path, params);
    if (key !== undefined) {
      if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
        return errorOutcome(invalidHeader(`Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters (got ${key.length}).`));
      }
      const stored = this.#idempotency.get(account, key);
      if (stored && stored.fingerprint !== print) return errorOutcome(idempotencyMismatch(key));
      if (stored) {
        record.replayed = true;
        return { status: stored.status, body: stored.body, headers: { 'Idempotent-Replayed': 'true' } };
      }
    }

    const snapshot = method === 'GET' ? undefined : this.#store.snapshot();
    let outcome: Outcome;
    try {
      const body = match.route.handler({
        method,
        path: record.path,
        pathParams: match.pathParams,
        params,
        account,
        store: this.#store,
        baseUrl: this.url,
      });
      outcome = { status: 200, body: JSON.stringify(body) };
    } catch (error) {
      if (!(error instanceof DoubleError)) {
        if (snapshot !== undefined) this.#store.restore(snapshot);
        // A bug in the double: answer like Stripe's api_error, and store nothing so a retry runs again.
        console.error('Stripe API double internal error', error);
        return errorOutcome(new DoubleError(500, { type: 'api_error', message: `Stripe API double internal error: ${(error as Error).message}` }));
      }
      if (snapshot !== undefined && !error.keepChanges) this.#store.restore(snapshot);
      outcome = errorOutcome(error);
    }
    if (key !== undefined) this.#idempotency.set(account, key, { fingerprint: print, status: outcome.status, body: outcome.body });
    return outcome;
  }

  #send(res: ServerResponse, record: RecordedRequest, outcome: Outcome): void {
    record.status = outcome.status;
    const headers: Record<string, string> = { 'Request-Id': newId('req', 14), ...outcome.headers };
    if (record.idempotencyKey !== undefined) headers['Idempotency-Key'] = record.idempotencyKey;
    if (record.stripeAccount !== undefined) headers['Stripe-Account'] = record.stripeAccount;
    if (record.stripeVersion !== undefined) headers['Stripe-Version'] = record.stripeVersion;
    respond(res, { ...outcome, headers });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }
}

type Authorization = { state: 'bearer' } | { state: 'missing' } | { state: 'invalid'; key: string };

/** `Authorization: Bearer sk_...` (or `rk_...`); the key is checked for shape only, never kept. */
function parseAuthorization(value: string | undefined): Authorization {
  if (value === undefined || value.trim() === '') return { state: 'missing' };
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(value);
  const key = bearer?.[1] ?? value.trim();
  return bearer && /^(sk|rk)_[A-Za-z0-9_]+$/.test(key) ? { state: 'bearer' } : { state: 'invalid', key };
}

function errorOutcome(error: DoubleError): Outcome {
  return { status: error.status, body: JSON.stringify({ error: error.body }) };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function respond(res: ServerResponse, outcome: Outcome): void {
  if (res.destroyed) return;
  res.writeHead(outcome.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(outcome.body),
    ...outcome.headers,
  });
  res.end(outcome.body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error(`Request body over ${MAX_BODY_BYTES} bytes.`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
