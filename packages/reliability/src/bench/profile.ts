// Where the CPU went: a V8 CPU profile (inspector or `node --cpu-prof`) summarized as the top
// self-time frames and the share of each package.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Profiler } from 'node:inspector';
import { round } from './measure.js';

export interface ProfileFrame {
  function: string;
  /** `package path:line`, shortened. */
  location: string;
  selfMs: number;
  selfPercent: number;
}

export interface ProfileSummary {
  sampledMs: number;
  top: ProfileFrame[];
  /** Self time by package (`stripe`, `zod`, `@stripe-flows/receiver`, `node`, `(gc)`...), largest first. */
  byPackage: Array<{ package: string; selfPercent: number }>;
}

/**
 * Top `limit` frames by self time, and self time per package; idle time left out, and samples
 * before `fromMonotonicUs` (CLOCK_MONOTONIC, as `process.hrtime` reads it) when given.
 */
export function summarizeCpuProfile(profile: Profiler.Profile, limit = 12, fromMonotonicUs = 0): ProfileSummary {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let at = profile.startTime;
  samples.forEach((id, i) => {
    const delta = Math.max(0, deltas[i] ?? 0);
    at += delta;
    if (at >= fromMonotonicUs) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const frames = new Map<string, { function: string; location: string; pkg: string; us: number }>();
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const name = node.callFrame.functionName || '(anonymous)';
    if (us === 0 || name === '(idle)') continue;
    totalUs += us;
    const pkg = packageOf(node.callFrame.url, name);
    const location = node.callFrame.url ? `${shortPath(node.callFrame.url)}:${node.callFrame.lineNumber + 1}` : pkg;
    const key = `${name} ${location}`;
    const frame = frames.get(key) ?? { function: name, location, pkg, us: 0 };
    frame.us += us;
    frames.set(key, frame);
  }
  const percent = (us: number) => (totalUs > 0 ? round((us / totalUs) * 100, 1) : 0);
  const byPackage = new Map<string, number>();
  for (const f of frames.values()) byPackage.set(f.pkg, (byPackage.get(f.pkg) ?? 0) + f.us);
  return {
    sampledMs: round(totalUs / 1000, 1),
    top: [...frames.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, limit)
      .map((f) => ({ function: f.function, location: f.location, selfMs: round(f.us / 1000, 1), selfPercent: percent(f.us) })),
    byPackage: [...byPackage.entries()].sort((a, b) => b[1] - a[1]).map(([pkg, us]) => ({ package: pkg, selfPercent: percent(us) })),
  };
}

/** Summary of the `.cpuprofile` files a process wrote with `--cpu-prof --cpu-prof-dir dir` (merged). */
export function summarizeCpuProfileDir(dir: string, options: { limit?: number; fromMonotonicUs?: number } = {}): ProfileSummary | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const [first] = files;
  if (!first) return undefined;
  return summarizeCpuProfile(JSON.parse(readFileSync(join(dir, first), 'utf8')) as Profiler.Profile, options.limit, options.fromMonotonicUs);
}

/** Now on the clock V8's profiles use (CLOCK_MONOTONIC), in microseconds. */
export function monotonicNowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function packageOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return '(gc)';
  if (functionName === '(program)' || url === '') return '(native)';
  if (url.startsWith('node:')) return 'node';
  const modules = url.match(/.*node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (modules?.[1]) return modules[1];
  const workspace = url.match(/\/(?:packages\/([^/]+)|(workers))\//);
  if (workspace) return `@stripe-flows/${workspace[1] ?? workspace[2] ?? '?'}`;
  return 'other';
}

function shortPath(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.match(/.*node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/);
  if (modules) return `${modules[1]}/${modules[2]}`;
  const workspace = path.match(/\/((?:packages\/[^/]+|workers)\/.*)$/);
  return workspace?.[1] ?? path;
}
