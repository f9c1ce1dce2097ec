#!/usr/bin/env node
// stripe-flows: one command line for the project.
import { builtInDomains } from '@stripe-flows/workers';
import { loadCliConfig } from './config.js';
import { runDev } from './dev.js';
import { routesMarkdown, writeReadmeRoutes } from './routes.js';

const HELP = `Usage: stripe-flows <command>

Commands:
  dev       Run the whole stack locally: Temporal dev server (Web UI on :8233), Stripe API
            double (when STRIPE_SECRET_KEY is unset), worker, receiver on :4242.
  routes    Print the route table: Stripe event type → flow (Markdown).
            --readme rewrites the table in README.md.
  help      Show this help. Every command takes --help.
`;

const [command, ...rest] = process.argv.slice(2);
if (rest.includes('--help') || rest.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
switch (command) {
  case 'dev':
    await runDev(loadCliConfig());
    break;
  case 'routes':
    if (rest.includes('--readme')) {
      const file = writeReadmeRoutes(builtInDomains);
      console.log(`route table written to ${file}`);
    } else {
      process.stdout.write(routesMarkdown(builtInDomains));
    }
    break;
  case undefined:
  case 'help':
  case '--help':
  case '-h':
    console.log(HELP);
    break;
  default:
    console.error(`Unknown command "${command}".\n\n${HELP}`);
    process.exit(2);
}
