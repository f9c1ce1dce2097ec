// Stripe idempotency: the first response for a key is stored and replayed; reusing the key with
// different parameters is an error. Keys are scoped per Stripe-Account.

export interface StoredResponse {
  /** Method, path and parameters of the first request. */
  readonly fingerprint: string;
  readonly status: number;
  readonly body: string;
}

export class IdempotencyCache {
  #entries = new Map<string, StoredResponse>();

  get(account: string | undefined, key: string): StoredResponse | undefined {
    return this.#entries.get(scope(account, key));
  }

  set(account: string | undefined, key: string, response: StoredResponse): void {
    this.#entries.set(scope(account, key), response);
  }

  clear(): void {
    this.#entries.clear();
  }
}

const scope = (account: string | undefined, key: string) => `${account ?? ''}\u0000${key}`;

/** Same request ⇔ same fingerprint, whatever the order params were encoded in. */
export function fingerprint(method: string, path: string, params: unknown): string {
  return JSON.stringify([method, path, canonical(params)]);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}
