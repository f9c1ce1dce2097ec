// Stripe's form encoding: `lines[0][description]=x`, `metadata[k]=v`, `expand[]=a`, decoded into
// nested objects and arrays. Values stay strings, as Stripe receives them; handlers coerce.
import { invalidParam } from './errors.js';

/** A decoded form value: strings, arrays (`a[0]`, `a[]`) and nested maps (`a[b]`). */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
/** A decoded form body or query string. */
export type Form = { [key: string]: FormValue };

// Keys whose children are user-chosen names, never array indexes.
const MAP_KEYS = new Set(['metadata', 'invoice_metadata']);
const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** Decodes an `application/x-www-form-urlencoded` body or query string into nested values. */
export function decodeForm(encoded: string): Form {
  const root: Form = {};
  for (const [rawKey, value] of new URLSearchParams(encoded)) {
    const path = splitKey(rawKey);
    if (path.length === 0 || path.some((segment) => UNSAFE_KEYS.has(segment))) continue;
    assign(root, path, value);
  }
  return arrayify(root, false) as Form;
}

/** `a[b][0][]` → ['a', 'b', '0', ''] */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return key === '' ? [] : [key];
  const segments = [key.slice(0, open)];
  for (const match of key.slice(open).matchAll(/\[([^\]]*)\]/g)) segments.push(match[1] ?? '');
  return segments;
}

type Container = Record<string, unknown> | unknown[];

function assign(root: Form, path: string[], value: string): void {
  let node: Container = root;
  path.forEach((segment, index) => {
    // `[]` appends: `expand[]=a&expand[]=b`
    const key = segment === '' && Array.isArray(node) ? String(node.length) : segment;
    const slots = node as Record<string, unknown>;
    if (index === path.length - 1) {
      slots[key] = value;
      return;
    }
    const child = slots[key];
    if (typeof child === 'object' && child !== null) {
      node = child as Container;
    } else {
      node = path[index + 1] === '' ? [] : {};
      slots[key] = node;
    }
  });
}

// Objects whose keys are all indexes become arrays (`lines[0]`, `lines[1]`), except maps.
function arrayify(value: unknown, isMap: boolean): FormValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map((v) => arrayify(v, false));
  const entries = Object.entries(value as Record<string, unknown>);
  const converted = Object.fromEntries(entries.map(([k, v]) => [k, arrayify(v, MAP_KEYS.has(k))]));
  const indexed = entries.length > 0 && entries.every(([k]) => /^(0|[1-9]\d*)$/.test(k));
  if (isMap || !indexed) return converted;
  return Object.keys(converted)
    .map(Number)
    .sort((a, b) => a - b)
    .map((i) => converted[String(i)] as FormValue);
}

/** An integer param (Stripe sends amounts as strings); undefined when absent or empty. */
export function intParam(value: unknown, param: string): number | undefined {
  if (value === undefined || value === '' || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  throw invalidParam(param, `Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`, 'parameter_invalid_integer');
}

/** A boolean param (`true`/`false` on the wire). */
export function boolParam(value: unknown, param: string): boolean | undefined {
  if (value === undefined || value === '' || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidParam(param, `Invalid boolean: ${String(value)}`);
}

/** A string param, or undefined. */
export function stringParam(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A list param given as an array (or an index-keyed object, which decodeForm already turns into one). */
export function arrayParam(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (isRecord(value)) return Object.values(value);
  return undefined;
}
