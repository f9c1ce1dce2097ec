// The benchmarks at a tiny size: each one starts what it needs, runs, stops, and returns figures of
// the documented shape; the results render and go into the document's marked block. No timing is
// asserted (benchmarks are scripts, not timed tests).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runIngestBench } from '../src/bench/ingest.js';
import { describeMachine } from '../src/bench/machine.js';
import { DOC_BEGIN, DOC_END, findProblems, judgeTargets, renderMarkdown, writeResultsToDoc, type BenchResults } from '../src/bench/results.js';
import { runScaleBench } from '../src/bench/scale.js';
import { runVerifyBench } from '../src/bench/verify.js';
import { runWorkerBench } from '../src/bench/worker.js';

const results: Partial<BenchResults> = {};

describe('benchmarks at a tiny size', () => {
  it('durable ingest: receiver, direct signalWithStart and HTTP-only figures per concurrency, with ratios', async () => {
    const ingest = await runIngestBench({ concurrencies: [1, 4], events: 8, warmup: 2, profile: 'off' });
    expect(ingest.levels.map((l) => l.concurrency)).toEqual([1, 4]);
    for (const level of ingest.levels) {
      for (const target of [level.receiver, level.direct, level.httpOnly]) {
        expect(target).toMatchObject({ events: 8, errors: 0 });
        expect(target.eventsPerSecond).toBeGreaterThan(0);
        expect(target.p99Ms).toBeGreaterThanOrEqual(target.p50Ms);
      }
      expect(level.ratios.rateVsDirect).toBeGreaterThan(0);
      expect(level.ratios.p99VsDirect).toBeGreaterThan(0);
    }
    results.ingest = ingest;
  });

  it('verification and projection: µs per event against constructEvent at each size, with a profile', async () => {
    const verify = await runVerifyBench({ sizes: [1024, 4096], budgetMs: 40, rounds: 2, profile: 'on' });
    expect(verify.sizes.map((s) => s.label)).toEqual(['1 KB', '4 KB']);
    for (const size of verify.sizes) {
      expect(size.bytes).toBeGreaterThanOrEqual(size.label === '1 KB' ? 1000 : 4000);
      expect(size.constructEventUs).toBeGreaterThan(0);
      expect(size.receiverPathUs).toBeGreaterThan(0);
      expect(size.ratio).toBeGreaterThan(0);
    }
    expect(verify.profile?.top.length).toBeGreaterThan(0);
    results.verify = verify;
  });

  it('worker throughput: dunning and one-activity flows complete, with flows/s and worker RSS', async () => {
    const worker = await runWorkerBench({ flows: 4 });
    for (const run of [worker.dunning, worker.baseline]) {
      expect(run).toMatchObject({ flows: 4, completed: 4, failed: 0 });
      expect(run.flowsPerSecond).toBeGreaterThan(0);
      expect(run.rssMb.peak).toBeGreaterThan(0);
    }
    expect(worker.ratio).toBeGreaterThan(0);
    results.worker = worker;
  });

  it('scale: open flows idle on one worker with its RSS, and a month on an onboarding flow in bounded runs', async () => {
    const scale = await runScaleBench({ flows: 10, maxCachedWorkflows: 5, monthSeconds: 3, monthEventsPerDay: 1, monthMaxEventsPerRun: 10 });
    expect(scale.openFlows).toMatchObject({ flows: 10, maxCachedWorkflows: 5, cachedFlows: 5 });
    expect(scale.openFlows.rssMb.withFlows).toBeGreaterThan(0);
    expect(scale.month.stripeEventsSent).toBe(30);
    expect(scale.month.runs.length).toBeGreaterThanOrEqual(3); // 30 events, 10 per run
    expect(scale.month.runs.every((r) => r.historyEvents > 0 && r.historyBytes > 0)).toBe(true);
    expect(scale.month.withinBound).toBe(true);
    results.scale = scale;
  });

  it('renders the results and writes them between the markers of the document only', () => {
    const run: BenchResults = { version: 1, startedAt: new Date().toISOString(), durationSeconds: 1, machine: describeMachine(), options: {}, ...results, targets: [], problems: [] };
    run.targets = judgeTargets(run);
    run.problems = findProblems(run);
    expect(run.problems).toEqual([]);
    expect(run.targets.map((t) => t.name)).toEqual(expect.arrayContaining(['ingest rate at concurrency 4', 'verify + project 1 KB', 'onboarding history per run over a month']));
    const markdown = renderMarkdown(run);
    for (const heading of ['### Durable ingest', '### Verification and projection per event', '### Worker throughput', '### Scale', '### Targets']) expect(markdown).toContain(heading);
    const dir = mkdtempSync(join(tmpdir(), 'bench-doc-'));
    try {
      const doc = join(dir, 'benchmarks.md');
      writeFileSync(doc, `# Benchmarks\n\nintro\n\n${DOC_BEGIN}\nold figures\n${DOC_END}\n\nafter\n`);
      writeResultsToDoc(doc, markdown);
      const written = readFileSync(doc, 'utf8');
      expect(written).not.toContain('old figures');
      expect(written.startsWith('# Benchmarks\n\nintro\n\n')).toBe(true);
      expect(written.endsWith(`${DOC_END}\n\nafter\n`)).toBe(true);
      expect(written).toContain('### Targets');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
