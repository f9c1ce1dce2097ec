// The few Stripe API calls the CLI makes itself (webhook endpoints), over fetch with Stripe's form
// encoding, and the dev stack's Stripe API double (its admin endpoints under /__double/).
import { CliError } from './command.js';
import type { CliConfig } from './config.js';

type Json = Record<string, unknown>;

/** Where Stripe API calls go: Stripe itself (STRIPE_SECRET_KEY) or the local Stripe API double. */
export interface StripeTarget {
  kind: 'stripe' | 'double';
  base: string;
  key: string;
  /** How to name it to the user. */
  label: string;
}

/** The key the double accepts (it checks the shape only); never a real key. */
const DOUBLE_KEY = 'sk_test_stripe_flows_double';

/** Base URL of the Stripe API double this configuration points at. */
export function doubleBase(config: CliConfig): string {
  return (config.STRIPE_API_BASE ?? `http://127.0.0.1:${config.STRIPE_DOUBLE_PORT}`).replace(/\/+$/, '');
}

/** Stripe with STRIPE_SECRET_KEY, else the double (as the dev stack's worker does). */
export function stripeTarget(config: CliConfig): StripeTarget {
  if (config.STRIPE_SECRET_KEY) {
    const mode = config.STRIPE_SECRET_KEY.includes('_live_') ? 'live' : 'test';
    return { kind: 'stripe', base: 'https://api.stripe.com', key: config.STRIPE_SECRET_KEY, label: `Stripe (${mode} mode, STRIPE_SECRET_KEY)` };
  }
  const base = doubleBase(config);
  return { kind: 'double', base, key: DOUBLE_KEY, label: `local Stripe API double at ${base}` };
}

/** Whether the Stripe API double answers at `base` (`GET /__double/requests`). */
export async function doubleIsRunning(base: string): Promise<boolean> {
  try {
    const response = await fetch(`${base}/__double/requests`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** `a[b][0]=c` form encoding of nested params, as stripe-node sends them. */
export function formEncode(params: Json): string {
  const pairs: string[] = [];
  const add = (key: string, value: unknown): void => {
    if (value === undefined) return;
    if (Array.isArray(value)) value.forEach((v, i) => add(`${key}[${i}]`, v));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
    else pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(value === null ? '' : String(value))}`);
  };
  for (const [key, value] of Object.entries(params)) add(key, value);
  return pairs.join('&');
}

/** A Stripe API call answered with an error: Stripe's own message, code and param. */
export class StripeApiError extends CliError {
  constructor(
    readonly request: string,
    readonly status: number,
    readonly error: { message?: string; code?: string; param?: string; type?: string },
  ) {
    const hint =
      status === 401
        ? ' Check STRIPE_SECRET_KEY.'
        : status === 403
          ? ' A restricted key needs write access to Webhook Endpoints.'
          : '';
    super(`Stripe refused ${request} (${status}${error.code ? ` ${error.code}` : ''}${error.param ? `, param ${error.param}` : ''}): ${error.message ?? 'no message'}.${hint}`);
  }
}

/** One Stripe API request; resolves to the JSON body, throws StripeApiError on a Stripe error. */
export async function stripeRequest<T = Json>(target: StripeTarget, method: 'GET' | 'POST' | 'DELETE', path: string, params: Json = {}): Promise<T> {
  const query = method === 'POST' ? '' : formEncode(params);
  const url = `${target.base}${path}${query ? `?${query}` : ''}`;
  const request = `${method} ${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${target.key}`, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(method === 'POST' ? { body: formEncode(params) } : {}),
      signal: AbortSignal.timeout(20_000),
    });
  } catch (error) {
    throw new CliError(`Could not reach the ${target.label} for ${request}: ${(error as Error).message}.`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError(`The ${target.label} answered ${request} with ${response.status} and a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const error = (body as { error?: StripeApiError['error'] }).error ?? {};
    throw new StripeApiError(request, response.status, error);
  }
  return body as T;
}

/** The dev stack's Stripe API double, driven through its admin endpoints. */
export class DoubleAdmin {
  constructor(readonly base: string) {}

  /** Store an object as the flows will read it (replaces one with the same id). */
  async seed(resource: string, object: Json, stripeAccount?: string): Promise<void> {
    await this.#post('/__double/seed', { resource, object, ...(stripeAccount ? { stripeAccount } : {}) });
  }

  /** The object as the double holds it now (whichever account owns it), or undefined. */
  async get(resource: string, id: string): Promise<Json | undefined> {
    const response = await fetch(`${this.base}/__double/objects/${encodeURIComponent(resource)}/${encodeURIComponent(id)}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new CliError(`The Stripe API double at ${this.base} could not show ${resource} ${id}: ${await response.text()}`);
    return (await response.json()) as Json;
  }

  async #post(path: string, body: Json): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (error) {
      throw new CliError(`Could not reach the Stripe API double at ${this.base}: ${(error as Error).message}.`);
    }
    if (!response.ok) throw new CliError(`The Stripe API double at ${this.base} refused ${path}: ${await response.text()}`);
    await response.body?.cancel();
  }
}
