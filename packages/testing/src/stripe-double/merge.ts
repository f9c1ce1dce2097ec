// How params change objects: Stripe merges metadata (an empty value unsets a key, an empty
// `metadata` unsets all), turns empty strings into null, and coerces numbers and booleans. The
// object's existing shape tells which fields are numbers or booleans.
import { invalidParam } from './errors.js';
import { boolParam, intParam, isRecord } from './form.js';

/** Params that steer the request rather than the object. */
const CONTROL_PARAMS = new Set(['expand']);

// Integer fields that may be null in a fixture, so the shape cannot tell.
const INTEGER_FIELDS = new Set([
  'amount', 'application_fee_amount', 'quantity', 'unit_amount', 'days_until_due', 'due_date',
  'trial_end', 'cancel_at', 'billing_cycle_anchor', 'start', 'end', 'expires_at', 'arrival_date',
]);

/** Merges request params into an object, guided by the object's current shape. */
export function applyParams(target: Record<string, unknown>, params: Record<string, unknown>, path = ''): void {
  for (const [key, value] of Object.entries(params)) {
    if (path === '' && CONTROL_PARAMS.has(key)) continue;
    const param = path === '' ? key : `${path}[${key}]`;
    if (key === 'metadata') {
      target.metadata = mergeMetadata(target.metadata, value, param);
      continue;
    }
    target[key] = coerceLike(target[key], value, key, param);
  }
}

function coerceLike(current: unknown, value: unknown, key: string, param: string): unknown {
  if (typeof value === 'string') {
    if (value === '') return null;
    if (typeof current === 'number' || INTEGER_FIELDS.has(key)) return intParam(value, param);
    if (typeof current === 'boolean') return boolParam(value, param);
    return value;
  }
  if (Array.isArray(value)) {
    // A list object (`{ object: 'list' }`) is not settable by an array param.
    if (isRecord(current) && current.object === 'list') return current;
    return value;
  }
  if (isRecord(value)) {
    const next: Record<string, unknown> = isRecord(current) ? structuredClone(current) : {};
    applyParams(next, value, param);
    return next;
  }
  return value;
}

/** Stripe metadata semantics: merge keys, '' unsets a key, '' for the whole map unsets all. */
export function mergeMetadata(current: unknown, patch: unknown, param = 'metadata'): Record<string, string> {
  const merged: Record<string, string> = isRecord(current) ? { ...(current as Record<string, string>) } : {};
  if (patch === '' || patch === null) return {};
  if (!isRecord(patch)) throw invalidParam(param, `Invalid ${param}: must be a hash of string keys and values.`);
  if (Object.keys(patch).length === 0) return {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === '' || value === null) {
      delete merged[key];
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalidParam(`${param}[${key}]`, `Invalid value for ${param}[${key}]: metadata values must be strings.`);
    }
    if (key.length > 40) throw invalidParam(`${param}[${key}]`, `Metadata keys can have up to 40 characters; '${key}' has ${key.length}.`);
    const text = String(value);
    if (text.length > 500) throw invalidParam(`${param}[${key}]`, `Metadata values can have up to 500 characters; ${param}[${key}] has ${text.length}.`);
    merged[key] = text;
  }
  if (Object.keys(merged).length > 50) throw invalidParam(param, `Metadata can have up to 50 keys; this update leaves ${Object.keys(merged).length}.`);
  return merged;
}

/** Plain deep merge for seeds and `update()`: objects merge, arrays and scalars replace. */
export function deepMerge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (isRecord(value) && isRecord(current) && current.object !== 'list') {
      deepMerge(current, value);
    } else {
      target[key] = structuredClone(value);
    }
  }
  return target;
}
