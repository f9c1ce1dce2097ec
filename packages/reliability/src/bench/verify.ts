// Verification and projection per event, in this process: the receiver's whole path before
// Temporal (verifyStripeEvent on the raw body, the envelope schema, the livemode check, routing,
// each route's projection and the dispatch arguments, made by the real Dispatcher over a client
// that answers at once) against stripe-node's `webhooks.constructEvent` alone, at 1, 10 and 100 KB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { Dispatcher, RouteRegistry, stripeEventEnvelopeSchema } from '@stripe-flows/core';
import { billing } from '@stripe-flows/billing';
import { connect } from '@stripe-flows/connect';
import { verifyStripeEvent } from '@stripe-flows/receiver';
import { signPayload } from '@stripe-flows/testing';
import { BENCH_WEBHOOK_SECRET, recordingClient, sizedFailedPaymentBody } from './events.js';
import { round } from './measure.js';
import { baseEnv } from '../processes.js';
import { BenchProcesses, benchEntry } from './processes.js';
import { summarizeCpuProfileDir, type ProfileSummary } from './profile.js';

export interface VerifySize {
  label: string;
  bytes: number;
  iterations: number;
  /** stripe-node `webhooks.constructEvent` on the raw body (verify + parse). */
  constructEventUs: number;
  /** The receiver's path: verify, parse, envelope, routing, projection, dispatch arguments. */
  receiverPathUs: number;
  /** Median over alternating rounds of (receiver path / constructEvent). */
  ratio: number;
}

export interface VerifyFigures {
  sizes: VerifySize[];
  /** The receiver path's CPU profile at the size with the highest ratio (top self-time frames). */
  profile?: ProfileSummary & { size: string };
}

/** Target: the receiver's path costs at most this times constructEvent alone. */
export const VERIFY_TARGET_RATIO = 1.2;

export interface VerifyOptions {
  /** Payload sizes in bytes. Default 1, 10 and 100 KiB. */
  sizes?: number[];
  /** Time spent measuring each path at each size, split over alternating rounds. Default 2000 ms. */
  budgetMs?: number;
  rounds?: number;
  /** Profile the worst size: always, never, or when it misses the target (default). */
  profile?: 'auto' | 'on' | 'off';
  log?: (line: string) => void;
}

const stripe = new Stripe('sk_test_bench_only');

export async function runVerifyBench(options: VerifyOptions = {}): Promise<VerifyFigures> {
  const sizes = options.sizes ?? [1024, 10 * 1024, 100 * 1024];
  const rounds = options.rounds ?? 20;
  const budgetMs = options.budgetMs ?? 2000;
  const results: VerifySize[] = [];
  const cases: Case[] = [];
  for (const bytes of sizes) {
    const paths = verifyPaths(bytes);
    const { body } = paths;
    if (!(await paths.receiverPath())) throw new Error('the receiver path refused the benchmark event');
    // Warm both paths up: the receiver path (zod's compiled parsers, V8's optimizing tiers) takes
    // a few thousand calls to reach its steady speed. Then size the rounds from warm calls: each
    // round lasts about budget / rounds / 2.
    for (let calls = 0, end = performance.now() + Math.min(2000, Math.max(200, budgetMs)); calls < 5000 && performance.now() < end; calls += 50) {
      await timeLoop(paths.constructEvent, 50);
      await timeLoop(paths.receiverPath, 50);
    }
    const perCall = Math.max(await timeLoop(paths.receiverPath, 200), 1e-3) / 200;
    const iterations = Math.max(10, Math.round(budgetMs / rounds / 2 / perCall));
    const a: number[] = [];
    const b: number[] = [];
    // Short alternating rounds: each pair sees the same load from the rest of the machine, and
    // the ratio is the median of the pairs' ratios.
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const x = (await timeLoop(paths.constructEvent, iterations)) / iterations;
      const y = (await timeLoop(paths.receiverPath, iterations)) / iterations;
      a.push(x);
      b.push(y);
      ratios.push(y / x);
    }
    const constructEventUs = round(median(a) * 1000, 2);
    const receiverPathUs = round(median(b) * 1000, 2);
    const label = bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} B`;
    const ratio = round(median(ratios), 3);
    results.push({ label, bytes: body.length, iterations: iterations * rounds, constructEventUs, receiverPathUs, ratio });
    options.log?.(`verify ${label}: constructEvent ${constructEventUs} µs, receiver path ${receiverPathUs} µs, ratio ${ratio}`);
    cases.push({ label, bytes, ratio });
  }
  const figures: VerifyFigures = { sizes: results };
  const worst = [...cases].sort((x, y) => y.ratio - x.ratio)[0];
  const mode = options.profile ?? 'auto';
  if (worst && (mode === 'on' || (mode === 'auto' && worst.ratio > VERIFY_TARGET_RATIO))) {
    const profile = await profileCase(worst, Math.max(500, budgetMs));
    if (profile) figures.profile = { size: worst.label, ...profile };
  }
  return figures;
}

interface Case {
  label: string;
  bytes: number;
  ratio: number;
}

/** A signed body of about `bytes` and the two paths that verify it. */
export function verifyPaths(bytes: number): { body: Buffer; constructEvent: () => boolean; receiverPath: () => Promise<boolean> } {
  const dispatcher = new Dispatcher({ client: recordingClient(), registry: new RouteRegistry([billing, connect]), deadlineMs: 5000 });
  const body = Buffer.from(sizedFailedPaymentBody(bytes));
  const header = signPayload(body.toString('utf8'), BENCH_WEBHOOK_SECRET);
  return {
    body,
    constructEvent: () => stripe.webhooks.constructEvent(body, header, BENCH_WEBHOOK_SECRET, 300).id.length > 0,
    receiverPath: () => receiverPath(body, header, dispatcher),
  };
}

/** What POST /webhooks/stripe does with a body before Temporal is called (see app.ts). */
async function receiverPath(body: Buffer, header: string, dispatcher: Dispatcher): Promise<boolean> {
  const parsed = verifyStripeEvent(body, header, { secrets: [BENCH_WEBHOOK_SECRET], toleranceSeconds: 300 });
  const envelope = stripeEventEnvelopeSchema.safeParse(parsed);
  if (!envelope.success || envelope.data.livemode) return false;
  if (dispatcher.routesFor(envelope.data.type).length === 0) return false;
  const deliveries = await dispatcher.dispatch(envelope.data);
  return deliveries.every((d) => d.result === 'delivered');
}

/** Milliseconds for `n` sequential calls. */
export async function timeLoop(fn: () => boolean | Promise<boolean>, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    if (!(await fn())) throw new Error('a benchmark call failed');
  }
  return performance.now() - started;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** CPU profile of the receiver path, from a child process under `--cpu-prof` (warm-up left out). */
async function profileCase(c: Case, ms: number): Promise<ProfileSummary | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'stripe-flows-bench-verify-'));
  const processes = new BenchProcesses();
  try {
    const child = processes.start({
      name: 'verify-profile',
      command: process.execPath,
      args: ['--cpu-prof', '--cpu-prof-dir', join(dir, 'profile'), benchEntry('verify-profile'), String(c.bytes), String(ms)],
      env: baseEnv(),
      logFile: join(dir, 'verify-profile.log'),
    });
    const exit = await child.exited;
    const from = child.output().match(/^MEASURING (\d+)$/m)?.[1];
    if (exit.code !== 0 || !from) throw new Error(`the verify profile run failed (${exit.signal ?? String(exit.code)}):\n${child.tail()}`);
    return summarizeCpuProfileDir(join(dir, 'profile'), { fromMonotonicUs: Number(from) });
  } finally {
    await processes.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
