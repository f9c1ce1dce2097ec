// What the benchmarks start on loopback: a Temporal dev server (the project's binary, state in a
// temp folder), and the project's receiver and worker processes, logging to files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { searchAttributeKeys } from '@stripe-flows/core';
import { temporalBinaries } from '@stripe-flows/testing';
import { baseEnv, freePort, packageMain, ProcessSet, waitForPort, waitForTemporal, type ManagedProcess } from '../processes.js';
import type { BenchProcesses, LoggedProcess } from './processes.js';

/** Key the benchmark encrypts payloads with (loopback only; a fixed dev-style key). */
export const BENCH_ENCRYPTION_KEYS = `bench:${Buffer.alloc(32, 7).toString('base64')}`;

export interface DevServer {
  address: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Where the dev server keeps its state: in memory (default), or a SQLite file as `infra/bin/dev` runs it. */
export type TemporalStore = 'memory' | 'file';

/** A Temporal dev server (the project's binary) with the project's search attributes, headless. */
export async function startDevServer(dir: string, store: TemporalStore = 'memory'): Promise<DevServer> {
  const set = new ProcessSet();
  const port = await freePort();
  try {
    const server = set.start({
      name: 'temporal',
      command: temporalBinaries().cli,
      args: [
        'server', 'start-dev', '--headless',
        '--ip', '127.0.0.1',
        '--port', String(port),
        ...(store === 'file' ? ['--db-filename', join(dir, 'temporal.sqlite')] : []),
        '--log-level', 'error',
        ...searchAttributeKeys.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
      ],
      env: baseEnv(),
    });
    await waitForTemporal(`127.0.0.1:${port}`, { server });
    return { address: `127.0.0.1:${port}`, process: server, stop: () => set.killAll() };
  } catch (error) {
    await set.killAll();
    throw error;
  }
}

/** The receiver process (`node packages/receiver/dist/main.js`) on a free port; its URL once listening. */
export async function startReceiverProcess(
  processes: BenchProcesses,
  options: { dir: string; temporalAddress: string; secret: string; encryption: boolean; logLevel?: string; name?: string; nodeArgs?: string[] },
): Promise<{ process: LoggedProcess; url: string }> {
  const port = await freePort();
  const name = options.name ?? 'receiver';
  const receiver = processes.start({
    name,
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), packageMain('@stripe-flows/receiver')],
    env: {
      ...baseEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      TEMPORAL_ADDRESS: options.temporalAddress,
      STRIPE_WEBHOOK_SECRETS: options.secret,
      LOG_LEVEL: options.logLevel ?? 'info', // as deployed: one line per event
      ...(options.encryption ? { PAYLOAD_ENCRYPTION_KEYS: BENCH_ENCRYPTION_KEYS } : {}),
    },
    logFile: join(options.dir, `${name}.log`),
  });
  await waitForListening(receiver, port);
  return { process: receiver, url: `http://127.0.0.1:${port}` };
}

/** The worker process (`node workers/dist/main.js`, prebuilt bundles), once its workers run. */
export async function startWorkerProcess(
  processes: BenchProcesses,
  options: { dir: string; temporalAddress: string; stripeApiBase: string; domains: string; encryption: boolean; maxCachedWorkflows?: number; name?: string },
): Promise<LoggedProcess> {
  const name = options.name ?? 'worker';
  const worker = processes.start({
    name,
    command: process.execPath,
    args: [packageMain('@stripe-flows/workers')],
    env: {
      ...baseEnv(),
      TEMPORAL_ADDRESS: options.temporalAddress,
      STRIPE_API_BASE: options.stripeApiBase,
      DOMAINS: options.domains,
      LOG_LEVEL: 'info',
      // Reconciliation would list the double's event log on its schedule: not what is measured.
      RECONCILE_INTERVAL: 'off',
      ...(options.maxCachedWorkflows !== undefined ? { MAX_CACHED_WORKFLOWS: String(options.maxCachedWorkflows) } : {}),
      ...(options.encryption ? { PAYLOAD_ENCRYPTION_KEYS: BENCH_ENCRYPTION_KEYS } : {}),
    },
    logFile: join(options.dir, `${name}.log`),
  });
  await worker.waitForLog(/workers running/);
  return worker;
}

/** A bench process entry listening on a free port, once it accepts connections. */
export async function startListeningProcess(
  processes: BenchProcesses,
  options: { dir: string; name: string; entry: string; env: Record<string, string> },
): Promise<{ process: LoggedProcess; url: string }> {
  const port = await freePort();
  const started = processes.start({
    name: options.name,
    command: process.execPath,
    args: [options.entry],
    env: { ...baseEnv(), ...options.env, PORT: String(port) },
    logFile: join(options.dir, `${options.name}.log`),
  });
  await waitForListening(started, port);
  return { process: started, url: `http://127.0.0.1:${port}` };
}

/** Wait until `process` accepts connections on `port` (whatever its log level); fails if it exits. */
async function waitForListening(process: LoggedProcess, port: number): Promise<void> {
  await Promise.race([
    waitForPort(port, '127.0.0.1', 60_000),
    process.exited.then(() => {
      throw new Error(`${process.name} exited before listening on ${port}:\n${process.tail()}`);
    }),
  ]);
}

/** A temp folder under os.tmpdir(), removed after `run`. */
export async function withBenchDir<T>(prefix: string, run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `stripe-flows-bench-${prefix}-`));
  try {
    return await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
