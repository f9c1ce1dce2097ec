// Figures from raw samples: percentiles, rates, RSS and CPU of a process read from /proc.
import { readFileSync } from 'node:fs';
import { mapLimit } from '../processes.js';

/** Nearest-rank percentile of samples (ms); 0 for none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

/** What a load run produced: rate over the measured window and acknowledgement latency. */
export interface LoadFigures {
  events: number;
  /** Answers other than success (non-2xx, connection errors, refused dispatches). */
  errors: number;
  seconds: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Figures of one or more runs of the same target, pooled (latencies merged, times summed). */
export function loadFigures(runs: ReadonlyArray<{ latenciesMs: readonly number[]; errors: number; elapsedMs: number }>): LoadFigures {
  const latencies = runs.flatMap((r) => r.latenciesMs);
  const elapsedMs = runs.reduce((sum, r) => sum + r.elapsedMs, 0);
  const events = latencies.length;
  return {
    events,
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    seconds: round(elapsedMs / 1000, 2),
    eventsPerSecond: elapsedMs > 0 ? round((events / elapsedMs) * 1000, 1) : 0,
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    maxMs: round(percentile(latencies, 100), 2),
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** a / b rounded, or null when b is 0 (no figure to compare against). */
export function ratio(a: number, b: number): number | null {
  return b > 0 ? round(a / b, 3) : null;
}

/** Resident set size and its high-water mark of a live process, MiB (Linux /proc). */
export function processMemory(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
    const rss = kb('VmRSS');
    const hwm = kb('VmHWM');
    if (!Number.isFinite(rss)) return undefined;
    return { rssMb: round(rss / 1024, 1), hwmMb: round((Number.isFinite(hwm) ? hwm : rss) / 1024, 1) };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a live process has used so far, ms. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** RSS of a process sampled on an interval while something runs. */
export class RssSampler {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  #peakMb = 0;
  #lastMb = 0;
  #samples = 0;
  #stopped = false;

  constructor(pid: number, intervalMs = 250) {
    this.#pid = pid;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  #sample(): void {
    const memory = processMemory(this.#pid);
    if (!memory) return;
    this.#samples++;
    this.#lastMb = memory.rssMb;
    this.#peakMb = Math.max(this.#peakMb, memory.rssMb);
  }

  /** Stop sampling (again: no-op); peak and last RSS seen (MiB). */
  stop(): { peakMb: number; lastMb: number; samples: number } {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#sample();
      clearInterval(this.#timer);
    }
    return { peakMb: this.#peakMb, lastMb: this.#lastMb, samples: this.#samples };
  }
}

/**
 * Run `task` over `items` at `concurrency` and time each call: the closed-loop load shape of a
 * webhook sender (a new request as soon as one is answered).
 */
export async function timedLoad<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<boolean>): Promise<{ latenciesMs: number[]; errors: number; elapsedMs: number }> {
  const latenciesMs: number[] = [];
  let errors = 0;
  const started = performance.now();
  await mapLimit(items, concurrency, async (item) => {
    const t = performance.now();
    let ok = false;
    try {
      ok = await task(item);
    } catch {
      ok = false;
    }
    if (ok) latenciesMs.push(performance.now() - t);
    else errors++;
  });
  return { latenciesMs, errors, elapsedMs: performance.now() - started };
}
