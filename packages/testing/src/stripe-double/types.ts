import type { DoubleResource } from './resources.js';

export type { DoubleResource };

/** How to start a {@link StripeApiDouble}. */
export interface StripeDoubleOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; `0` (the default) picks a free one. */
  port?: number;
  /**
   * Dev mode: an unknown id of a known resource is synthesized from the fixture shape with that id
   * (and kept) instead of answering 404 `resource_missing`.
   */
  lenient?: boolean;
  /**
   * Path to Stripe's `stripe-objects.json` fixtures. Default: the first `shared/fixtures` folder
   * found walking up from `process.cwd()`, then from this module's folder.
   */
  fixturesPath?: string;
}

/** One HTTP request the double received, as it saw it. The API key itself is never stored. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Decoded query string (bracket notation → nested objects/arrays; values stay strings). */
  query: Record<string, unknown>;
  /** Decoded form body (bracket notation → nested objects/arrays; values stay strings). */
  params: Record<string, unknown>;
  /** The body exactly as received (form-encoded, brackets as stripe-node sends them). */
  rawBody: string;
  idempotencyKey?: string;
  stripeAccount?: string;
  stripeVersion?: string;
  /** `bearer` for a well-formed `Bearer sk_...`/`rk_...` key, `invalid` for anything else sent. */
  authorization: 'bearer' | 'missing' | 'invalid';
  /** HTTP status answered; `0` when the connection was dropped by a fault. */
  status: number;
  /** True when the answer was an idempotent replay of a stored response. */
  replayed: boolean;
  /** The injected fault that hit this request: `status:429`, `delay:250`, `drop`. */
  fault?: string;
  /** Arrival time, ms since the epoch. */
  at: number;
}

/** What an injected fault does to a matching request. */
export type Fault =
  | {
      type: 'status';
      status: 429 | 500 | 502 | 503 | 400 | 402 | 404 | 409;
      /** Sets `Stripe-Should-Retry: true|false` when given; no header otherwise. */
      shouldRetry?: boolean;
      code?: string;
      message?: string;
    }
  /** Waits, then handles the request normally. */
  | { type: 'delay'; ms: number }
  /** Destroys the socket without answering. */
  | { type: 'drop' };

/**
 * A fault for requests matching `method` and `path` (exact pathname, or a RegExp tested against
 * it; both optional). Rules are tried in the order injected; each fires `times` times (default 1,
 * `Infinity` allowed) and is then spent.
 */
export interface FaultRule {
  method?: string;
  path?: string | RegExp;
  times?: number;
  fault: Fault;
}
