import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import Stripe from 'stripe';
import { stripeMockBinary } from './paths.js';

/** Stripe's own mock server (stripe-mock), validating requests against Stripe's OpenAPI spec. */
export interface RunningStripeMock {
  port: number;
  client(): Stripe;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Start stripe-mock on a free loopback port and wait until it answers. */
export async function startStripeMock(): Promise<RunningStripeMock> {
  const port = await freePort();
  const child = spawn(stripeMockBinary(), ['-http-addr', `127.0.0.1:${port}`, '-https-addr', `127.0.0.1:${await freePort()}`], { stdio: 'ignore' });
  const client = () => new Stripe('sk_test_123', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await client().balance.retrieve();
      break;
    } catch (error) {
      if (child.exitCode !== null) throw new Error(`stripe-mock exited with code ${child.exitCode} before answering.`);
      if (Date.now() > deadline) throw new Error(`stripe-mock did not answer on port ${port} within 20 s: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    client,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
