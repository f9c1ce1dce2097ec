// `stripe-flows endpoints sync` against the Stripe API double, as an operator runs it: the plan
// without --apply (exit 3), --apply (secrets shown once), a second run in sync (exit 0), drift
// repaired, an endpoint created elsewhere adopted, endpoints at other URLs left alone.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouteRegistry } from '@stripe-flows/core';
import { StripeApiDouble } from '@stripe-flows/testing';
import { builtInDomains } from '@stripe-flows/workers';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const registry = new RouteRegistry(builtInDomains);
const URL_A = 'https://flows.example.com/webhooks/stripe';

let double: StripeApiDouble;
let stripe: ReturnType<StripeApiDouble['client']>;

beforeAll(async () => {
  double = await StripeApiDouble.start();
  stripe = double.client();
});
afterAll(async () => {
  await double.stop();
});

/** Runs the CLI without blocking this process (the double answers from it). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const { STRIPE_SECRET_KEY: _key, DOMAINS: _domains, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { env: { ...base, STRIPE_API_BASE: double.url, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const endpointsAt = async (url: string) => (await stripe.webhookEndpoints.list({ limit: 100 })).data.filter((e) => e.url === url);
const posts = () => double.sideEffects({ path: /^\/v1\/webhook_endpoints/ }).length;

describe('stripe-flows endpoints sync', () => {
  it('plans, applies, then finds everything in sync', async () => {
    const plan = await cli(['endpoints', 'sync', '--url', URL_A]);
    expect(plan.status, plan.stderr).toBe(3);
    expect(plan.stdout).toMatch(/platform +create +15 event types: billing\.alert\.triggered/);
    expect(plan.stdout).toMatch(/connect +create \(connect=true\) +5 event types: account\.application\.deauthorized, account\.updated, capability\.updated, payout\.failed, payout\.paid/);
    expect(plan.stdout).toContain('Changes pending: run again with --apply to make them.');
    expect(posts()).toBe(0);

    const applied = await cli(['endpoints', 'sync', '--url', URL_A, '--apply', '--api-version', '2025-03-31.basil']);
    expect(applied.status, applied.stderr).toBe(0);
    const secrets = applied.stdout.match(/whsec_[A-Za-z0-9]+/g) ?? [];
    expect(secrets).toHaveLength(2);
    expect(applied.stdout).toContain('Add it to STRIPE_WEBHOOK_SECRETS on every receiver');
    const created = await endpointsAt(URL_A);
    const byKind = Object.fromEntries(created.map((e) => [e.metadata.stripe_flows_endpoint, e]));
    expect(byKind.platform?.enabled_events).toEqual(registry.eventTypesFor('platform'));
    expect(byKind.connect?.enabled_events).toEqual(registry.eventTypesFor('connect'));
    expect(created.every((e) => e.api_version === '2025-03-31.basil' && e.status === 'enabled')).toBe(true);
    // The Connect endpoint was created with connect=true; the platform one without it.
    const creates = double.sideEffects({ method: 'POST', path: '/v1/webhook_endpoints' });
    expect(creates.map((r) => r.params.connect ?? 'unset').sort()).toEqual(['true', 'unset']);

    const again = await cli(['endpoints', 'sync', '--url', URL_A]);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/platform +we_\w+ +up to date \(15 event types\)/);
    expect(again.stdout).toContain('In sync: nothing to change.');
    expect(again.stdout).not.toContain('whsec_');
    expect(posts()).toBe(2);
  });

  it('repairs a drifted endpoint (events added and removed, re-enabled) only with --apply', async () => {
    const [connect] = (await endpointsAt(URL_A)).filter((e) => e.metadata.stripe_flows_endpoint === 'connect');
    if (!connect) throw new Error('the first test creates the connect endpoint');
    await stripe.webhookEndpoints.update(connect.id, { enabled_events: ['payout.failed', 'charge.succeeded'], disabled: true });
    const plan = await cli(['endpoints', 'sync', '--url', URL_A]);
    expect(plan.status).toBe(3);
    expect(plan.stdout).toContain(`${connect.id}`);
    expect(plan.stdout).toMatch(/add 4: account\.application\.deauthorized, account\.updated, capability\.updated, payout\.paid; remove 1: charge\.succeeded; re-enable/);
    expect((await stripe.webhookEndpoints.retrieve(connect.id)).status).toBe('disabled');

    const applied = await cli(['endpoints', 'sync', '--url', URL_A, '--apply', '--json']);
    expect(applied.status, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ inSync: true, applied: true, created: [], updated: [{ kind: 'connect', id: connect.id }] });
    expect(await stripe.webhookEndpoints.retrieve(connect.id)).toMatchObject({ enabled_events: registry.eventTypesFor('connect'), status: 'enabled' });
    expect((await cli(['endpoints', 'sync', '--url', URL_A])).status).toBe(0);
  });

  it('leaves other URLs alone, and adopts an endpoint created elsewhere only when told which it is', async () => {
    const urlB = 'https://flows-b.example.com/webhooks/stripe';
    const other = await stripe.webhookEndpoints.create({ url: 'https://crm.example.com/stripe', enabled_events: ['customer.created'] });
    const dashboard = await stripe.webhookEndpoints.create({ url: urlB, enabled_events: ['invoice.paid'] });
    const env = { DOMAINS: 'billing' }; // billing only: just the platform endpoint

    const plan = await cli(['endpoints', 'sync', '--url', urlB], env);
    expect(plan.status).toBe(3);
    expect(plan.stdout).not.toMatch(/^ {2}connect/m);
    expect(plan.stdout).toContain(`${dashboard.id}`);
    expect(plan.stdout).toContain(`--adopt ${dashboard.id}=platform`);
    expect(plan.stdout).toMatch(new RegExp(`untouched +${other.id} +https://crm\\.example\\.com/stripe`));
    const refused = await cli(['endpoints', 'sync', '--url', urlB, '--apply'], env);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`Not creating a second endpoint at ${urlB} while ${dashboard.id} there is unlabelled`);

    const adopted = await cli(['endpoints', 'sync', '--url', urlB, '--apply', '--adopt', `${dashboard.id}=platform`], env);
    expect(adopted.status, adopted.stderr).toBe(0);
    expect(await stripe.webhookEndpoints.retrieve(dashboard.id)).toMatchObject({
      enabled_events: registry.eventTypesFor('platform').filter((t) => !t.startsWith('charge.')),
      metadata: { stripe_flows_endpoint: 'platform' },
    });
    expect(await endpointsAt(urlB)).toHaveLength(1);
    expect(await stripe.webhookEndpoints.retrieve(other.id)).toMatchObject({ enabled_events: ['customer.created'] });
    expect((await cli(['endpoints', 'sync', '--url', urlB], env)).status).toBe(0);
  });

  it('says what is wrong: usage errors (exit 2), no Stripe to talk to (exit 1)', async () => {
    const [noUrl, badAdopt, unknown, nothing] = await Promise.all([
      cli(['endpoints', 'sync']),
      cli(['endpoints', 'sync', '--url', URL_A, '--adopt', 'we_1=both']),
      cli(['endpoints', 'prune']),
      cli(['endpoints', 'sync', '--url', URL_A], { STRIPE_API_BASE: 'http://127.0.0.1:9' }),
    ]);
    expect(noUrl.status).toBe(2);
    expect(noUrl.stderr).toContain('endpoints sync needs --url');
    expect(badAdopt.stderr).toContain('expected we_...=platform or we_...=connect');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown endpoints command "prune"');
    expect(nothing.status).toBe(1);
    expect(nothing.stderr).toContain('No STRIPE_SECRET_KEY, and no Stripe API double answers at http://127.0.0.1:9');
  });
});
