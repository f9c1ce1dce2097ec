// `stripe-flows trigger`: send the receiver a realistic, signed Stripe event (or play a named
// scenario of them) and show which flows it reached.
import { connectTemporalClient, RouteRegistry, selectDomains } from '@stripe-flows/core';
import { isWebhookEventType, realisticEvent, relatedObjects } from '@stripe-flows/testing';
import { builtInDomains } from '@stripe-flows/workers';
import { CliError, parseCommandArgs, type Command, type ParsedCommandArgs } from '../command.js';
import { DEV_WEBHOOK_SECRET, loadCliConfig, loadTemporalConfig, type CliConfig } from '../config.js';
import { deliver, describeDelivery, workflowUrl, type DeliveryTarget } from '../delivery.js';
import { applySet } from '../event-edits.js';
import { DoubleAdmin, doubleBase, doubleIsRunning } from '../stripe-api.js';
import { didYouMean } from '../suggest.js';
import { playScenario, type ScenarioResult } from './play.js';
import { scenarios, type Scenario } from './scenarios.js';

const options = {
  account: { type: 'string' },
  set: { type: 'string', multiple: true },
  scenario: { type: 'string' },
  list: { type: 'boolean' },
  receiver: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Event types the built-in domains route, in columns for --help. */
function typeColumns(): string {
  const types = new RouteRegistry(builtInDomains).eventTypes();
  const width = Math.max(...types.map((t) => t.length)) + 2;
  const lines: string[] = [];
  for (let i = 0; i < types.length; i += 2) lines.push(`  ${types.slice(i, i + 2).map((t) => t.padEnd(width)).join('').trimEnd()}`);
  return lines.join('\n');
}


interface Setup {
  config: CliConfig;
  target: DeliveryTarget;
  ui: { base: string; namespace: string };
  /** What trigger does besides posting, for the first line of output. */
  mode: string;
}

async function setup(config: CliConfig, receiver: string | undefined): Promise<Setup> {
  const receiverUrl = receiver ?? `http://127.0.0.1:${config.RECEIVER_PORT}/webhooks/stripe`;
  try {
    new URL(receiverUrl);
  } catch {
    throw new CliError(`--receiver ${receiverUrl} is not a URL; use the receiver's webhook URL, e.g. http://127.0.0.1:4242/webhooks/stripe.`, 2);
  }
  const secret = config.STRIPE_WEBHOOK_SECRETS?.split(',').map((s) => s.trim()).find(Boolean) ?? DEV_WEBHOOK_SECRET;
  const ui = { base: `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`, namespace: config.TEMPORAL_NAMESPACE };
  if (config.STRIPE_SECRET_KEY) {
    return { config, ui, target: { receiverUrl, secret }, mode: 'STRIPE_SECRET_KEY is set: posting the signed event only (flows read your Stripe account)' };
  }
  const base = doubleBase(config);
  if (!(await doubleIsRunning(base))) {
    return { config, ui, target: { receiverUrl, secret }, mode: `no Stripe API double at ${base}: posting the signed event only` };
  }
  return { config, ui, target: { receiverUrl, secret, double: new DoubleAdmin(base) }, mode: `objects seeded into the Stripe API double at ${base}` };
}

function checkEventType(type: string, config: CliConfig): void {
  const registry = new RouteRegistry(selectDomains(builtInDomains, config.DOMAINS));
  const routed = registry.eventTypes();
  if (routed.includes(type)) return;
  const list = `Routed types: ${routed.join(', ')}.`;
  if (isWebhookEventType(type) && type !== '*') {
    throw new CliError(`Stripe sends ${type}, but no enabled domain routes it: the receiver would acknowledge and ignore it. ${list}`, 2);
  }
  throw new CliError(`Unknown event type "${type}".${didYouMean(type, routed)} ${list}`, 2);
}

type TriggerValues = ParsedCommandArgs<typeof options>['values'];

async function triggerOne(type: string, values: TriggerValues, config: CliConfig): Promise<number> {
  checkEventType(type, config);
  if (values.account !== undefined && !/^acct_[A-Za-z0-9]+$/.test(values.account)) {
    throw new CliError(`--account ${values.account}: expected a connected account id (acct_...).`, 2);
  }
  const event = realisticEvent(type, values.account ? { account: values.account } : {});
  for (const assignment of values.set ?? []) applySet(event, assignment);
  const { target, ui, mode } = await setup(config, values.receiver);
  const report = await deliver(event, target, relatedObjects(event));
  const ok = report.status >= 200 && report.status < 300;
  if (values.json) {
    console.log(JSON.stringify({
      ...report,
      receiver: target.receiverUrl,
      stripeApiDouble: target.double?.base ?? null,
      workflows: report.deliveries.map((d) => ({ workflowId: d.workflowId, url: workflowUrl(ui.base, ui.namespace, d.workflowId) })),
    }, null, 2));
  } else {
    console.log(`${type} ${report.eventId}${report.account ? ` from ${report.account}` : ''} → ${target.receiverUrl}`);
    console.log(`  ${mode}${report.seeded.length ? `: ${report.seeded.join(', ')}` : ''}${report.recorded ? '; event recorded in its event log' : ''}`);
    for (const line of describeDelivery(report, ui)) console.log(line);
  }
  return ok ? 0 : 1;
}

async function playScenarios(name: string, values: TriggerValues, config: CliConfig): Promise<number> {
  const chosen: Scenario[] = name === 'all' ? [...scenarios] : scenarios.filter((s) => s.name === name);
  if (chosen.length === 0) {
    throw new CliError(`No scenario "${name}".${didYouMean(name, scenarios.map((s) => s.name))} Scenarios: ${scenarios.map((s) => s.name).join(', ')} (or all). See: stripe-flows trigger --list`, 2);
  }
  if (config.STRIPE_SECRET_KEY) {
    throw new CliError('Scenarios play against the dev stack\'s Stripe API double, and STRIPE_SECRET_KEY is set: the flows would read your Stripe account, where the scenario\'s objects do not exist. Unset it (and run stripe-flows dev without it).');
  }
  const { target, ui } = await setup(config, values.receiver);
  const double = target.double;
  if (!double) {
    throw new CliError(`Scenarios need the dev stack's Stripe API double, and none answers at ${doubleBase(config)}. Start the main job (./infra/bin/dev or stripe-flows dev) without STRIPE_SECRET_KEY, or set STRIPE_API_BASE to where the double listens.`);
  }
  const temporal = loadTemporalConfig(config);
  let client: Awaited<ReturnType<typeof connectTemporalClient>>;
  try {
    client = await connectTemporalClient(temporal);
  } catch (error) {
    throw new CliError(`Could not connect to Temporal at ${temporal.TEMPORAL_ADDRESS} to follow the flows: ${(error as Error).message}. Is the main job running?`);
  }
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of chosen) {
      if (results.length && !values.json) console.log('');
      results.push(await playScenario(scenario, { target: { ...target, double }, client, ui, print: values.json ? () => undefined : (line) => console.log(line) }));
    }
  } finally {
    await client.connection.close();
  }
  if (values.json) console.log(JSON.stringify(name === 'all' ? results : results[0], null, 2));
  return results.every((r) => r.ok) ? 0 : 1;
}

export const trigger: Command = {
  name: 'trigger',
  summary: 'Send a realistic signed Stripe event (or a named scenario of them) to the receiver.',
  get usage() {
    return `Usage: stripe-flows trigger <event-type> [--account acct_...] [--set path=value]... [--receiver <url>] [--json]
       stripe-flows trigger --scenario <name|all> [--receiver <url>] [--json]
       stripe-flows trigger --list

Sends the receiver an event as Stripe would: built from Stripe's example objects (fresh ids,
the object in the state the event type implies), signed with the receiver's secret (the first
of STRIPE_WEBHOOK_SECRETS, else the dev default) and POSTed to /webhooks/stripe. Prints the
HTTP status, each route's workflow id and result, and the flow's Temporal UI page.

Against the dev stack (no STRIPE_SECRET_KEY; its Stripe API double at STRIPE_API_BASE, default
http://127.0.0.1:12111) it first stores the event's object and the objects around it (customer,
pending invoice items, the transfer a charge funded, ...) in the double, so the flow's own reads
agree with the event, then records the event in the double's event log (GET /v1/events;
pending_webhooks 0 if the receiver answered 2xx, else 1). With STRIPE_SECRET_KEY set it only
posts the signed event: the flows then read your Stripe account.

Options:
  --account acct_...   send it from this connected account (event.account, and the object's own
                       account field); connected-account types get a fresh acct_ without it
  --set path=value     change a field before signing: a dot path from the event's root, e.g.
                       data.object.amount_due=5000 or data.object.metadata.plan=pro; the value is
                       JSON when it parses as JSON, else a string (repeatable)
  --scenario <name>    play a named sequence of events and wait until its flows end ("all": every
                       scenario); follows the flows through Temporal (TEMPORAL_ADDRESS, default the
                       dev server; PAYLOAD_ENCRYPTION_KEYS, default the dev key)
  --list               list the scenarios
  --receiver <url>     where to post (default http://127.0.0.1:$RECEIVER_PORT/webhooks/stripe, 4242)
  --json               machine-readable output

Exit code: 0 when the receiver answered 2xx (a scenario: when every flow reached its end state),
1 otherwise, 2 for a usage error.

Event types (every routed type):
${typeColumns()}

Examples:
  stripe-flows trigger invoice.payment_failed
  stripe-flows trigger invoice.payment_failed --set data.object.amount_due=5000 --set data.object.attempt_count=2
  stripe-flows trigger payout.failed --account acct_1Nv0FGQ9RKHgCVdK
  stripe-flows trigger --scenario all`;
  },
  async run(args) {
    const { values, positionals } = parseCommandArgs('trigger', args, options);
    const config = loadCliConfig();
    if (values.list) {
      if (values.json) console.log(JSON.stringify(scenarios.map((s) => ({ name: s.name, description: s.description, steps: s.steps.map((step) => step.type) })), null, 2));
      else {
        const width = Math.max(...scenarios.map((s) => s.name.length));
        console.log(`Scenarios (stripe-flows trigger --scenario <name>, or all):\n${scenarios.map((s) => `  ${s.name.padEnd(width)}  ${s.description}`).join('\n')}`);
      }
      return 0;
    }
    if (values.scenario !== undefined) {
      if (positionals.length) throw new CliError(`--scenario plays its own events: drop "${positionals.join(' ')}".`, 2);
      if (values.account !== undefined || values.set?.length) throw new CliError('--account and --set apply to a single event, not to a scenario.', 2);
      return playScenarios(values.scenario, values, config);
    }
    const [type, ...rest] = positionals;
    if (!type) throw new CliError('Which event? Usage: stripe-flows trigger <event-type> (see stripe-flows trigger --help for the routed types), or --scenario <name>, or --list.', 2);
    if (rest.length) throw new CliError(`One event type at a time (got ${positionals.join(', ')}); use --scenario for sequences.`, 2);
    return triggerOne(type, values, config);
  },
};
