// A run's results: the JSON written to disk, the targets judged, and the Markdown the console
// prints and `--write-doc` puts between the markers of the benchmarks document.
import { readFileSync, writeFileSync } from 'node:fs';
import { INGEST_TARGETS, type IngestFigures, type TargetFigures } from './ingest.js';
import type { MachineDescription } from './machine.js';
import type { ProfileSummary } from './profile.js';
import type { ScaleFigures } from './scale.js';
import { VERIFY_TARGET_RATIO, type VerifyFigures } from './verify.js';
import type { WorkerFigures } from './worker.js';

export interface BenchResults {
  version: 1;
  startedAt: string;
  durationSeconds: number;
  machine: MachineDescription;
  options: Record<string, unknown>;
  ingest?: IngestFigures;
  verify?: VerifyFigures;
  worker?: WorkerFigures;
  scale?: ScaleFigures;
  targets: Target[];
  /** Figures to distrust: failed requests or flows during the run. */
  problems: string[];
}

export interface Target {
  name: string;
  /** What is required, in words. */
  requirement: string;
  value: number | null;
  met: boolean;
}

export const DOC_BEGIN = '<!-- bench:results:begin -->';
export const DOC_END = '<!-- bench:results:end -->';

/** The targets, judged on the figures present. */
export function judgeTargets(results: Pick<BenchResults, 'ingest' | 'verify' | 'scale'>): Target[] {
  const targets: Target[] = [];
  const top = results.ingest?.levels[results.ingest.levels.length - 1];
  if (top) {
    const rate = top.ratios.rateVsDirect;
    const p99 = top.ratios.p99VsDirect;
    targets.push({ name: `ingest rate at concurrency ${top.concurrency}`, requirement: `receiver ≥ ${INGEST_TARGETS.minRateVsDirect}× direct signalWithStart`, value: rate, met: rate !== null && rate >= INGEST_TARGETS.minRateVsDirect });
    targets.push({ name: `ingest p99 at concurrency ${top.concurrency}`, requirement: `receiver ≤ ${INGEST_TARGETS.maxP99VsDirect}× direct p99`, value: p99, met: p99 !== null && p99 <= INGEST_TARGETS.maxP99VsDirect });
  }
  for (const size of results.verify?.sizes ?? []) {
    targets.push({ name: `verify + project ${size.label}`, requirement: `≤ ${VERIFY_TARGET_RATIO}× constructEvent`, value: size.ratio, met: size.ratio <= VERIFY_TARGET_RATIO });
  }
  const month = results.scale?.month;
  if (month) {
    targets.push({
      name: 'onboarding history per run over a month',
      requirement: `≤ ${month.bound.stripeEventsPerRun} Stripe events, ≤ ${month.bound.historyEventsPerRun} history events, ≤ ${mib(month.bound.historyBytesPerRun)} per run`,
      value: month.maxRun.historyEvents,
      met: month.withinBound,
    });
  }
  return targets;
}

/** Problems that make figures untrustworthy (errors under load, flows that failed). */
export function findProblems(results: Pick<BenchResults, 'ingest' | 'worker' | 'scale'>): string[] {
  const problems: string[] = [];
  for (const level of results.ingest?.levels ?? []) {
    for (const target of ['receiver', 'direct', 'httpOnly'] as const) {
      if (level[target].errors > 0) problems.push(`ingest c=${level.concurrency} ${target}: ${level[target].errors} failed requests`);
    }
  }
  for (const run of ['dunning', 'baseline'] as const) {
    const r = results.worker?.[run];
    if (r && r.failed > 0) problems.push(`worker ${run}: ${r.failed} of ${r.flows} flows did not complete`);
  }
  return problems;
}

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
const kib = (bytes: number) => `${Math.round((bytes / 1024) * 10) / 10} KiB`;
const num = (value: number | null | undefined, digits = 2) => (value === null || value === undefined ? '–' : String(Math.round(value * 10 ** digits) / 10 ** digits));
const yes = (met: boolean) => (met ? 'met' : '**missed**');

function table(head: string[], rows: Array<Array<string | number>>): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function profileBlock(title: string, profile: ProfileSummary): string {
  const packages = profile.byPackage.slice(0, 8).map((p) => `${p.package} ${p.selfPercent}%`).join(', ');
  return [
    `${title} (${profile.sampledMs} ms sampled). Self time by package: ${packages}.`,
    '',
    table(['self %', 'function', 'where'], profile.top.map((f) => [f.selfPercent, `\`${f.function}\``, `\`${f.location}\``])),
  ].join('\n');
}

/** The results as Markdown: machine, one table per benchmark, targets, profiles of misses. */
export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  const store = r.options['temporalStore'] === 'file' ? 'a SQLite file' : 'memory';
  out.push(`Run of ${r.startedAt} (${Math.round(r.durationSeconds)} s). Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; load average at start ${m.loadAverageAtStart.join(' / ')}. Node ${m.node}, Temporal CLI ${m.temporalCli}, dev server state in ${store}, Temporal SDK ${m.temporalSdk}, stripe-node ${m.stripeNode}.`);
  if (r.problems.length) out.push('', `**Problems during the run (figures not trustworthy):** ${r.problems.join('; ')}.`);
  if (r.ingest) {
    const i = r.ingest;
    out.push('', `### Durable ingest`, '', `Signed \`invoice.payment_failed\` events of ${kib(i.eventBytes)}, each starting a dunning flow (signalWithStart); payload encryption ${i.encryption ? 'on' : 'off'}; receiver LOG_LEVEL ${i.receiverLogLevel ?? 'info'}. Receiver: the real receiver process. Direct: the same signalWithStart calls from a bare Node process (Temporal ceiling). HTTP only: bare Express + \`constructEvent\` (HTTP ceiling). CPU ms per event: target process / load generator / Temporal server.`, '');
    const row = (c: number, name: string, f: TargetFigures) => [c, name, num(f.eventsPerSecond, 1), num(f.p50Ms), num(f.p99Ms), f.events, f.errors, `${num(f.cpuMsPerEvent.target)} / ${num(f.cpuMsPerEvent.loadGenerator)} / ${num(f.cpuMsPerEvent.temporal)}`];
    out.push(table(['concurrency', 'target', 'events/s', 'p50 ms', 'p99 ms', 'events', 'errors', 'CPU ms/event'], i.levels.flatMap((l) => [row(l.concurrency, 'receiver', l.receiver), row(l.concurrency, 'direct', l.direct), row(l.concurrency, 'HTTP only', l.httpOnly)])));
    out.push('', table(['concurrency', 'receiver / direct rate', 'receiver / direct p99', 'receiver / HTTP-only rate'], i.levels.map((l) => [l.concurrency, num(l.ratios.rateVsDirect, 3), num(l.ratios.p99VsDirect, 3), num(l.ratios.rateVsHttpOnly, 3)])));
    if (i.profile) {
      const p = i.profile;
      const perEvent = (summary: ProfileSummary, pkg: string) => ((summary.byPackage.find((b) => b.package === pkg)?.selfPercent ?? 0) / 100) * summary.sampledMs / p.events;
      const packages = [...new Set([...p.receiver.byPackage.slice(0, 10), ...p.direct.byPackage.slice(0, 6)].map((b) => b.package))];
      out.push('', `CPU profiles under load at concurrency ${p.concurrency} (${p.events} events each, start-up and warm-up left out): self time per event by package, the receiver process against the direct process making the same dispatches.`, '');
      out.push(table(['package', 'receiver ms/event', 'direct ms/event'], [
        ...packages.map((pkg) => [pkg, num(perEvent(p.receiver, pkg), 3), num(perEvent(p.direct, pkg), 3)]),
        ['**all**', num(p.receiver.sampledMs / p.events, 3), num(p.direct.sampledMs / p.events, 3)],
      ]));
      out.push('', profileBlock('Receiver process, top frames', p.receiver));
    }
  }
  if (r.verify) {
    out.push('', '### Verification and projection per event', '', "stripe-node `webhooks.constructEvent` on the raw body, against the receiver's whole path before Temporal: `verifyStripeEvent`, the envelope schema, routing, the route's projection and the dispatch arguments (the real Dispatcher over a client that answers at once). Median of alternating rounds.", '');
    out.push(table(['payload', 'bytes', 'constructEvent µs', 'receiver path µs', 'ratio', 'iterations'], r.verify.sizes.map((s) => [s.label, s.bytes, num(s.constructEventUs), num(s.receiverPathUs), num(s.ratio, 3), s.iterations])));
    if (r.verify.profile) out.push('', profileBlock(`Receiver path at ${r.verify.profile.size}`, r.verify.profile));
  }
  if (r.worker) {
    const w = r.worker;
    out.push('', '### Worker throughput', '', `${w.dunning.flows} flows each, started at once, on one worker process. Dunning: ${w.policy}. Baseline: a one-activity workflow on a worker process set up the same way.`, '');
    const row = (name: string, f: WorkerFigures['dunning']) => [name, f.flows, f.completed, num(f.seconds), num(f.flowsPerSecond, 1), `${f.rssMb.idle} / ${f.rssMb.peak} / ${f.rssMb.end}`, `${num(f.cpuMsPerFlow.worker)} / ${num(f.cpuMsPerFlow.temporal)}`];
    out.push(table(['flow', 'flows', 'completed', 'seconds', 'flows/s', 'worker RSS MiB idle / peak / end', 'CPU ms/flow worker / Temporal'], [row('dunning', w.dunning), row('one activity', w.baseline)]));
    out.push('', `Dunning / baseline flows/s: ${num(w.ratio, 3)}.`);
  }
  if (r.scale) {
    const o = r.scale.openFlows;
    const mo = r.scale.month;
    out.push('', '### Scale', '', `${o.flows} dunning flows waiting on their day-3 reminder timer (default policy without the day-0 notice), on one worker process with MAX_CACHED_WORKFLOWS=${o.maxCachedWorkflows} per task-queue Worker: ${o.cachedFlows} flows stay in memory, the others are evicted and replayed from their (short) history when their timer fires.`, '');
    out.push(table(['open flows', 'cached', 'started in s', 'starts/s', 'idle after s', 'worker RSS MiB idle', 'with flows', 'high-water', 'KiB per cached flow'], [[o.flows, o.cachedFlows, num(o.startSeconds, 1), num(o.startsPerSecond, 1), num(o.settleSeconds, 1), o.rssMb.idle, o.rssMb.withFlows, o.rssMb.highWater, num(o.rssKbPerCachedFlow, 1)]]));
    out.push('', `A month on one onboarding flow: ${mo.stripeEventsSent} Connect events over ${mo.days} days (${mo.redeliveries} redeliveries), compressed into ${mo.seconds} s with the policy's timings compressed alike (${mo.remindersSent} reminders, ${mo.escalationsSent} escalations sent); maxEventsPerRun ${mo.policy.maxEventsPerRun}.`, '');
    out.push(table(['run', 'status', 'Stripe events', 'history events', 'history size'], mo.runs.map((run) => [run.run, run.status.toLowerCase(), run.stripeEvents, run.historyEvents, kib(run.historyBytes)])));
    out.push('', `Total ${mo.total.historyEvents} history events, ${kib(mo.total.historyBytes)} (${num(mo.historyEventsPerStripeEvent)} history events per Stripe event). Largest run: ${mo.maxRun.historyEvents} events, ${kib(mo.maxRun.historyBytes)}. Bound per run: ≤ ${mo.bound.stripeEventsPerRun} Stripe events, ≤ ${mo.bound.historyEventsPerRun} history events and ≤ ${mib(mo.bound.historyBytesPerRun)} (Temporal's warning thresholds; its hard limits are 51,200 events and 50 MiB): ${mo.withinBound ? 'held' : '**not held**'}.`);
  }
  if (r.targets.length) {
    out.push('', '### Targets', '', table(['target', 'requirement', 'measured', 'result'], r.targets.map((t) => [t.name, t.requirement, num(t.value, 3), yes(t.met)])));
  }
  return out.join('\n');
}

/** Replace what lies between the results markers of `docPath` with `markdown`. */
export function writeResultsToDoc(docPath: string, markdown: string): void {
  const doc = readFileSync(docPath, 'utf8');
  const begin = doc.indexOf(DOC_BEGIN);
  const end = doc.indexOf(DOC_END);
  if (begin < 0 || end < begin) throw new Error(`${docPath} has no ${DOC_BEGIN} … ${DOC_END} block to write the results into.`);
  writeFileSync(docPath, `${doc.slice(0, begin + DOC_BEGIN.length)}\n${markdown}\n${doc.slice(end)}`);
}
