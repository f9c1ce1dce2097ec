// Real processes for the fault scenarios: spawn with captured output, wait for a log line or a
// port, SIGKILL, free ports, and the project's own launchers (Temporal dev server, worker,
// receiver). Every child is tracked so nothing outlives the test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer, connect as connectTcp } from 'node:net';
import { dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeKeys } from '@stripe-flows/core';
import { temporalBinaries } from '@stripe-flows/testing';

const require = createRequire(import.meta.url);
const OUTPUT_LIMIT = 512 * 1024;

/** Children still running, killed with SIGKILL if this process exits first. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Label used in error messages (`temporal`, `worker#2`, ...). */
  name: string;
  command: string;
  args?: readonly string[];
  /** The whole environment of the child (nothing is inherited implicitly). */
  env: Record<string, string>;
  cwd?: string;
}

/** A child process with its stdout and stderr captured (the last 512 KiB). */
export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the process has exited, however it ended. */
  readonly exited: Promise<ProcessExit>;
  #output = '';
  #exit: ProcessExit | undefined;

  constructor(options: SpawnOptions) {
    this.name = options.name;
    this.child = spawn(options.command, [...(options.args ?? [])], {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    trackChild(this.child);
    const capture = (chunk: Buffer) => {
      this.#output += chunk.toString('utf8');
      if (this.#output.length > OUTPUT_LIMIT) this.#output = this.#output.slice(-OUTPUT_LIMIT);
    };
    this.child.stdout?.on('data', capture);
    this.child.stderr?.on('data', capture);
    this.exited = new Promise<ProcessExit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
      this.child.once('error', (error) => {
        capture(Buffer.from(`\n[spawn error] ${error.message}\n`));
        this.#exit ??= { code: null, signal: null };
        resolve(this.#exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Everything the process wrote so far (stdout and stderr interleaved). */
  output(): string {
    return this.#output;
  }

  /** The last lines of output, for error messages. */
  tail(lines = 30): string {
    return this.#output.trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Wait until the output matches `pattern`; fails early if the process exits first. */
  async waitForOutput(pattern: string | RegExp, timeoutMs = 30_000): Promise<void> {
    const found = () => (typeof pattern === 'string' ? this.#output.includes(pattern) : pattern.test(this.#output));
    await waitFor(`${this.name} to print ${String(pattern)}`, () => {
      if (found()) return true;
      if (!this.running) throw new WaitAbortedError(`${this.name} exited (${describeExit(this.#exit)}) before printing ${String(pattern)}:\n${this.tail()}`);
      return false;
    }, { timeoutMs, intervalMs: 50, detail: () => this.tail() });
  }

  /** Send `signal` (SIGKILL by default) and wait for the exit. No-op if already exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ProcessExit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<ProcessExit> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function describeExit(exit: ProcessExit | undefined): string {
  if (!exit) return 'running';
  return exit.signal ? `signal ${exit.signal}` : `code ${String(exit.code)}`;
}

/** The processes one scenario started; `killAll` in a finally block. */
export class ProcessSet {
  readonly #all: ManagedProcess[] = [];

  start(options: SpawnOptions): ManagedProcess {
    const started = new ManagedProcess(options);
    this.#all.push(started);
    return started;
  }

  get processes(): readonly ManagedProcess[] {
    return [...this.#all];
  }

  /** SIGKILL every process of this set that is still running, and wait for them to exit. */
  async killAll(): Promise<void> {
    await Promise.all(this.#all.map((p) => p.kill('SIGKILL')));
  }
}

/** Thrown by a `waitFor` probe to stop waiting at once (e.g. the process it waits on exited). */
export class WaitAbortedError extends Error {
  override readonly name = 'WaitAbortedError';
}

/** Poll `probe` until it returns a value other than `false`/`undefined`, or fail after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | false | undefined | Promise<T | false | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; detail?: () => string } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== false && value !== undefined) return value;
    } catch (error) {
      if (error instanceof WaitAbortedError) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const last = lastError instanceof Error ? ` Last error: ${lastError.message}.` : '';
      const detail = options.detail ? `\n${options.detail()}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.${last}${detail}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Run `task` over `items` with at most `concurrency` in flight. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await task(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Could not read the port the OS picked.');
  return address.port;
}

/** Wait until something accepts TCP connections on host:port. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 30_000): Promise<void> {
  await waitFor(`${host}:${port} to accept connections`, () =>
    new Promise<boolean>((resolve) => {
      const socket = connectTcp({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    }),
  { timeoutMs, intervalMs: 100 });
}

/** The few variables a child needs from this environment (PATH, HOME, locale, temp dir). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** `dist/main.js` of a workspace package (the process entry its README tells users to run). */
export function packageMain(pkg: '@stripe-flows/receiver' | '@stripe-flows/workers'): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'main.js');
}

/** Wait until a Temporal frontend answers and serves the `default` namespace (giving up if `server` exits). */
export async function waitForTemporal(address: string, options: { timeoutMs?: number; server?: ManagedProcess } = {}): Promise<void> {
  const { server } = options;
  await waitFor(`Temporal at ${address}`, async () => {
    if (server && !server.running) throw new WaitAbortedError(`${server.name} exited while starting:\n${server.tail()}`);
    const connection = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await connection.workflowService.getSystemInfo({});
      await connection.workflowService.describeNamespace({ namespace: 'default' });
      return true;
    } finally {
      await connection.close();
    }
  }, { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 250, ...(server ? { detail: () => `${server.name} output:\n${server.tail()}` } : {}) });
}

/**
 * The project's Temporal CLI dev server (binary from .tools) on `port`, state in `dbFile`, with
 * the project's search attributes, headless; resolves once it serves the default namespace.
 * Started again on the same file, it carries on where it stopped.
 */
export async function startTemporalDevServer(set: ProcessSet, options: { port: number; dbFile: string; name?: string }): Promise<ManagedProcess> {
  const server = set.start({
    name: options.name ?? 'temporal',
    command: temporalBinaries().cli,
    args: [
      'server', 'start-dev', '--headless',
      '--ip', '127.0.0.1',
      '--port', String(options.port),
      '--db-filename', options.dbFile,
      '--log-level', 'error',
      ...searchAttributeKeys.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
    ],
    env: baseEnv(),
  });
  await waitForTemporal(`127.0.0.1:${options.port}`, { server });
  return server;
}

/**
 * The worker process (`node workers/dist/main.js`, prebuilt bundles); resolves once it logged
 * `workers running`.
 */
export async function startWorkerProcess(
  set: ProcessSet,
  options: { temporalAddress: string; stripeApiBase: string; stripeTimeoutMs?: number; domains?: string; name?: string; env?: Record<string, string> },
): Promise<ManagedProcess> {
  const worker = set.start({
    name: options.name ?? 'worker',
    command: process.execPath,
    args: [packageMain('@stripe-flows/workers')],
    env: {
      ...baseEnv(),
      TEMPORAL_ADDRESS: options.temporalAddress,
      STRIPE_API_BASE: options.stripeApiBase,
      DOMAINS: options.domains ?? 'billing',
      LOG_LEVEL: 'info',
      ...(options.stripeTimeoutMs !== undefined ? { STRIPE_TIMEOUT_MS: String(options.stripeTimeoutMs) } : {}),
      ...options.env,
    },
  });
  await worker.waitForOutput('workers running', 60_000);
  return worker;
}

/**
 * The receiver process (`node packages/receiver/dist/main.js`); resolves once it logged
 * `receiver listening` on `port`.
 */
export async function startReceiverProcess(
  set: ProcessSet,
  options: { port: number; temporalAddress: string; webhookSecret: string; dispatchDeadlineMs?: number; domains?: string; name?: string; env?: Record<string, string> },
): Promise<ManagedProcess> {
  const receiver = set.start({
    name: options.name ?? 'receiver',
    command: process.execPath,
    args: [packageMain('@stripe-flows/receiver')],
    env: {
      ...baseEnv(),
      PORT: String(options.port),
      HOST: '127.0.0.1',
      TEMPORAL_ADDRESS: options.temporalAddress,
      STRIPE_WEBHOOK_SECRETS: options.webhookSecret,
      DISPATCH_DEADLINE_MS: String(options.dispatchDeadlineMs ?? 1500),
      LOG_LEVEL: 'info',
      ...(options.domains ? { DOMAINS: options.domains } : {}),
      ...options.env,
    },
  });
  await receiver.waitForOutput('receiver listening', 60_000);
  return receiver;
}
