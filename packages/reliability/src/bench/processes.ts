// Processes under measurement write their output to a file, not a pipe this process reads: a
// receiver logs a line per event, and reading those lines here would take CPU from what is measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WaitAbortedError, waitFor } from '../processes.js';

/** Root of this package (the same from src/ and dist/). */
export const reliabilityRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A process entry of the bench (`dist/bench/<name>.js`): children always run built code. */
export function benchEntry(name: string): string {
  const path = join(reliabilityRoot, 'dist', 'bench', `${name}.js`);
  if (!existsSync(path)) throw new Error(`${path} is missing: build @stripe-flows/reliability first (pnpm --filter @stripe-flows/reliability build).`);
  return path;
}

const live = new Set<ChildProcess>();
let exitHook = false;

/** A child whose stdout and stderr go to `logFile`. */
export class LoggedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #running = true;

  constructor(options: { name: string; command: string; args: readonly string[]; env: Record<string, string>; logFile: string }) {
    this.name = options.name;
    this.logFile = options.logFile;
    const fd = openSync(options.logFile, 'a');
    try {
      this.child = spawn(options.command, [...options.args], { env: options.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    live.add(this.child);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      });
    }
    this.exited = new Promise((resolveExit) => {
      this.child.once('exit', (code, signal) => {
        this.#running = false;
        live.delete(this.child);
        resolveExit({ code, signal });
      });
      this.child.once('error', () => {
        this.#running = false;
        live.delete(this.child);
        resolveExit({ code: null, signal: null });
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} did not start:\n${this.tail()}`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.#running;
  }

  output(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  tail(lines = 20): string {
    return this.output().trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Wait until the log matches `pattern`; fails at once if the process exits first. */
  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return waitFor(`${this.name} to log ${String(pattern)}`, () => {
      const match = this.output().match(pattern);
      if (match) return match;
      if (!this.running) throw new WaitAbortedError(`${this.name} exited before logging ${String(pattern)}:\n${this.tail()}`);
      return undefined;
    }, { timeoutMs, intervalMs: 100, detail: () => this.tail() });
  }

  /** SIGTERM (a graceful stop, profiles written), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The processes one benchmark started, stopped together in its `finally`. */
export class BenchProcesses {
  readonly #all: LoggedProcess[] = [];

  start(options: ConstructorParameters<typeof LoggedProcess>[0]): LoggedProcess {
    const p = new LoggedProcess(options);
    this.#all.push(p);
    return p;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#all.map((p) => p.stop(5_000)));
  }
}
