// The machine a run measured: CPU, memory, load when it started, and the versions involved.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';
import Stripe from 'stripe';
import { temporalBinaries } from '@stripe-flows/testing';

export interface MachineDescription {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine. */
  loadAverageAtStart: number[];
  node: string;
  temporalCli: string;
  temporalSdk: string;
  stripeNode: string;
}

const require = createRequire(import.meta.url);

export function describeMachine(): MachineDescription {
  const cores = cpus();
  return {
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cpus: cores.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${type()} ${release()} ${arch()}`,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    temporalCli: temporalVersion(),
    temporalSdk: packageVersion('@temporalio/client'),
    stripeNode: (Stripe as unknown as { PACKAGE_VERSION?: string }).PACKAGE_VERSION ?? 'unknown',
  };
}

function temporalVersion(): string {
  try {
    // "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)"
    return execFileSync(temporalBinaries().cli, ['--version'], { encoding: 'utf8' }).trim().replace(/^temporal version /, '');
  } catch {
    return 'unknown';
  }
}

function packageVersion(name: string): string {
  try {
    const main = require.resolve(name);
    for (let dir = dirname(main); dir !== dirname(dir); dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? 'unknown';
      } catch {
        // not this folder
      }
    }
  } catch {
    // not installed
  }
  return 'unknown';
}
