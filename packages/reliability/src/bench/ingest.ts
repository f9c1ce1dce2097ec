// Durable ingest: signed invoice.payment_failed events (a new dunning flow each) POSTed at a
// concurrency to the real receiver process, acknowledged once Temporal accepted the
// signalWithStart. On the same dev server: the Temporal ceiling (a bare process making the same
// signalWithStart calls) and the HTTP ceiling (a bare Express handler that only verifies).
// Each level runs the targets in the order A B C C B A (half the events each time), so drift
// on a shared machine falls on every target alike.
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { billing } from '@stripe-flows/billing';
import { connect } from '@stripe-flows/connect';
import { signPayload } from '@stripe-flows/testing';
import { baseEnv } from '../processes.js';
import { BENCH_WEBHOOK_SECRET, failedPaymentBody, recordDispatchCalls } from './events.js';
import { loadFigures, processCpuMs, ratio, round, timedLoad, type LoadFigures } from './measure.js';
import { BenchProcesses, benchEntry, type LoggedProcess } from './processes.js';
import { monotonicNowUs, summarizeCpuProfileDir, type ProfileSummary } from './profile.js';
import { BENCH_ENCRYPTION_KEYS, startDevServer, startListeningProcess, startReceiverProcess, withBenchDir, type TemporalStore } from './stack.js';

export type IngestTarget = 'receiver' | 'direct' | 'httpOnly';

export interface TargetFigures extends LoadFigures {
  /** CPU per acknowledged event: the target process, the load generator (this process), Temporal. */
  cpuMsPerEvent: { target: number; loadGenerator: number; temporal: number };
}

export interface IngestLevel {
  concurrency: number;
  /** Events sent before each phase's measurement (not counted). */
  warmupPerPhase: number;
  receiver: TargetFigures;
  /** Temporal ceiling: the same signalWithStart calls from a bare process. */
  direct: TargetFigures;
  /** HTTP ceiling: a bare Express handler that verifies the signature and answers. */
  httpOnly: TargetFigures;
  ratios: { rateVsDirect: number | null; p99VsDirect: number | null; rateVsHttpOnly: number | null };
}

export interface IngestProfile {
  concurrency: number;
  events: number;
  receiver: ProfileSummary;
  direct: ProfileSummary;
}

export interface IngestFigures {
  eventBytes: number;
  encryption: boolean;
  receiverLogLevel: string;
  levels: IngestLevel[];
  /**
   * CPU profiles under load at the highest concurrency (start-up and warm-up left out): the
   * receiver process, and the direct process doing the same dispatches, side by side.
   */
  profile?: IngestProfile;
}

export interface IngestOptions {
  /** Dev server state: in memory (default) or a SQLite file, as `infra/bin/dev` runs it. */
  temporalStore?: TemporalStore;
  concurrencies?: number[];
  /** Measured events per target and concurrency (split over two phases). Default 1000. */
  events?: number;
  /** Events sent before each phase's measurement. Default min(200, max(2 × concurrency, events / 10)). */
  warmup?: number;
  encryption?: boolean;
  /** The receiver's LOG_LEVEL. Default info (as deployed: a line per event). */
  receiverLogLevel?: string;
  /** Profile the receiver under load: always, never, or when the top level misses a target (default). */
  profile?: 'auto' | 'on' | 'off';
  log?: (line: string) => void;
}

/** Targets at the highest concurrency: receiver rate and p99 against the direct signalWithStart ceiling. */
export const INGEST_TARGETS = { minRateVsDirect: 0.9, maxP99VsDirect: 1.2 };

interface PhaseResult {
  latenciesMs: number[];
  errors: number;
  elapsedMs: number;
  targetCpuMs: number;
  loadCpuMs: number;
  temporalCpuMs: number;
}

export async function runIngestBench(options: IngestOptions = {}): Promise<IngestFigures> {
  const concurrencies = options.concurrencies ?? [1, 16, 64];
  const events = options.events ?? 1000;
  const encryption = options.encryption ?? true;
  const receiverLogLevel = options.receiverLogLevel ?? 'info';
  const log = options.log ?? (() => undefined);
  return withBenchDir('ingest', async (dir) => {
    const processes = new BenchProcesses();
    const temporal = await startDevServer(dir, options.temporalStore);
    try {
      const [receiver, httpOnly] = await Promise.all([
        startReceiverProcess(processes, { dir, temporalAddress: temporal.address, secret: BENCH_WEBHOOK_SECRET, encryption, logLevel: receiverLogLevel }),
        startListeningProcess(processes, { dir, name: 'http-ceiling', entry: benchEntry('http-ceiling'), env: { STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET } }),
      ]);
      const temporalPid = temporal.process.pid ?? 0;
      const levels: IngestLevel[] = [];
      let phase = 0;
      for (const concurrency of concurrencies) {
        const half = Math.max(1, Math.ceil(events / 2));
        const warmup = options.warmup ?? Math.min(200, Math.max(2 * concurrency, Math.ceil(events / 10)));
        const results: Record<IngestTarget, PhaseResult[]> = { receiver: [], direct: [], httpOnly: [] };
        for (const target of ['direct', 'receiver', 'httpOnly', 'httpOnly', 'receiver', 'direct'] as const) {
          const bodies = Array.from({ length: warmup + half }, () => failedPaymentBody());
          const run =
            target === 'direct'
              ? await directPhase({ dir, phase: phase++, bodies, warmup, concurrency, temporalAddress: temporal.address, encryption, temporalPid })
              : await httpPhase({ url: target === 'receiver' ? receiver.url : httpOnly.url, target: target === 'receiver' ? receiver.process : httpOnly.process, bodies, warmup, concurrency, temporalPid, expectDelivered: target === 'receiver' });
          results[target].push(run);
          log(`ingest c=${concurrency} ${target}: ${half} events in ${Math.round(run.elapsedMs)} ms (${run.errors} errors)`);
        }
        const figures = (target: IngestTarget): TargetFigures => {
          const runs = results[target];
          const base = loadFigures(runs);
          const per = (ms: number) => (base.events > 0 ? round(ms / base.events, 3) : 0);
          const sum = (pick: (r: PhaseResult) => number) => runs.reduce((s, r) => s + pick(r), 0);
          return { ...base, cpuMsPerEvent: { target: per(sum((r) => r.targetCpuMs)), loadGenerator: per(sum((r) => r.loadCpuMs)), temporal: per(sum((r) => r.temporalCpuMs)) } };
        };
        const [receiverFigures, directFigures, httpOnlyFigures] = [figures('receiver'), figures('direct'), figures('httpOnly')];
        const level: IngestLevel = {
          concurrency,
          warmupPerPhase: warmup,
          receiver: receiverFigures,
          direct: directFigures,
          httpOnly: httpOnlyFigures,
          ratios: {
            rateVsDirect: ratio(receiverFigures.eventsPerSecond, directFigures.eventsPerSecond),
            p99VsDirect: ratio(receiverFigures.p99Ms, directFigures.p99Ms),
            rateVsHttpOnly: ratio(receiverFigures.eventsPerSecond, httpOnlyFigures.eventsPerSecond),
          },
        };
        levels.push(level);
      }
      const figures: IngestFigures = { eventBytes: Buffer.byteLength(failedPaymentBody()), encryption, receiverLogLevel, levels };
      const topLevel = levels[levels.length - 1];
      const missed = !!topLevel && ((topLevel.ratios.rateVsDirect ?? 0) < INGEST_TARGETS.minRateVsDirect || (topLevel.ratios.p99VsDirect ?? Infinity) > INGEST_TARGETS.maxP99VsDirect);
      const mode = options.profile ?? 'auto';
      if (mode === 'on' || (mode === 'auto' && missed)) {
        const top = topLevel?.concurrency ?? 64;
        const profile = await profileIngest({ dir, processes, temporalAddress: temporal.address, encryption, logLevel: receiverLogLevel, concurrency: top, events, temporalPid, phase });
        if (profile) figures.profile = profile;
        log('ingest: receiver and direct dispatch profiled');
      }
      return figures;
    } finally {
      await processes.stopAll();
      await temporal.stop();
    }
  });
}

/** POST signed bodies (signed now, as Stripe signs each attempt) to a webhook URL. */
async function httpPhase(options: {
  url: string;
  target: LoggedProcess;
  bodies: string[];
  warmup: number;
  concurrency: number;
  temporalPid: number;
  expectDelivered: boolean;
}): Promise<PhaseResult> {
  const { url, target, bodies, warmup, concurrency, temporalPid } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const endpoint = new URL('/webhooks/stripe', url);
  const signed = bodies.map((body) => ({ body: Buffer.from(body), signature: signPayload(body, BENCH_WEBHOOK_SECRET) }));
  const send = async (item: { body: Buffer; signature: string }) => {
    const answer = await post(agent, endpoint, item.body, item.signature);
    return answer.status === 200 && (!options.expectDelivered || answer.text.includes('"result":"delivered"'));
  };
  try {
    await timedLoad(signed.slice(0, warmup), concurrency, send);
    const before = { target: processCpuMs(target.pid) ?? 0, load: process.cpuUsage(), temporal: processCpuMs(temporalPid) ?? 0 };
    const run = await timedLoad(signed.slice(warmup), concurrency, send);
    const load = process.cpuUsage(before.load);
    return {
      ...run,
      targetCpuMs: (processCpuMs(target.pid) ?? 0) - before.target,
      loadCpuMs: (load.user + load.system) / 1000,
      temporalCpuMs: (processCpuMs(temporalPid) ?? 0) - before.temporal,
    };
  } finally {
    agent.destroy();
  }
}

function post(agent: Agent, url: URL, body: Buffer, signature: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature, 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The same dispatches from a bare process: the receiver's calls, recorded, replayed directly. */
async function directPhase(options: {
  dir: string;
  phase: number;
  bodies: string[];
  warmup: number;
  concurrency: number;
  temporalAddress: string;
  encryption: boolean;
  temporalPid: number;
  nodeArgs?: string[];
}): Promise<PhaseResult & { measuringFromUs: number }> {
  const calls = await recordDispatchCalls(options.bodies, [billing, connect]);
  const file = join(options.dir, `direct-${options.phase}.json`);
  writeFileSync(file, JSON.stringify({ concurrency: options.concurrency, warmup: calls.slice(0, options.warmup), measured: calls.slice(options.warmup) }));
  const processes = new BenchProcesses();
  const child = processes.start({
    name: `direct#${options.phase}`,
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), benchEntry('direct-dispatch'), file],
    env: { ...baseEnv(), TEMPORAL_ADDRESS: options.temporalAddress, ...(options.encryption ? { PAYLOAD_ENCRYPTION_KEYS: BENCH_ENCRYPTION_KEYS } : {}) },
    logFile: join(options.dir, `direct-${options.phase}.log`),
  });
  try {
    const temporalBefore = processCpuMs(options.temporalPid) ?? 0;
    const exit = await child.exited;
    const temporalCpuMs = (processCpuMs(options.temporalPid) ?? 0) - temporalBefore;
    const output = child.output();
    const line = output.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`the direct dispatch process ended (${exit.signal ?? String(exit.code)}) without a result:\n${child.tail()}`);
    const result = JSON.parse(line.slice('RESULT '.length)) as { latenciesMs: number[]; errors: number; elapsedMs: number; cpuMs: number };
    // Temporal CPU is counted over the whole child (warm-up included): scale it to the measured share.
    const share = calls.length > 0 ? (calls.length - options.warmup) / calls.length : 1;
    const measuringFromUs = Number(output.match(/^MEASURING (\d+)$/m)?.[1] ?? 0);
    return { latenciesMs: result.latenciesMs, errors: result.errors, elapsedMs: result.elapsedMs, targetCpuMs: result.cpuMs, loadCpuMs: 0, temporalCpuMs: temporalCpuMs * share, measuringFromUs };
  } finally {
    await processes.stopAll();
  }
}

/**
 * A second receiver process under `--cpu-prof`, loaded at `concurrency`, then a direct process
 * under `--cpu-prof` making the same kind of dispatches; both profiles summarized.
 */
async function profileIngest(options: {
  dir: string;
  processes: BenchProcesses;
  temporalAddress: string;
  encryption: boolean;
  logLevel: string;
  concurrency: number;
  events: number;
  temporalPid: number;
  phase: number;
}): Promise<IngestProfile | undefined> {
  const receiverDir = join(options.dir, 'receiver-profile');
  const directDir = join(options.dir, 'direct-profile');
  const profiled = await startReceiverProcess(options.processes, {
    dir: options.dir,
    name: 'receiver-profiled',
    temporalAddress: options.temporalAddress,
    secret: BENCH_WEBHOOK_SECRET,
    encryption: options.encryption,
    logLevel: options.logLevel,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', receiverDir],
  });
  const warmup = Math.min(200, options.events);
  const bodies = (n: number) => Array.from({ length: n }, () => failedPaymentBody());
  const load = { target: profiled.process, warmup: 0, concurrency: options.concurrency, temporalPid: options.temporalPid, expectDelivered: true };
  await httpPhase({ ...load, url: profiled.url, bodies: bodies(warmup) });
  // Only the samples under load count: start-up and warm-up are left out.
  const loadFrom = monotonicNowUs();
  await httpPhase({ ...load, url: profiled.url, bodies: bodies(options.events) });
  await profiled.process.stop();
  const direct = await directPhase({
    dir: options.dir,
    phase: options.phase,
    bodies: bodies(warmup + options.events),
    warmup,
    concurrency: options.concurrency,
    temporalAddress: options.temporalAddress,
    encryption: options.encryption,
    temporalPid: options.temporalPid,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', directDir],
  });
  const receiverProfile = summarizeCpuProfileDir(receiverDir, { fromMonotonicUs: loadFrom });
  const directProfile = summarizeCpuProfileDir(directDir, { fromMonotonicUs: direct.measuringFromUs });
  if (!receiverProfile || !directProfile) return undefined;
  return { concurrency: options.concurrency, events: options.events, receiver: receiverProfile, direct: directProfile };
}
