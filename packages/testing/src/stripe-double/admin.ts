// Admin endpoints under /__double/ so another process (dev mode) can drive the double over HTTP.
// JSON in, JSON out; no auth, not recorded, never faulted.
import { isRecord } from './form.js';
import { isDoubleResource, RESOURCE_NAMES, type DoubleResource } from './resources.js';
import type { FaultRule, RecordedRequest } from './types.js';

/** The part of the double the admin endpoints drive. */
export interface AdminTarget {
  seed(resource: DoubleResource, object: { id: string } & Record<string, unknown>, opts?: { stripeAccount?: string }): unknown;
  get(resource: DoubleResource, id: string): Record<string, unknown> | undefined;
  readonly requests: readonly RecordedRequest[];
  inject(rule: FaultRule): void;
  clearFaults(): void;
  reset(): void;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

class AdminError extends Error {}

export function handleAdmin(target: AdminTarget, method: string, path: string, rawBody: string): AdminResponse {
  try {
    const route = `${method} ${path.replace(/\/+$/, '')}`;
    if (route === 'POST /__double/seed') {
      const body = json(rawBody);
      const resource = body.resource;
      const object = body.object;
      if (!isDoubleResource(resource)) throw new AdminError(`resource must be one of ${RESOURCE_NAMES.join(', ')} (got ${JSON.stringify(resource)}).`);
      if (!isRecord(object) || typeof object.id !== 'string') throw new AdminError('object must be a JSON object with a string id.');
      const stripeAccount = typeof body.stripeAccount === 'string' ? body.stripeAccount : undefined;
      return { status: 200, body: target.seed(resource, object as { id: string }, stripeAccount ? { stripeAccount } : {}) };
    }
    if (route === 'GET /__double/requests') return { status: 200, body: target.requests };
    if (route === 'POST /__double/faults') {
      target.inject(faultRule(json(rawBody)));
      return { status: 200, body: { ok: true } };
    }
    if (route === 'DELETE /__double/faults') {
      target.clearFaults();
      return { status: 200, body: { ok: true } };
    }
    if (route === 'POST /__double/reset') {
      target.reset();
      return { status: 200, body: { ok: true } };
    }
    const objectPath = /^GET \/__double\/objects\/([^/]+)\/([^/]+)$/.exec(route);
    if (objectPath) {
      const [, resource = '', id = ''] = objectPath;
      if (!isDoubleResource(resource)) throw new AdminError(`Unknown resource ${resource}.`);
      const found = target.get(resource, decodeURIComponent(id));
      return found ? { status: 200, body: found } : { status: 404, body: { error: { message: `No ${resource} ${id} in the double.` } } };
    }
    return {
      status: 404,
      body: { error: { message: `Unknown admin endpoint ${route}. Try POST /__double/seed, GET /__double/requests, POST|DELETE /__double/faults, POST /__double/reset, GET /__double/objects/:resource/:id.` } },
    };
  } catch (error) {
    return { status: 400, body: { error: { message: (error as Error).message } } };
  }
}

function json(raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new AdminError('Body must be JSON.');
  }
  if (!isRecord(parsed)) throw new AdminError('Body must be a JSON object.');
  return parsed;
}

/** A FaultRule from JSON: `path` as a string or `{ "regex": "..." }`, `times` a number or "Infinity". */
function faultRule(body: Record<string, unknown>): FaultRule {
  const rule: Record<string, unknown> = { ...body };
  if (isRecord(body.path)) {
    if (typeof body.path.regex !== 'string') throw new AdminError('path must be a string or { "regex": "..." }.');
    rule.path = new RegExp(body.path.regex);
  }
  if (body.times === 'Infinity' || body.times === null) rule.times = Infinity;
  return rule as unknown as FaultRule;
}
