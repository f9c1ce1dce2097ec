// `stripe-flows endpoints sync`: the webhook endpoints this deployment needs (platform, and Connect
// when Connect routes exist), each subscribed to exactly the routed event types, compared with
// what Stripe has; changed only with --apply.
//
// Stripe's webhook_endpoint object does not say whether it is a Connect endpoint (`connect` is a
// create-only parameter), so the endpoints sync manages carry metadata[stripe_flows_endpoint] =
// platform | connect. An existing endpoint without it is taken over with --adopt we_...=<kind>.
import { RouteRegistry, selectDomains, type WebhookEndpointKind } from '@stripe-flows/core';
import { builtInDomains } from '@stripe-flows/workers';
import { CliError, parseCommandArgs, type Command } from '../command.js';
import { loadCliConfig } from '../config.js';
import { doubleIsRunning, stripeRequest, stripeTarget, type StripeTarget } from '../stripe-api.js';

/** Metadata key naming which endpoint (platform or connect) stripe-flows manages. */
export const ENDPOINT_METADATA_KEY = 'stripe_flows_endpoint';
/** Exit code when changes are pending and --apply was not given (for CI). */
export const EXIT_CHANGES_PENDING = 3;

const KINDS: readonly WebhookEndpointKind[] = ['platform', 'connect'];

interface WebhookEndpoint {
  id: string;
  url: string;
  enabled_events: string[];
  status: string;
  api_version: string | null;
  description: string | null;
  metadata: Record<string, string>;
  secret?: string;
}

/** What one needed endpoint needs done. */
export interface EndpointPlan {
  kind: WebhookEndpointKind;
  action: 'create' | 'update' | 'up_to_date';
  endpointId: string | null;
  events: string[];
  add: string[];
  remove: string[];
  enable: boolean;
  label: boolean;
  notes: string[];
}

const options = {
  url: { type: 'string' },
  apply: { type: 'boolean' },
  'api-version': { type: 'string' },
  adopt: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

async function listEndpoints(target: StripeTarget): Promise<WebhookEndpoint[]> {
  const all: WebhookEndpoint[] = [];
  for (let after: string | undefined; ; ) {
    const page = await stripeRequest<{ data: WebhookEndpoint[]; has_more: boolean }>(target, 'GET', '/v1/webhook_endpoints', { limit: 100, ...(after ? { starting_after: after } : {}) });
    all.push(...page.data);
    const last = page.data.at(-1);
    if (!page.has_more || !last) return all;
    after = last.id;
  }
}

/** The plan for each needed endpoint, from what Stripe has now. */
export function planEndpoints(
  needed: ReadonlyMap<WebhookEndpointKind, readonly string[]>,
  existing: readonly WebhookEndpoint[],
  url: string,
  adopted: ReadonlyMap<string, WebhookEndpointKind>,
  apiVersion?: string,
): { plans: EndpointPlan[]; unlabelled: WebhookEndpoint[]; duplicates: WebhookEndpoint[]; untouched: WebhookEndpoint[] } {
  const kindOf = (e: WebhookEndpoint): WebhookEndpointKind | undefined => {
    const kind = adopted.get(e.id) ?? e.metadata?.[ENDPOINT_METADATA_KEY];
    return kind === 'platform' || kind === 'connect' ? kind : undefined;
  };
  const plans: EndpointPlan[] = [];
  const used = new Set<string>();
  const duplicates: WebhookEndpoint[] = [];
  for (const [kind, events] of needed) {
    const matches = existing.filter((e) => e.url === url && kindOf(e) === kind);
    const endpoint = matches[0];
    duplicates.push(...matches.slice(1));
    if (!endpoint) {
      plans.push({ kind, action: 'create', endpointId: null, events: [...events], add: [...events], remove: [], enable: false, label: true, notes: [] });
      continue;
    }
    used.add(endpoint.id);
    const have = new Set(endpoint.enabled_events);
    const want = new Set(events);
    const add = events.filter((t) => !have.has(t));
    const remove = endpoint.enabled_events.filter((t) => !want.has(t));
    const enable = endpoint.status !== 'enabled';
    const label = endpoint.metadata?.[ENDPOINT_METADATA_KEY] !== kind;
    const notes: string[] = [];
    if (have.has('*')) notes.push("subscribed to every event ('*'): narrowed to the routed types");
    if (enable) notes.push(`status ${endpoint.status} (Stripe disables an endpoint that keeps failing): re-enabled`);
    if (apiVersion && endpoint.api_version !== apiVersion) {
      notes.push(`renders events as API version ${endpoint.api_version ?? 'the account default'}, not ${apiVersion}; Stripe cannot change that on an existing endpoint: create a new one to switch`);
    }
    const changed = add.length > 0 || remove.length > 0 || enable || label;
    plans.push({ kind, action: changed ? 'update' : 'up_to_date', endpointId: endpoint.id, events: [...events], add, remove, enable, label, notes });
  }
  for (const d of duplicates) used.add(d.id);
  const unlabelled = existing.filter((e) => e.url === url && !used.has(e.id) && kindOf(e) === undefined);
  const untouched = existing.filter((e) => !used.has(e.id) && !unlabelled.includes(e));
  return { plans, unlabelled, duplicates, untouched };
}


function checkUrl(url: string | undefined): string {
  if (!url) throw new CliError('endpoints sync needs --url <public URL of your receiver\'s /webhooks/stripe>, e.g. --url https://flows.example.com/webhooks/stripe.', 2);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--url ${url} is not a URL; give the public URL Stripe posts to, e.g. https://flows.example.com/webhooks/stripe.`, 2);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new CliError(`--url ${url}: Stripe posts to http(s) URLs only.`, 2);
  return url;
}

function parseAdoptions(list: readonly string[]): Map<string, WebhookEndpointKind> {
  const adopted = new Map<string, WebhookEndpointKind>();
  for (const item of list) {
    const match = /^(we_[A-Za-z0-9]+)=(platform|connect)$/.exec(item);
    if (!match) throw new CliError(`--adopt ${item}: expected we_...=platform or we_...=connect.`, 2);
    adopted.set(match[1] as string, match[2] as WebhookEndpointKind);
  }
  return adopted;
}

/** Width of the endpoint id column (Stripe ids are `we_` + 24 characters). */
const COLUMN = 30;
const types = (n: number) => `${n} event type${n === 1 ? '' : 's'}`;
const list = (names: readonly string[]) => (names.length > 6 ? `${names.slice(0, 6).join(', ')}, ... (${names.length})` : names.join(', '));

function describePlan(plan: EndpointPlan): string[] {
  const head = `  ${plan.kind.padEnd(10)}`;
  const id = (plan.endpointId ?? '').padEnd(COLUMN);
  const lines: string[] = [];
  if (plan.action === 'create') {
    lines.push(`${head}${(plan.kind === 'connect' ? 'create (connect=true)' : 'create').padEnd(COLUMN)}${types(plan.events.length)}: ${list(plan.events)}`);
  } else if (plan.action === 'up_to_date') lines.push(`${head}${id}up to date (${types(plan.events.length)})`);
  else {
    const changes = [
      ...(plan.add.length ? [`add ${plan.add.length}: ${list(plan.add)}`] : []),
      ...(plan.remove.length ? [`remove ${plan.remove.length}: ${list(plan.remove)}`] : []),
      ...(plan.enable ? ['re-enable'] : []),
      ...(plan.label ? [`label metadata[${ENDPOINT_METADATA_KEY}]=${plan.kind}`] : []),
    ];
    lines.push(`${head}${id}${changes.join('; ')}`);
  }
  for (const note of plan.notes) lines.push(`${' '.repeat(12 + COLUMN)}note: ${note}`);
  return lines;
}

async function sync(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('endpoints', args, options);
  const [sub, ...rest] = positionals;
  if (sub !== 'sync') throw new CliError(sub ? `Unknown endpoints command "${sub}"; the only one is sync. Try: stripe-flows endpoints --help` : 'Usage: stripe-flows endpoints sync --url <url> [--apply]. Try: stripe-flows endpoints --help', 2);
  if (rest.length) throw new CliError(`Unexpected argument ${rest[0]} for endpoints sync. Try: stripe-flows endpoints --help`, 2);
  const url = checkUrl(values.url);
  const apiVersion = values['api-version'];
  if (apiVersion !== undefined && !/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(apiVersion)) {
    throw new CliError(`--api-version ${apiVersion}: expected a Stripe API version such as 2025-03-31.basil.`, 2);
  }
  const adopted = parseAdoptions(values.adopt ?? []);
  const config = loadCliConfig();
  const target = stripeTarget(config);
  if (target.kind === 'double' && !(await doubleIsRunning(target.base))) {
    throw new CliError(`No STRIPE_SECRET_KEY, and no Stripe API double answers at ${target.base}. Set STRIPE_SECRET_KEY (a secret key, or a restricted key with write access to Webhook Endpoints) to sync your Stripe account, or start the dev stack to try it locally.`);
  }

  const registry = new RouteRegistry(selectDomains(builtInDomains, config.DOMAINS));
  const needed = new Map<WebhookEndpointKind, string[]>(KINDS.map((kind) => [kind, registry.eventTypesFor(kind)] as const).filter(([, types]) => types.length > 0));
  const existing = await listEndpoints(target);
  for (const id of adopted.keys()) {
    if (!existing.some((e) => e.id === id)) throw new CliError(`--adopt ${id}: Stripe has no webhook endpoint ${id} (see the endpoints listed without --adopt).`, 2);
  }
  const { plans, unlabelled, duplicates, untouched } = planEndpoints(needed, existing, url, adopted, apiVersion);
  const pending = plans.some((p) => p.action !== 'up_to_date');
  const blocked = unlabelled.length > 0 && plans.some((p) => p.action === 'create');
  const json = values.json === true;
  const out = (line: string) => (json ? undefined : console.log(line));

  out(`Webhook endpoints for ${url} (${target.label}):`);
  for (const plan of plans) for (const line of describePlan(plan)) out(line);
  for (const e of unlabelled) {
    out(`  ${'?'.padEnd(10)}${e.id.padEnd(COLUMN)}at this URL without metadata[${ENDPOINT_METADATA_KEY}]: Stripe does not say whether it is a Connect endpoint.`);
    out(`${' '.repeat(12 + COLUMN)}Take it over with --adopt ${e.id}=platform (or =connect), or delete it.`);
  }
  for (const e of duplicates) out(`  ${'duplicate'.padEnd(10)}${e.id.padEnd(COLUMN)}a second ${e.metadata?.[ENDPOINT_METADATA_KEY] ?? ''} endpoint at this URL: left alone (Stripe delivers every event to both; delete one)`);
  for (const e of untouched) {
    const kind = e.metadata?.[ENDPOINT_METADATA_KEY];
    const unused = e.url === url && kind ? `; labelled ${kind}, but nothing is routed to a ${kind} endpoint: delete it if unused` : '';
    out(`  ${'untouched'.padEnd(10)}${e.id.padEnd(COLUMN)}${e.url} (${types(e.enabled_events.length)}${e.status !== 'enabled' ? `, ${e.status}` : ''}${unused})`);
  }

  const created: Array<{ kind: WebhookEndpointKind; id: string; secret: string | null }> = [];
  const updated: Array<{ kind: WebhookEndpointKind; id: string }> = [];
  if (values.apply && pending) {
    if (blocked) {
      throw new CliError(`Not creating a second endpoint at ${url} while ${unlabelled.map((e) => e.id).join(', ')} there is unlabelled: pass --adopt <id>=platform|connect for it, or delete it, then run again.`);
    }
    for (const plan of plans) {
      const metadata = { [ENDPOINT_METADATA_KEY]: plan.kind };
      if (plan.action === 'create') {
        const endpoint = await stripeRequest<WebhookEndpoint>(target, 'POST', '/v1/webhook_endpoints', {
          url,
          enabled_events: plan.events,
          ...(plan.kind === 'connect' ? { connect: true } : {}),
          ...(apiVersion ? { api_version: apiVersion } : {}),
          description: `stripe-flows ${plan.kind} endpoint (managed by stripe-flows endpoints sync)`,
          metadata,
        });
        created.push({ kind: plan.kind, id: endpoint.id, secret: endpoint.secret ?? null });
      } else if (plan.action === 'update' && plan.endpointId) {
        await stripeRequest(target, 'POST', `/v1/webhook_endpoints/${plan.endpointId}`, {
          enabled_events: plan.events,
          ...(plan.enable ? { disabled: false } : {}),
          ...(plan.label ? { metadata } : {}),
        });
        updated.push({ kind: plan.kind, id: plan.endpointId });
      }
    }
    for (const u of updated) out(`Updated the ${u.kind} endpoint ${u.id}.`);
    for (const c of created) {
      out(`Created the ${c.kind} endpoint ${c.id}. Its signing secret, shown this once:`);
      out(`  ${c.secret ?? '(Stripe returned none)'}`);
      out(`  Add it to STRIPE_WEBHOOK_SECRETS on every receiver (comma-separated, next to the secrets already there), then restart them.`);
    }
  }
  const applied = values.apply === true && pending;
  if (json) {
    console.log(JSON.stringify({
      url,
      stripe: target.kind,
      inSync: !pending || applied,
      applied,
      plans,
      unlabelled: unlabelled.map((e) => e.id),
      duplicates: duplicates.map((e) => e.id),
      untouched: untouched.map((e) => ({ id: e.id, url: e.url })),
      // Shown once: Stripe never returns an endpoint's secret again.
      created,
      updated,
    }, null, 2));
  } else if (!pending) {
    out('In sync: nothing to change.');
  } else if (!values.apply) {
    out(blocked ? 'Changes pending, but resolve the unlabelled endpoint above before --apply.' : 'Changes pending: run again with --apply to make them.');
  }
  if (!pending || applied) return 0;
  return EXIT_CHANGES_PENDING;
}

export const endpoints: Command = {
  name: 'endpoints',
  summary: 'Create or update the Stripe webhook endpoints this deployment needs (endpoints sync).',
  usage: `Usage: stripe-flows endpoints sync --url <public receiver URL> [--apply] [--api-version <v>] [--adopt we_...=platform|connect]... [--json]

Computes the webhook endpoints this deployment needs: the platform endpoint, and a Connect
endpoint (connect=true, events from connected accounts) when Connect routes exist, each with
enabled_events equal to the event types routed to it (DOMAINS selects the domains). Compares them
with the endpoints your Stripe account has at --url and prints the plan: create, add or remove
event types, re-enable, or up to date; endpoints at other URLs are listed and left untouched.
Nothing changes without --apply.

Stripe: STRIPE_SECRET_KEY (a secret key, or a restricted key with write access to Webhook
Endpoints); without it, the dev stack's Stripe API double at STRIPE_API_BASE.

Options:
  --url <url>          the public URL Stripe posts to: your receiver's /webhooks/stripe
  --apply              make the changes; a created endpoint's signing secret (whsec_...) is printed
                       once, here only: add it to STRIPE_WEBHOOK_SECRETS on the receivers
  --api-version <v>    API version new endpoints render events in (e.g. 2025-03-31.basil); Stripe
                       cannot change it on an existing endpoint
  --adopt we_...=kind  take over an endpoint at --url created elsewhere (Dashboard, Stripe CLI) as
                       the platform or connect endpoint; sync labels the endpoints it manages with
                       metadata[${ENDPOINT_METADATA_KEY}], since Stripe does not show the connect flag
  --json               machine-readable plan (includes a created endpoint's secret)

Exit code: 0 in sync (or changes applied), 3 changes pending without --apply (for CI), 1 on an
error, 2 for a usage error.

Examples:
  stripe-flows endpoints sync --url https://flows.example.com/webhooks/stripe
  STRIPE_SECRET_KEY=rk_live_... stripe-flows endpoints sync --url https://flows.example.com/webhooks/stripe --apply`,
  run: sync,
};
