// Stripe's published example objects (the copy shipped in packages/testing/fixtures, or a
// shared/fixtures folder above) give every new or synthesized object its full shape.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir } from '../paths.js';

export type Fixtures = Readonly<Record<string, Record<string, unknown>>>;

const FIXTURE_FILE = join('shared', 'fixtures', 'stripe-objects.json');
const cache = new Map<string, Fixtures>();

/**
 * The fixtures shipped with this package; else, walking up from each start folder, the first
 * shared/fixtures/stripe-objects.json.
 */
export function findFixturesPath(from?: readonly string[]): string {
  const shipped = join(fixturesDir, 'stripe-objects.json');
  if (!from && existsSync(shipped)) return shipped;
  const starts = from ?? defaultStarts();
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      const candidate = join(dir, FIXTURE_FILE);
      if (existsSync(candidate)) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(
    `Stripe API double: could not find ${FIXTURE_FILE} in any parent of ${starts.join(' or ')}. ` +
      'Pass fixturesPath (or --fixtures) pointing at stripe-objects.json.',
  );
}

function defaultStarts(): string[] {
  return [process.cwd(), dirname(fileURLToPath(import.meta.url))];
}

/** Loads (once per path) the `resources` map keyed by Stripe object name. */
export function loadFixtures(path: string): Fixtures {
  const cached = cache.get(path);
  if (cached) return cached;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Stripe API double: cannot read fixtures at ${path}: ${(error as Error).message}`);
  }
  const resources = (parsed as { resources?: unknown }).resources;
  if (typeof resources !== 'object' || resources === null) {
    throw new Error(`Stripe API double: ${path} has no "resources" object (expected Stripe's fixtures3 layout).`);
  }
  const fixtures = resources as Fixtures;
  cache.set(path, fixtures);
  return fixtures;
}
