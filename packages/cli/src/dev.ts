// `stripe-flows dev`: the whole stack on this machine. Temporal dev server (SQLite file, Web UI),
// the Stripe API double when no STRIPE_SECRET_KEY is set, the worker and the receiver.
// Ctrl-C stops them in reverse order.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeKeys } from '@stripe-flows/core';
import { projectRoot, temporalBinaries } from '@stripe-flows/testing';
import { DEV_PAYLOAD_ENCRYPTION_KEYS, DEV_WEBHOOK_SECRET, inheritedEnv, type CliConfig } from './config.js';

const require = createRequire(import.meta.url);
const entry = (pkg: string) => join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'main.js');

interface Child {
  name: string;
  process: ChildProcess;
}

export async function runDev(config: CliConfig): Promise<void> {
  const root = projectRoot();
  const dataDir = config.STRIPE_FLOWS_DATA_DIR ?? join(root, '.data');
  mkdirSync(dataDir, { recursive: true });
  const children: Child[] = [];
  let stopping = false;

  const start = (name: string, command: string, args: string[], env: Record<string, string | undefined>): Child => {
    // Own process group: Ctrl-C reaches only this process, which stops the children in order.
    const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    const record = { name, process: child };
    children.push(record);
    child.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`[dev] ${name} exited (${signal ?? code}); stopping the rest.`);
        void stop(1);
      }
    });
    return record;
  };

  const stop = async (exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    console.log('\n[dev] stopping: receiver, worker, codec endpoint, Stripe API double, Temporal');
    for (const child of [...children].reverse()) {
      if (child.process.exitCode !== null || child.process.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.process.once('exit', resolve));
      child.process.kill('SIGINT');
      const timer = setTimeout(() => child.process.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    console.log('[dev] stopped');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  // Never leave children behind, whatever ends this process.
  process.on('exit', () => {
    for (const { process: child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const temporalAddress = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const codecUrl = `http://127.0.0.1:${config.CODEC_PORT}/codec`;
  if (!config.TEMPORAL_ADDRESS) {
    start('temporal', temporalBinaries().cli, [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(config.TEMPORAL_PORT),
      '--ui-port', String(config.TEMPORAL_UI_PORT),
      '--db-filename', join(dataDir, 'temporal.sqlite'),
      '--log-level', 'error',
      // Temporal UI decrypts payloads in the browser through the codec endpoint.
      '--ui-codec-endpoint', codecUrl,
      ...searchAttributeKeys.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
    ], inheritedEnv());
  }
  await waitForTemporal(temporalAddress);

  const env: Record<string, string | undefined> = {
    ...inheritedEnv(),
    TEMPORAL_ADDRESS: temporalAddress,
    STRIPE_WEBHOOK_SECRETS: config.STRIPE_WEBHOOK_SECRETS ?? DEV_WEBHOOK_SECRET,
    PORT: String(config.RECEIVER_PORT),
    PAYLOAD_ENCRYPTION_KEYS: config.PAYLOAD_ENCRYPTION_KEYS ?? DEV_PAYLOAD_ENCRYPTION_KEYS,
  };
  if (!config.STRIPE_SECRET_KEY) {
    start('stripe-api-double', process.execPath, [entryOf('@stripe-flows/testing', 'stripe-double/main.js'), '--port', String(config.STRIPE_DOUBLE_PORT), '--lenient'], env);
    env.STRIPE_API_BASE = `http://127.0.0.1:${config.STRIPE_DOUBLE_PORT}`;
    await waitForHttp(`${env.STRIPE_API_BASE}/__double/requests`);
  }
  // Loopback only; with no CODEC_AUTH_TOKENS the unauthenticated dev UI may decode.
  start('codec', process.execPath, [entryOf('@stripe-flows/receiver', 'codec-main.js')], {
    ...env,
    CODEC_PORT: String(config.CODEC_PORT),
    CODEC_HOST: '127.0.0.1',
    CODEC_CORS_ORIGINS: `http://127.0.0.1:${config.TEMPORAL_UI_PORT},http://localhost:${config.TEMPORAL_UI_PORT}`,
    ...(config.CODEC_AUTH_TOKENS ? { CODEC_AUTH_TOKENS: config.CODEC_AUTH_TOKENS } : { CODEC_ALLOW_UNAUTHENTICATED: 'true' }),
  });
  await waitForHttp(`http://127.0.0.1:${config.CODEC_PORT}/healthz`);
  start('worker', process.execPath, [entry('@stripe-flows/workers')], env);
  start('receiver', process.execPath, [entry('@stripe-flows/receiver')], env);
  await waitForHttp(`http://127.0.0.1:${config.RECEIVER_PORT}/readyz`);

  console.log(`
stripe-flows is running
  Webhook endpoint   http://127.0.0.1:${config.RECEIVER_PORT}/webhooks/stripe   (health: /healthz, /readyz, /metrics)
  Temporal Web UI    ${config.TEMPORAL_ADDRESS ? '(your cluster)' : `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`}
  Temporal gRPC      ${temporalAddress}
  Stripe API         ${config.STRIPE_SECRET_KEY ? 'api.stripe.com (STRIPE_SECRET_KEY)' : `local double at ${env.STRIPE_API_BASE}`}
  Signing secret     ${config.STRIPE_WEBHOOK_SECRETS ? 'from STRIPE_WEBHOOK_SECRETS' : `${DEV_WEBHOOK_SECRET} (dev default)`}
  Payload encryption ${config.PAYLOAD_ENCRYPTION_KEYS ? 'keys from PAYLOAD_ENCRYPTION_KEYS' : 'dev key "dev-only" (dev default)'}; codec endpoint ${codecUrl}
Press Ctrl-C to stop everything.
`);
}

function entryOf(pkg: string, file: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', file);
}

async function waitForTemporal(address: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} did not come up within 60 s: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function waitForHttp(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 60 s.`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
