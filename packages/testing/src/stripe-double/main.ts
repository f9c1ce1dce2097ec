#!/usr/bin/env node
// `stripe-api-double [--port 12111] [--host 127.0.0.1] [--lenient] [--fixtures path]`
// Runs the Stripe API double for dev mode. This entry is its own config file: the only
// environment it reads is STRIPE_DOUBLE_PORT.
import { parseArgs } from 'node:util';
import { StripeApiDouble } from './server.js';

const DEFAULT_PORT = 12111;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      lenient: { type: 'boolean', default: false },
      fixtures: { type: 'string' },
    },
    strict: true,
  });
  const portText = values.port ?? process.env.STRIPE_DOUBLE_PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535 (got ${portText}).`);

  const double = await StripeApiDouble.start({
    port,
    lenient: values.lenient,
    ...(values.host ? { host: values.host } : {}),
    ...(values.fixtures ? { fixturesPath: values.fixtures } : {}),
  });
  console.log(JSON.stringify({ msg: 'stripe api double listening', url: double.url, lenient: values.lenient }));

  const shutdown = (signal: string) => {
    double.stop().then(
      () => {
        console.log(JSON.stringify({ msg: 'stripe api double stopped', signal }));
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ msg: 'stripe api double failed to start', error: (error as Error).message }));
  process.exit(1);
});
