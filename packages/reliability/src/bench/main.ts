#!/usr/bin/env node
// `stripe-flows-bench`: durable ingest and flow throughput against their ceilings, on loopback.
// Starts what each benchmark needs (Temporal dev server, receiver and worker processes, the
// Stripe API double), runs it, stops everything, prints Markdown tables and writes JSON.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '@stripe-flows/testing';
import { runIngestBench } from './ingest.js';
import { describeMachine } from './machine.js';
import { reliabilityRoot } from './processes.js';
import { findProblems, judgeTargets, renderMarkdown, writeResultsToDoc, type BenchResults } from './results.js';
import { runScaleBench } from './scale.js';
import { runVerifyBench } from './verify.js';
import { runWorkerBench } from './worker.js';

const BENCHMARKS = ['ingest', 'verify', 'worker', 'scale'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const usage = `Usage: stripe-flows-bench [options]

Durable ingest and flow throughput against their ceilings (loopback only). About 10 minutes with
the defaults on a quiet 2-core machine. Prints Markdown tables; writes JSON.

  --only <list>               benchmarks to run, of ${BENCHMARKS.join(',')} (default: all)
  --events <n>                ingest: measured events per target and concurrency (default 1000)
  --concurrency <list>        ingest: concurrency levels (default 1,16,64)
  --receiver-log-level <l>    ingest: the receiver's LOG_LEVEL (default info, as deployed)
  --warmup <n>                ingest: events sent before each phase (default min(200, max(2c, events/10)))
  --verify-sizes <list>       verify: payload sizes in bytes (default 1024,10240,102400)
  --verify-ms <n>             verify: time per path and size, ms (default 1000)
  --worker-flows <n>          worker: flows per run (default 200)
  --scale-flows <n>           scale: open flows on one worker (default 10000)
  --scale-cache <n>           scale: worker MAX_CACHED_WORKFLOWS (default 1000)
  --month-seconds <n>         scale: real seconds for the simulated month (default 60)
  --month-events-per-day <n>  scale: Connect events per simulated day (default 24)
  --month-max-events-per-run <n>  scale: onboarding maxEventsPerRun (default: the policy's 200)
  --temporal-store memory|file  dev server state in memory (default) or a SQLite file as infra/bin/dev keeps it
  --encryption on|off         payload encryption in every process (default on, as deployed)
  --profile auto|on|off       CPU profiles of the receiver (auto: where a target is missed)
  --out <file>                JSON results (default .data/bench-results.json)
  --write-doc                 also write the results into the benchmarks document
  --doc <file>                the benchmarks document (default packages/reliability/docs/benchmarks.md)
  --from <file>               run nothing: print (and --write-doc) the results of an earlier run
`;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    events: { type: 'string' },
    concurrency: { type: 'string' },
    warmup: { type: 'string' },
    'receiver-log-level': { type: 'string', default: 'info' },
    'verify-sizes': { type: 'string' },
    'verify-ms': { type: 'string' },
    'worker-flows': { type: 'string' },
    'scale-flows': { type: 'string' },
    'scale-cache': { type: 'string' },
    'month-seconds': { type: 'string' },
    'month-events-per-day': { type: 'string' },
    'month-max-events-per-run': { type: 'string' },
    'temporal-store': { type: 'string', default: 'memory' },
    encryption: { type: 'string', default: 'on' },
    profile: { type: 'string', default: 'auto' },
    out: { type: 'string' },
    'write-doc': { type: 'boolean', default: false },
    doc: { type: 'string' },
    from: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

function fail(message: string): never {
  console.error(`stripe-flows-bench: ${message}\n\n${usage}`);
  process.exit(2);
}
function int(name: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${text}"`);
  return n;
}
function ints(name: string, text: string | undefined): number[] | undefined {
  return text?.split(',').map((part) => int(name, part.trim()) ?? 0);
}
function choice<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) fail(`--${name} must be one of ${allowed.join(', ')}, got "${text}"`);
  return text as T;
}

// Ctrl-C: exit through process.exit so every child started is killed by its exit hook.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const docPath = resolve(values.doc ?? join(reliabilityRoot, 'docs', 'benchmarks.md'));
let results: BenchResults;
if (values.from) {
  results = JSON.parse(readFileSync(resolve(values.from), 'utf8')) as BenchResults;
} else {
  const only = (values.only?.split(',').map((b) => choice('only', b.trim(), BENCHMARKS)) ?? [...BENCHMARKS]) as Benchmark[];
  const encryption = choice('encryption', values.encryption, ['on', 'off'] as const) === 'on';
  const profile = choice('profile', values.profile, ['auto', 'on', 'off'] as const);
  const temporalStore = choice('temporal-store', values['temporal-store'], ['memory', 'file'] as const);
  const options = {
    only,
    events: int('events', values.events),
    concurrency: ints('concurrency', values.concurrency),
    warmup: int('warmup', values.warmup, 0),
    receiverLogLevel: choice('receiver-log-level', values['receiver-log-level'], ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
    verifySizes: ints('verify-sizes', values['verify-sizes']),
    verifyMs: int('verify-ms', values['verify-ms']),
    workerFlows: int('worker-flows', values['worker-flows']),
    scaleFlows: int('scale-flows', values['scale-flows']),
    scaleCache: int('scale-cache', values['scale-cache'], 0),
    monthSeconds: int('month-seconds', values['month-seconds']),
    monthEventsPerDay: int('month-events-per-day', values['month-events-per-day']),
    monthMaxEventsPerRun: int('month-max-events-per-run', values['month-max-events-per-run'], 10),
    temporalStore,
    encryption,
    profile,
  };
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  const started = Date.now();
  const machine = describeMachine();
  const partial: Omit<BenchResults, 'targets' | 'problems' | 'durationSeconds'> = { version: 1, startedAt: new Date(started).toISOString(), machine, options: JSON.parse(JSON.stringify(options)) as Record<string, unknown> };
  for (const benchmark of only) {
    process.stderr.write(`${benchmark}...\n`);
    switch (benchmark) {
      case 'ingest':
        partial.ingest = await runIngestBench({ concurrencies: options.concurrency, events: options.events, warmup: options.warmup, receiverLogLevel: options.receiverLogLevel, temporalStore, encryption, profile, log });
        break;
      case 'verify':
        partial.verify = await runVerifyBench({ sizes: options.verifySizes, budgetMs: options.verifyMs, profile, log });
        break;
      case 'worker':
        partial.worker = await runWorkerBench({ flows: options.workerFlows, temporalStore, encryption, log });
        break;
      case 'scale':
        partial.scale = await runScaleBench({ flows: options.scaleFlows, maxCachedWorkflows: options.scaleCache, monthSeconds: options.monthSeconds, monthEventsPerDay: options.monthEventsPerDay, monthMaxEventsPerRun: options.monthMaxEventsPerRun, temporalStore, encryption, log });
        break;
    }
  }
  results = { ...partial, durationSeconds: (Date.now() - started) / 1000, targets: judgeTargets(partial), problems: findProblems(partial) };
  const out = resolve(values.out ?? join(projectRoot(), '.data', 'bench-results.json'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`results written to ${out}\n`);
}

const markdown = renderMarkdown(results);
console.log(markdown);
if (values['write-doc']) {
  writeResultsToDoc(docPath, markdown);
  process.stderr.write(`results written into ${docPath}\n`);
}
process.exit(results.problems.length ? 1 : 0);
