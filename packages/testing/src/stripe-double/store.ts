// In-memory objects per resource. Objects created under a Stripe-Account belong to it and are
// visible only to requests made as that account; platform objects are visible to every request.
import { randomBytes } from 'node:crypto';
import { missingReference, notFound } from './errors.js';
import type { Fixtures } from './fixtures.js';
import { isRecord } from './form.js';
import { applyParams, deepMerge } from './merge.js';
import { noun, resourceOfId, spec, type DoubleResource } from './resources.js';

export type StripeObject = Record<string, unknown> & { id: string };

interface Entry {
  data: StripeObject;
  account: string | undefined;
  seq: number;
}

/** Completes an object after its fields are set (an invoice's lines and totals, ...). */
export type Normalizer = (object: StripeObject, overrides: Record<string, unknown>, store: Store, account: string | undefined) => void;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A Stripe-looking id: `in_1Pgc6tB7WZ01zg`. */
export function newId(prefix: string, length = 16): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += BASE62[byte % 62];
  return `${prefix}_${out}`;
}

export const unixNow = (): number => Math.floor(Date.now() / 1000);

export class Store {
  #tables = new Map<DoubleResource, Map<string, Entry>>();
  #seq = 0;

  constructor(
    private readonly fixtures: Fixtures,
    private readonly options: { lenient: boolean; normalizers: Partial<Record<DoubleResource, Normalizer>> },
  ) {}

  get lenient(): boolean {
    return this.options.lenient;
  }

  /**
   * A fresh object: the fixture's shape, the table's defaults, then the fields — merged as given
   * (seeds) or applied as request params (coerced, metadata semantics).
   */
  build(
    resource: DoubleResource,
    fields: Record<string, unknown> = {},
    account?: string,
    as: 'seed' | 'params' = 'seed',
  ): StripeObject {
    const base: Record<string, unknown> = structuredClone(this.fixtures[resource] ?? {});
    deepMerge(base, (spec(resource).defaults ?? {}) as Record<string, unknown>);
    base.id = newId(spec(resource).prefix);
    base.object = resource;
    base.created = unixNow();
    base.livemode = false;
    if ('metadata' in base) base.metadata = {};
    if (as === 'seed') deepMerge(base, fields);
    else applyParams(base, fields);
    const object = base as StripeObject;
    // Embedded lists point at their own endpoint (`/v1/transfers/tr_1/reversals`).
    for (const field of spec(resource).embeddedLists ?? []) {
      const list = object[field];
      if (isRecord(list) && list.url === null) list.url = `/v1/${spec(resource).path}/${object.id}/${field}`;
    }
    this.normalize(resource, object, fields, account);
    return object;
  }

  /** Re-derives computed fields (totals, embedded lists) after a change. */
  normalize(resource: DoubleResource, object: StripeObject, changed: Record<string, unknown>, account?: string): void {
    this.options.normalizers[resource]?.(object, changed, this, account);
  }

  /** Inserts or replaces an object; a replaced object keeps its place and owner. */
  put(resource: DoubleResource, object: StripeObject, account?: string): StripeObject {
    const table = this.#table(resource);
    const existing = table.get(object.id);
    table.set(object.id, { data: object, account: existing ? existing.account : account, seq: existing?.seq ?? ++this.#seq });
    return object;
  }

  /** The stored object (live, not a copy) if it exists and the account may see it. */
  find(resource: DoubleResource, id: string, account?: string): StripeObject | undefined {
    const entry = this.#table(resource).get(id);
    return entry && visible(entry, account) ? entry.data : undefined;
  }

  /** The account an object was created under, if any. */
  ownerOf(resource: DoubleResource, id: string): string | undefined {
    return this.#table(resource).get(id)?.account;
  }

  /**
   * The object for an id in the URL (404 when unknown) or in a param (400 when unknown, named by
   * `param`). Lenient mode synthesizes unknown ids with the resource's prefix from the fixture
   * shape instead, and keeps them.
   */
  require(resource: DoubleResource, id: string, account?: string, param?: string): StripeObject {
    const found = this.find(resource, id, account);
    if (found) return found;
    // Lenient: an unknown id that looks like this resource's (`in_...` for invoices) is made up.
    if (this.lenient && !this.#table(resource).has(id) && resourceOfId(id) === resource) {
      return this.put(resource, this.build(resource, { id }, account), account);
    }
    throw param ? missingReference(noun(resource), id, param) : notFound(noun(resource), id);
  }

  remove(resource: DoubleResource, id: string): boolean {
    return this.#table(resource).delete(id);
  }

  /** Objects visible to the account, newest first (Stripe's list order). */
  list(resource: DoubleResource, account?: string): StripeObject[] {
    return [...this.#table(resource).values()]
      .filter((entry) => visible(entry, account))
      .sort((a, b) => createdOf(b) - createdOf(a) || b.seq - a.seq)
      .map((entry) => entry.data);
  }

  /** State to restore when a request fails halfway. */
  snapshot(): unknown {
    return { tables: structuredClone(this.#tables), seq: this.#seq };
  }

  restore(snapshot: unknown): void {
    const saved = snapshot as { tables: Map<DoubleResource, Map<string, Entry>>; seq: number };
    this.#tables = saved.tables;
    this.#seq = saved.seq;
  }

  clear(): void {
    this.#tables.clear();
  }

  #table(resource: DoubleResource): Map<string, Entry> {
    let table = this.#tables.get(resource);
    if (!table) {
      table = new Map();
      this.#tables.set(resource, table);
    }
    return table;
  }
}

function visible(entry: Entry, account: string | undefined): boolean {
  return entry.account === undefined || entry.account === account;
}

function createdOf(entry: Entry): number {
  return typeof entry.data.created === 'number' ? entry.data.created : 0;
}

/** An id string out of a field that may hold an id or an expanded object. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.id === 'string') return value.id;
  return undefined;
}
