// Worker throughput: N dunning flows run start to finish on the project's worker process with
// dunning compressed into seconds (notice at once, final action after a second: 3 invoice reads,
// 2 notices, 1 Stripe write each), against N one-activity flows on a baseline worker process
// set up the same way, on the same dev server. Flows/s from the first start to the last close,
// worker RSS sampled from /proc while they run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { quietLogger, StripeApiDouble } from '@stripe-flows/testing';
import { compressedDunningPolicy } from '../faults/shared.js';
import { baseEnv, mapLimit, sleep } from '../processes.js';
import { BASELINE_TASK_QUEUE } from './baseline-activities.js';
import { benchClient, startDunningFlows, waitForFlowsClosed, type ClosedFlows } from './flows.js';
import { processCpuMs, processMemory, ratio, round, RssSampler } from './measure.js';
import { BenchProcesses, benchEntry, reliabilityRoot, type LoggedProcess } from './processes.js';
import { BENCH_ENCRYPTION_KEYS, startDevServer, startWorkerProcess, withBenchDir, type TemporalStore } from './stack.js';

export interface FlowRunFigures {
  flows: number;
  completed: number;
  failed: number;
  /** First start to last close. */
  seconds: number;
  flowsPerSecond: number;
  /** Worker process RSS: idle before the flows, highest sample while they ran, after they closed. */
  rssMb: { idle: number; peak: number; end: number };
  cpuMsPerFlow: { worker: number; temporal: number };
}

export interface WorkerFigures {
  policy: string;
  dunning: FlowRunFigures;
  baseline: FlowRunFigures;
  /** Dunning flows/s over baseline flows/s. */
  ratio: number | null;
}

export interface WorkerBenchOptions {
  /** Dev server state: in memory (default) or a SQLite file, as `infra/bin/dev` runs it. */
  temporalStore?: TemporalStore;
  flows?: number;
  /** Seconds from the failed payment to dunning's final action. Default 1. */
  finalActionAfterSeconds?: number;
  /** Starts in flight at once. Default 32. */
  startConcurrency?: number;
  encryption?: boolean;
  log?: (line: string) => void;
}

export async function runWorkerBench(options: WorkerBenchOptions = {}): Promise<WorkerFigures> {
  const flows = options.flows ?? 200;
  const finalAfter = options.finalActionAfterSeconds ?? 1;
  const encryption = options.encryption ?? true;
  const concurrency = options.startConcurrency ?? 32;
  const log = options.log ?? (() => undefined);
  return withBenchDir('worker', async (dir) => {
    // Bundled ahead, like the worker's prebuilt bundles (and not while anything is measured).
    const bundlePath = join(dir, 'baseline-bundle.js');
    const { code } = await bundleWorkflowCode({ workflowsPath: join(reliabilityRoot, 'dist', 'bench', 'workflows', 'index.js'), logger: quietLogger() });
    writeFileSync(bundlePath, code);
    const processes = new BenchProcesses();
    const [temporal, stripe] = await Promise.all([startDevServer(dir, options.temporalStore), StripeApiDouble.start()]);
    const client = await benchClient(temporal.address, encryption);
    try {
      const temporalPid = temporal.process.pid ?? 0;
      const worker = await startWorkerProcess(processes, { dir, temporalAddress: temporal.address, stripeApiBase: stripe.url, domains: 'billing', encryption });
      const dunning = await measureFlows({
        worker,
        temporalPid,
        client,
        workflowType: 'collectInvoicePayment',
        flows,
        start: async () => void (await startDunningFlows({ client, stripe, count: flows, policy: compressedDunningPolicy(finalAfter), concurrency })),
      });
      log(`worker: ${flows} dunning flows in ${dunning.seconds} s`);
      await worker.stop();

      const baselineWorker = processes.start({
        name: 'baseline-worker',
        command: process.execPath,
        args: [benchEntry('baseline-worker')],
        env: { ...baseEnv(), TEMPORAL_ADDRESS: temporal.address, BASELINE_BUNDLE: bundlePath, ...(encryption ? { PAYLOAD_ENCRYPTION_KEYS: BENCH_ENCRYPTION_KEYS } : {}) },
        logFile: join(dir, 'baseline-worker.log'),
      });
      await baselineWorker.waitForLog(/baseline worker running/);
      const baseline = await measureFlows({
        worker: baselineWorker,
        temporalPid,
        client,
        workflowType: 'runOneActivity',
        flows,
        start: async () => {
          await mapLimit(Array.from({ length: flows }, (_, i) => i), concurrency, async (i) => {
            await client.workflow.start('runOneActivity', { taskQueue: BASELINE_TASK_QUEUE, workflowId: `bench.baseline:${i}`, args: [{ objectId: `obj_${i}` }] });
          });
        },
      });
      log(`worker: ${flows} one-activity flows in ${baseline.seconds} s`);
      return {
        policy: `dunning compressed: notice at once, final action (mark uncollectible) after ${finalAfter} s, operator notified`,
        dunning,
        baseline,
        ratio: ratio(dunning.flowsPerSecond, baseline.flowsPerSecond),
      };
    } finally {
      await processes.stopAll();
      await client.connection.close().catch(() => undefined);
      await Promise.all([temporal.stop(), stripe.stop()]);
    }
  });
}

async function measureFlows(options: {
  worker: LoggedProcess;
  temporalPid: number;
  client: Client;
  workflowType: string;
  flows: number;
  start: () => Promise<void>;
}): Promise<FlowRunFigures> {
  const { worker, temporalPid, flows } = options;
  await sleep(1000); // let the worker's start-up work settle before the idle reading
  const idle = processMemory(worker.pid)?.rssMb ?? 0;
  const cpuBefore = { worker: processCpuMs(worker.pid) ?? 0, temporal: processCpuMs(temporalPid) ?? 0 };
  const sampler = new RssSampler(worker.pid);
  const startedAt = Date.now();
  let closed: ClosedFlows;
  try {
    await options.start();
    closed = await waitForFlowsClosed(options.client, options.workflowType, flows, Math.max(120_000, flows * 500));
  } finally {
    sampler.stop();
  }
  const rss = sampler.stop();
  const elapsedMs = Math.max(1, closed.lastCloseMs - startedAt);
  const per = (ms: number) => round(ms / flows, 2);
  return {
    flows,
    completed: closed.completed,
    failed: closed.failed,
    seconds: round(elapsedMs / 1000, 2),
    flowsPerSecond: round((flows / elapsedMs) * 1000, 1),
    rssMb: { idle, peak: rss.peakMb, end: rss.lastMb },
    cpuMsPerFlow: { worker: per((processCpuMs(worker.pid) ?? 0) - cpuBefore.worker), temporal: per((processCpuMs(temporalPid) ?? 0) - cpuBefore.temporal) },
  };
}
