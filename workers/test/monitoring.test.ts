// Monitoring in Temporal UI, for every start route of every built-in domain: a realistic event
// (Stripe's example objects, the Stripe API double seeded to match) goes through the real
// dispatcher to the real workers, and the flow is then found by each search attribute an operator
// would type in the UI's query box, shows a readable summary, and — once the worker ran it — its
// current step as current details. Payloads are encrypted, as in production: the summary and the
// current details are read through the same data converter the UI reaches via the codec endpoint.
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  dataConverterFor,
  Dispatcher,
  FlowDomainKey,
  FlowStatusKey,
  parseEncryptionKeys,
  RouteRegistry,
  StripeAccountIdKey,
  StripeCustomerIdKey,
  stripeEventEnvelopeSchema,
  StripeObjectIdKey,
  type FlowStatus,
} from '@stripe-flows/core';
import { buildEvent, createDevServerEnv, failedInvoice, stripeId, StripeApiDouble } from '@stripe-flows/testing';
import { builtInDomains, createDomainWorkers } from '../src/index.js';

type Json = Record<string, unknown>;

/** One start route driven end to end, and what an operator must then see. */
interface Scenario {
  /** `<event type> → <domain>.<flow>`, as the route table names it. */
  route: string;
  event: Json;
  workflowId: string;
  /** StripeObjectId once the flow ran (the usage alert flow narrows it to the alert's id). */
  objectId: string;
  domain: string;
  /** Absent: the flow must not carry the attribute (nothing wrong is set). */
  customerId?: string;
  accountId?: string;
  /** FlowStatus once the worker has handled the event. */
  status: FlowStatus;
  summary: RegExp;
  currentDetails: RegExp;
}

/** What the SDK's built-in `__temporal_workflow_metadata` query answers (Temporal UI reads it too). */
interface WorkflowMetadata {
  definition?: { type: string };
  currentDetails?: string;
}

const keys = parseEncryptionKeys(`k-monitoring:${randomBytes(32).toString('base64')}`);
const registry = new RouteRegistry(builtInDomains);
let env: TestWorkflowEnvironment;
let stripe: StripeApiDouble;
let client: Client;
let dispatcher: Dispatcher;
let workers: Worker[];
let running: Promise<unknown>;
let scenarios: Scenario[];

beforeAll(async () => {
  [env, stripe] = await Promise.all([createDevServerEnv(), StripeApiDouble.start()]);
  const dataConverter = dataConverterFor({ PAYLOAD_ENCRYPTION_KEYS: keys });
  client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', ...(dataConverter ? { dataConverter } : {}) });
  workers = await createDomainWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    domains: builtInDomains,
    deps: { stripe: stripe.client(), notifier: { notify: async () => undefined } },
    bundleDir: join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundles'),
    ...(dataConverter ? { dataConverter } : {}),
  });
  running = Promise.all(workers.map((w) => w.run()));
  dispatcher = new Dispatcher({ client, registry, deadlineMs: 10_000 });
  scenarios = seedScenarios(stripe);
});
afterAll(async () => {
  for (const w of workers ?? []) w.shutdown();
  await running;
  await stripe?.stop();
  await env?.teardown();
});

/** Every start route's scenario, with the Stripe API double holding the objects the flows read. */
function seedScenarios(double: StripeApiDouble): Scenario[] {
  const now = Math.floor(Date.now() / 1000);
  const id = (o: Json) => o.id as string;

  const failed = failedInvoice();
  const actionRequired = failedInvoice({ amount_due: 990, amount_remaining: 990, currency: 'eur' });
  const draftCustomer = stripeId('cus');
  const draft = { id: stripeId('in'), status: 'draft', billing_reason: 'subscription_cycle', customer: draftCustomer, currency: 'usd', auto_advance: true, collection_method: 'charge_automatically' };
  for (const invoice of [failed, actionRequired, draft]) double.seed('invoice', invoice as { id: string });

  const alertCustomer = stripeId('cus');
  const alertCreated = now - 60;

  const trialCustomer = stripeId('cus');
  const trial = { id: stripeId('sub'), customer: trialCustomer, status: 'trialing', trial_end: now + 3 * 86_400, collection_method: 'charge_automatically', default_payment_method: null, default_source: null };
  double.seed('customer', { id: trialCustomer, invoice_settings: { default_payment_method: null }, default_source: null });
  double.seed('subscription', trial);

  // Connect: accounts onboarding (one from account.updated, one from capability.updated).
  const onboarding = stripeId('acct');
  const capability = stripeId('acct');
  const unfinished = { charges_enabled: false, payouts_enabled: false, details_submitted: false };
  double.seed('account', { id: onboarding, ...unfinished });
  double.seed('account', { id: capability, ...unfinished });

  // A destination charge fully refunded: its transfer is reversed.
  const destination = stripeId('acct');
  const chargeCustomer = stripeId('cus');
  const transfer = { id: stripeId('tr'), amount: 8_000, currency: 'usd', destination };
  const refunded = { id: stripeId('ch'), amount: 10_000, amount_refunded: 10_000, refunded: true, currency: 'usd', customer: chargeCustomer, transfer: transfer.id, transfer_data: { destination, amount: null }, transfer_group: null };
  double.seed('account', { id: destination });
  double.seed('transfer', transfer);
  double.seed('charge', refunded);
  double.seed('refund', { id: stripeId('re'), charge: refunded.id, amount: 10_000, status: 'succeeded', created: now - 30, transfer_reversal: null });

  // A lost dispute of a destination charge, as Stripe sends it: the charge by id only.
  const disputedDestination = stripeId('acct');
  const disputedTransfer = { id: stripeId('tr'), amount: 4_000, currency: 'usd', destination: disputedDestination };
  const disputed = { id: stripeId('ch'), amount: 5_000, amount_refunded: 0, currency: 'usd', transfer: disputedTransfer.id, transfer_data: { destination: disputedDestination, amount: null }, transfer_group: null };
  double.seed('account', { id: disputedDestination });
  double.seed('transfer', disputedTransfer);
  double.seed('charge', disputed);
  const dispute = { id: stripeId('dp'), charge: disputed.id, amount: 5_000, currency: 'usd', status: 'lost', created: now - 10 };

  // A connected account's payout that failed.
  const payoutAccount = stripeId('acct');
  const bank = stripeId('ba');
  const payout = { id: stripeId('po'), amount: 4_200, currency: 'usd', status: 'failed', failure_code: 'account_closed', destination: bank, created: now - 120 };
  double.seed('account', { id: payoutAccount });
  double.seed('bank_account', { id: bank, account: payoutAccount, status: 'errored' });
  double.seed('payout', payout, { stripeAccount: payoutAccount });

  return [
    {
      route: 'invoice.payment_failed → billing.dunning',
      event: buildEvent('invoice.payment_failed', { object: failed }),
      workflowId: `billing.dunning:${id(failed)}`,
      objectId: id(failed),
      domain: 'billing',
      customerId: failed.customer as string,
      status: 'waiting',
      summary: new RegExp(`^Dunning of invoice ${id(failed)} for ${failed.customer as string} \\(42\\.00 USD due\\): payment attempt 1 failed$`),
      currentDetails: new RegExp(`^Waiting for payment of ${id(failed)}; next: send reminder at `),
    },
    {
      route: 'invoice.payment_action_required → billing.dunning',
      event: buildEvent('invoice.payment_action_required', { object: actionRequired }),
      workflowId: `billing.dunning:${id(actionRequired)}`,
      objectId: id(actionRequired),
      domain: 'billing',
      customerId: actionRequired.customer as string,
      status: 'waiting',
      summary: /\(9\.90 EUR due\): the customer must authenticate the payment$/,
      currentDetails: new RegExp(`^Waiting for payment of ${id(actionRequired)}; next: send reminder at `),
    },
    {
      route: 'invoice.created → billing.assembly',
      event: buildEvent('invoice.created', { object: draft }),
      workflowId: `billing.assembly:${draft.id}`,
      objectId: draft.id,
      domain: 'billing',
      customerId: draftCustomer,
      status: 'waiting',
      summary: new RegExp(`^Assembly of draft invoice ${draft.id} for ${draftCustomer} \\(subscription_cycle\\)$`),
      currentDetails: new RegExp(`^Assembled ${draft.id}: 0 charge\\(s\\) added`),
    },
    {
      route: 'billing.alert.triggered → billing.alert',
      event: buildEvent('billing.alert.triggered', { object: { customer: alertCustomer, created: alertCreated, value: 120 } }),
      workflowId: `billing.alert:obj_123:${alertCustomer}:${alertCreated}`,
      objectId: 'obj_123',
      domain: 'billing',
      customerId: alertCustomer,
      status: 'completed',
      summary: new RegExp(`^Usage alert obj_123 for ${alertCustomer}: 120 \\(threshold 102680\\)$`),
      currentDetails: new RegExp(`^Alert obj_123 for ${alertCustomer}: notified \\(customer, operator\\)`),
    },
    {
      route: 'customer.subscription.trial_will_end → billing.trial',
      event: buildEvent('customer.subscription.trial_will_end', { object: trial }),
      workflowId: `billing.trial:${trial.id}`,
      objectId: trial.id,
      domain: 'billing',
      customerId: trialCustomer,
      status: 'waiting',
      summary: new RegExp(`^Trial of ${trial.id} for ${trialCustomer} ends ${new Date(trial.trial_end * 1000).toISOString()}$`),
      currentDetails: new RegExp(`^No payment method for ${trial.id}; next: remind customer \\(48 h before trial end\\)`),
    },
    {
      route: 'account.updated → connect.onboarding',
      event: buildEvent('account.updated', { account: onboarding, object: { id: onboarding, ...unfinished } }),
      workflowId: `connect.onboarding:${onboarding}`,
      objectId: onboarding,
      domain: 'connect',
      accountId: onboarding,
      status: 'waiting',
      summary: new RegExp(`^Connect onboarding of ${onboarding}$`),
      currentDetails: new RegExp(`^Due from ${onboarding}: `),
    },
    {
      route: 'capability.updated → connect.onboarding',
      event: buildEvent('capability.updated', { account: capability, object: { account: capability } }),
      workflowId: `connect.onboarding:${capability}`,
      objectId: capability,
      domain: 'connect',
      accountId: capability,
      status: 'waiting',
      summary: new RegExp(`^Connect onboarding of ${capability}$`),
      currentDetails: new RegExp(`^Due from ${capability}: `),
    },
    {
      route: 'charge.refunded → connect.reversal',
      event: buildEvent('charge.refunded', { object: refunded }),
      workflowId: `connect.reversal:${refunded.id}`,
      objectId: refunded.id,
      domain: 'connect',
      customerId: chargeCustomer,
      accountId: destination,
      status: 'completed',
      summary: new RegExp(`^Transfer reversal for ${refunded.id}: 100\\.00 USD of 100\\.00 USD refunded$`),
      currentDetails: new RegExp(`^Everything refunded on ${refunded.id} was given back\\.$`),
    },
    {
      route: 'charge.dispute.closed → connect.reversal',
      event: buildEvent('charge.dispute.closed', { object: dispute }),
      workflowId: `connect.reversal:${disputed.id}`,
      objectId: disputed.id,
      domain: 'connect',
      // The event names neither the charge's customer nor its destination (see the README).
      status: 'completed',
      summary: new RegExp(`^Transfer reversal for ${disputed.id}: dispute ${dispute.id} lost \\(50\\.00 USD\\)$`),
      currentDetails: new RegExp(`^Everything refunded on ${disputed.id} was given back\\.$`),
    },
    {
      route: 'payout.failed → connect.payout',
      event: buildEvent('payout.failed', { account: payoutAccount, object: payout }),
      workflowId: `connect.payout:${payout.id}`,
      objectId: payout.id,
      domain: 'connect',
      accountId: payoutAccount,
      status: 'waiting',
      summary: new RegExp(`^Failed payout ${payout.id} of ${payoutAccount}: 42\\.00 USD \\(account_closed\\)$`),
      currentDetails: new RegExp(`^Waiting for ${payoutAccount} to add an external account$`),
    },
  ];
}

/** Workflow ids a visibility query finds, polled until `workflowId` is among them (visibility lags). */
async function findWith(query: string, workflowId: string): Promise<string[]> {
  return poll(async () => {
    const found: string[] = [];
    for await (const wf of client.workflow.list({ query })) found.push(wf.workflowId);
    return found;
  }, (found) => found.includes(workflowId));
}

/** The last value `read` gave, polled until `done` holds or the time is up. */
async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('monitoring in Temporal UI', () => {
  it('has a scenario for every start route of every built-in domain', () => {
    const startRoutes = registry.table().filter((r) => r.mode === 'start').map((r) => `${r.eventType} → ${r.domain}.${r.flow}`);
    expect(scenarios.map((s) => s.route).sort()).toEqual(startRoutes.sort());
  });

  it('shows the step a flow starts in as its current details until its first step says more', async () => {
    // Stripe is slow to answer: the flow is still reading the invoice when the operator looks.
    const invoice = failedInvoice();
    stripe.seed('invoice', invoice as { id: string });
    stripe.inject({ method: 'GET', path: `/v1/invoices/${invoice.id as string}`, fault: { type: 'delay', ms: 3_000 } });
    await dispatcher.dispatch(stripeEventEnvelopeSchema.parse(buildEvent('invoice.payment_failed', { object: invoice })));
    const handle = client.workflow.getHandle(`billing.dunning:${invoice.id as string}`);
    const details = await poll(async () => (await handle.query<WorkflowMetadata>('__temporal_workflow_metadata')).currentDetails ?? '', (d) => d !== '');
    expect(details).toBe('Checking invoice');
  });

  it('finds every flow by its Stripe ids, domain and status, with a summary and its current step', async () => {
    for (const scenario of scenarios) {
      const outcomes = await dispatcher.dispatch(stripeEventEnvelopeSchema.parse(scenario.event));
      expect(outcomes, scenario.route).toEqual([expect.objectContaining({ workflowId: scenario.workflowId, result: 'delivered' })]);
    }

    for (const s of scenarios) {
      const handle = client.workflow.getHandle(s.workflowId);
      // The worker ran the flow to where it waits (or ends): FlowStatus says so.
      const byStatus = `FlowStatus = '${s.status}' AND StripeObjectId = '${s.objectId}'`;
      expect(await findWith(byStatus, s.workflowId), `${s.route}: ${byStatus}`).toContain(s.workflowId);

      const queries = [
        `StripeObjectId = '${s.objectId}'`,
        `FlowDomain = '${s.domain}'`,
        `FlowStatus = '${s.status}'`,
        ...(s.customerId ? [`StripeCustomerId = '${s.customerId}'`] : []),
        ...(s.accountId ? [`StripeAccountId = '${s.accountId}'`] : []),
      ];
      for (const query of queries) expect(await findWith(query, s.workflowId), `${s.route}: ${query}`).toContain(s.workflowId);

      const description = await handle.describe();
      const attributes = description.typedSearchAttributes;
      expect(attributes.get(StripeObjectIdKey), s.route).toBe(s.objectId);
      expect(attributes.get(FlowDomainKey), s.route).toBe(s.domain);
      expect(attributes.get(FlowStatusKey), s.route).toBe(s.status);
      expect(attributes.get(StripeCustomerIdKey), s.route).toBe(s.customerId);
      expect(attributes.get(StripeAccountIdKey), s.route).toBe(s.accountId);

      // The one-line summary set at start (user metadata, decrypted by the client's codec).
      expect(await description.staticSummary(), s.route).toMatch(s.summary);
      // The current step, as Temporal UI's "Current details" reads it (the flow may still be moving on to it).
      const details = await poll(async () => (await handle.query<WorkflowMetadata>('__temporal_workflow_metadata')).currentDetails ?? '', (d) => s.currentDetails.test(d));
      expect(details, s.route).toMatch(s.currentDetails);
    }
  });
});
