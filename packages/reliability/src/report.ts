#!/usr/bin/env node
// `stripe-flows-reliability-report [--json <file>] [--skip-faults]`: runs the bad-input corpus and
// the fault scenarios on real processes (loopback only), prints the figures, writes them as JSON,
// and exits non-zero if any guarantee does not hold.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '@stripe-flows/testing';
import { loadCorpus, runCorpus, type CorpusFigures } from './corpus.js';
import { startCorpusTarget } from './corpus-target.js';
import { runFaultScenarios, type FaultFigures } from './faults/all.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    'skip-faults': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log('Usage: stripe-flows-reliability-report [--json <file>] [--skip-faults]\n\nRuns the bad-input corpus and the fault-injection scenarios (Temporal killed mid-stream, worker killed mid-activity, Stripe faults) on loopback and prints the figures. Default JSON file: .data/reliability-report.json');
  process.exit(0);
}
const jsonPath = resolve(values.json ?? `${projectRoot()}/.data/reliability-report.json`);
const progress = (line: string) => process.stderr.write(`  ${line}\n`);

async function corpusRun(kind: 'temporal-available' | 'temporal-unavailable'): Promise<CorpusFigures> {
  const corpus = loadCorpus();
  const target = await startCorpusTarget({ kind, settings: corpus.receiver });
  try {
    return await runCorpus({ receiverUrl: target.receiverUrl, dispatches: target.dispatches, corpus, target: kind, ...(kind === 'temporal-available' ? { client: target.client } : {}) });
  } finally {
    await target.close();
  }
}

const started = Date.now();
process.stderr.write('bad-input corpus (Temporal up, then unavailable)...\n');
const corpusUp = await corpusRun('temporal-available');
const corpusDown = await corpusRun('temporal-unavailable');
let faults: FaultFigures | undefined;
if (!values['skip-faults']) {
  process.stderr.write('fault injection (Temporal killed, worker killed, Stripe faults)...\n');
  faults = await runFaultScenarios({ log: progress });
}

const sum = (...n: number[]) => n.reduce((a, b) => a + b, 0);
const figures = {
  badRequestsTried: corpusUp.requests + corpusDown.requests,
  badRequestMismatches: corpusUp.mismatches.length + corpusDown.mismatches.length,
  flowWorkflowsStartedByBadInput: corpusUp.flowWorkflowsStarted,
  quarantineHolds: `${corpusUp.quarantineHolds} (documented: ${corpusUp.expectedQuarantineHolds})`,
  unexpected5xx: corpusUp.serverErrors + corpusDown.unexpectedServerErrors,
  receiverStayedUp: corpusUp.receiverUp && corpusDown.receiverUp,
  ...(faults
    ? {
        eventsStreamedThroughTemporalOutage: faults.temporalOutage.sent,
        acknowledgedFirstTime: faults.temporalOutage.acknowledged,
        answered503ThenResent: faults.temporalOutage.resent,
        eventsLost: faults.temporalOutage.lost + faults.temporalOutage.unresolved,
        flowsThroughWorkerKill: `${faults.workerKill.flowsCompleted}/${faults.workerKill.flowsStarted} completed`,
        flowsThroughStripeFaults: `${faults.stripeFaults.casesAsExpected}/${faults.stripeFaults.cases.length} as expected`,
        stripeSideEffects: sum(faults.workerKill.sideEffects, faults.stripeFaults.sideEffects),
        duplicateSideEffects: sum(faults.workerKill.duplicateSideEffects, faults.stripeFaults.duplicateSideEffects),
      }
    : {}),
};

const held =
  figures.badRequestMismatches === 0 &&
  figures.flowWorkflowsStartedByBadInput === 0 &&
  corpusUp.quarantineHolds === corpusUp.expectedQuarantineHolds &&
  figures.unexpected5xx === 0 &&
  figures.receiverStayedUp &&
  (!faults ||
    (figures.eventsLost === 0 &&
      figures.duplicateSideEffects === 0 &&
      faults.workerKill.flowsCompleted === faults.workerKill.flowsStarted &&
      faults.stripeFaults.casesAsExpected === faults.stripeFaults.cases.length));

const width = Math.max(...Object.keys(figures).map((k) => k.length));
console.log('\nstripe-flows reliability report');
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
for (const [name, value] of Object.entries(figures)) console.log(`  ${name.padEnd(width)}  ${String(value)}`);
if (faults) {
  console.log('\n  Stripe faults:');
  for (const c of faults.stripeFaults.cases) console.log(`    ${c.case.padEnd(48)} ${c.status.padEnd(10)} FlowStatus=${c.flowStatus ?? '-'}${c.reason ? `  (${c.reason.slice(0, 80)})` : ''}`);
}
console.log(`\n${held ? 'every guarantee held' : 'A GUARANTEE DID NOT HOLD: see the figures above'} (${Math.round((Date.now() - started) / 1000)} s)`);

mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, `${JSON.stringify({ at: new Date().toISOString(), held, figures, corpus: { up: corpusUp, down: corpusDown }, faults }, null, 2)}\n`);
console.log(`figures written to ${jsonPath}`);
process.exit(held ? 0 : 1);
