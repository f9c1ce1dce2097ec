// Build step: bundle each domain's workflow code ahead of time (production workers load these).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { quarantineWorkflowsPath, reconcileWorkflowsPath } from '@stripe-flows/core';
import { builtInDomains } from './domains.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), 'bundles');
await mkdir(outDir, { recursive: true });
const targets = [
  ...builtInDomains.map((d) => [d.name, d.workflowsPath] as const),
  ['quarantine', quarantineWorkflowsPath] as const,
  ['reconcile', reconcileWorkflowsPath] as const,
];
const quiet = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };
for (const [name, workflowsPath] of targets) {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quiet });
  await writeFile(join(outDir, `${name}.js`), code);
  console.log(`bundled ${name} workflows → dist/bundles/${name}.js (${Math.round(code.length / 1024)} KiB)`);
}
