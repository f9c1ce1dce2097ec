import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Root of the @stripe-flows/testing package (works from src/ and dist/). */
export const testingPackageRoot = resolve(here, '..');

/** Folder holding the Stripe payload fixtures shipped with this package. */
export const fixturesDir = join(testingPackageRoot, 'fixtures');

/** Root of the stripe-flows checkout (the folder holding .tools/), found by walking up. */
export function projectRoot(): string {
  for (let dir = testingPackageRoot; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) {
      throw new Error(`Could not find the stripe-flows checkout above ${testingPackageRoot}; run from inside the repository.`);
    }
  }
}

/** Paths of the Temporal binaries installed by infra/bootstrap.sh. */
export function temporalBinaries(): { cli: string; testServer: string } {
  const dir = join(projectRoot(), '.tools', 'temporal');
  const cli = join(dir, 'temporal');
  const testServer = join(dir, 'temporal-test-server');
  for (const path of [cli, testServer]) {
    if (!existsSync(path)) {
      throw new Error(`${path} is missing: run ./infra/bootstrap.sh (it installs the Temporal CLI and test server into .tools/).`);
    }
  }
  return { cli, testServer };
}

/** Path of stripe-mock built by infra/bootstrap.sh. */
export function stripeMockBinary(): string {
  const path = join(projectRoot(), '.tools', 'stripe-mock', 'stripe-mock');
  if (!existsSync(path)) throw new Error(`${path} is missing: run ./infra/bootstrap.sh (it builds stripe-mock from the Go module proxy).`);
  return path;
}
