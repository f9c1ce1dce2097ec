// `stripe-flows dev` as the CLI tests run it: a user's shell environment without settings that
// point the stack elsewhere, the test file's own ports and data folder, Ctrl-C to stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { dataConverterFor, parseEncryptionKeys } from '@stripe-flows/core';
import { DEV_PAYLOAD_ENCRYPTION_KEYS } from '../src/config.js';

export const mainJs = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

/** The ports one test file's stack listens on (each file has its own, so files never collide). */
export interface DevPorts {
  RECEIVER_PORT: string;
  TEMPORAL_PORT: string;
  TEMPORAL_UI_PORT: string;
  STRIPE_DOUBLE_PORT: string;
  CODEC_PORT: string;
}

/** process.env without what would send the stack to real Stripe, another Temporal, or other keys. */
export function userEnv(): Record<string, string | undefined> {
  const {
    STRIPE_SECRET_KEY: _key,
    STRIPE_WEBHOOK_SECRETS: _secrets,
    TEMPORAL_ADDRESS: _address,
    PAYLOAD_ENCRYPTION_KEYS: _keys,
    CODEC_AUTH_TOKENS: _tokens,
    STRIPE_API_BASE: _base,
    DOMAINS: _domains,
    ...env
  } = process.env;
  return env;
}

export interface DevStack {
  process: ChildProcess;
  /** Everything the stack printed so far. */
  output(): string;
  /** Ctrl-C, as a user stops it; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `stripe-flows dev` and resolves once it says it is running. */
export async function startDevStack(options: { ports: DevPorts; dataDir: string; env?: Record<string, string>; timeoutMs?: number }): Promise<DevStack> {
  const env = { ...userEnv(), ...options.ports, STRIPE_FLOWS_DATA_DIR: options.dataDir, LOG_LEVEL: 'warn', ...options.env };
  const proc = spawn(process.execPath, [mainJs, 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => void (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => void (out += d.toString()));
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  while (!out.includes('Press Ctrl-C to stop everything.')) {
    if (proc.exitCode !== null) throw new Error(`dev exited early (${proc.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      await stopProcess(proc);
      throw new Error(`dev did not come up in ${timeoutMs / 1000} s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { process: proc, output: () => out, stop: () => stopProcess(proc) };
}

/** SIGINT so dev stops its own children (each in its own process group); SIGKILL if stuck. */
export async function stopProcess(proc: ChildProcess | undefined): Promise<number | null> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGINT');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** A Temporal client of the stack, holding its dev payload key. Close its connection when done. */
export async function devClient(ports: Pick<DevPorts, 'TEMPORAL_PORT'>): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: `127.0.0.1:${ports.TEMPORAL_PORT}` });
  const dataConverter = dataConverterFor({ PAYLOAD_ENCRYPTION_KEYS: parseEncryptionKeys(DEV_PAYLOAD_ENCRYPTION_KEYS) }) ?? {};
  return { client: new Client({ connection, dataConverter }), connection };
}
