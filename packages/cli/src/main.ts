#!/usr/bin/env node
// stripe-flows: one command line for the project. Each subcommand lives in its own module and is
// listed in `commands` below; every one answers --help.
import { builtInDomains } from '@stripe-flows/workers';
import { CliError, type Command } from './command.js';
import { loadCliConfig } from './config.js';
import { runDev } from './dev.js';
import { routesMarkdown, writeReadmeRoutes } from './routes.js';
import { endpoints } from './commands/endpoints.js';
import { trigger } from './commands/trigger.js';
import { replay } from './commands/replay.js';

const dev: Command = {
  name: 'dev',
  summary: 'Run the whole stack locally: Temporal dev server and Web UI, Stripe API double, worker, codec endpoint, receiver.',
  usage: `Usage: stripe-flows dev

Runs the Temporal dev server (Web UI on :8233, data in .data/), the Stripe API double when
STRIPE_SECRET_KEY is unset, the worker, the codec endpoint and the receiver on :4242.
Ctrl-C stops everything in order. Settings come from the environment (see the README).`,
  async run() {
    await runDev(loadCliConfig());
  },
};

const routes: Command = {
  name: 'routes',
  summary: 'Print the route table: Stripe event type → flow (Markdown).',
  usage: `Usage: stripe-flows routes [--readme]

Prints the table of Stripe event types and the flows they reach.
  --readme   rewrite the table in README.md instead of printing it`,
  async run(args) {
    const unknown = args.filter((a) => a !== '--readme');
    if (unknown.length) throw new CliError(`Unknown option ${unknown[0]} for routes. Try: stripe-flows routes --help`, 2);
    if (args.includes('--readme')) console.log(`route table written to ${writeReadmeRoutes(builtInDomains)}`);
    else process.stdout.write(routesMarkdown(builtInDomains));
  },
};

/** Every subcommand, in the order `stripe-flows help` lists them. */
const commands: Command[] = [dev, trigger, replay, routes, endpoints];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: stripe-flows <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}  Show this help. Every command takes --help.
`;
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
  console.log(help());
  process.exit(0);
}
const command = commands.find((c) => c.name === name);
if (!command) {
  console.error(`Unknown command "${name}".\n\n${help()}`);
  process.exit(2);
}
if (args.includes('--help') || args.includes('-h')) {
  console.log(command.usage);
  process.exit(0);
}
try {
  const code = await command.run(args);
  if (code) process.exitCode = code;
} catch (error) {
  if (!(error instanceof CliError)) throw error;
  console.error(`stripe-flows ${command.name}: ${error.message}`);
  process.exit(error.exitCode);
}
