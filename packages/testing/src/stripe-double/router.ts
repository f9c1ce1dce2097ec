// Route table: method + path pattern (`/v1/invoices/:id/finalize`) → handler. First match wins,
// so specific routes are listed before the generic CRUD ones.
import type { Store } from './store.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface RequestContext {
  readonly method: HttpMethod;
  readonly path: string;
  readonly pathParams: Readonly<Record<string, string>>;
  /** Body params for POST; query params for GET and DELETE (where stripe-node puts them). */
  readonly params: Record<string, unknown>;
  /** The Stripe-Account the request acts as. */
  readonly account: string | undefined;
  readonly store: Store;
  /** The double's own base URL (for links it mints). */
  readonly baseUrl: string;
}

/** Returns the JSON body of a 200 response; throws DoubleError for Stripe errors. */
export type Handler = (ctx: RequestContext) => Record<string, unknown>;

export interface Route {
  readonly method: HttpMethod;
  readonly pattern: string;
  readonly handler: Handler;
  readonly regex: RegExp;
  readonly keys: readonly string[];
}

export function route(method: HttpMethod, pattern: string, handler: Handler): Route {
  const keys: string[] = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      keys.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { method, pattern, handler, regex: new RegExp(`^${source}/?$`), keys };
}

export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; pathParams: Record<string, string> } | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.regex.exec(path);
    if (!match) continue;
    const pathParams: Record<string, string> = {};
    candidate.keys.forEach((key, i) => {
      pathParams[key] = decodeURIComponent(match[i + 1] ?? '');
    });
    return { route: candidate, pathParams };
  }
  return undefined;
}

/** A path param the pattern guarantees. */
export function pathParam(ctx: RequestContext, key: string): string {
  const value = ctx.pathParams[key];
  if (value === undefined) throw new Error(`route ${ctx.path} has no :${key}`);
  return value;
}
