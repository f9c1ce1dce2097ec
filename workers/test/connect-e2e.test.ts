// Connected-account events end to end: Stripe's Connect endpoint signs with its own secret; the
// receiver verifies it (beside the platform's), the dispatcher carries `event.account` to the
// flow, and the real activities call the Stripe API double as Stripe's docs say they must:
// platform calls for account links, `Stripe-Account` for objects living on the account.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { stateQuery, taskQueueFor, StripeAccountIdKey, type FlowState, type Notification } from '@stripe-flows/core';
import { startReceiver, createLogger, type RunningReceiver } from '@stripe-flows/receiver';
import { buildEvent, createDevServerEnv, signedHeaders, StripeApiDouble } from '@stripe-flows/testing';
import { createConnectDomain, type PayoutFailureDetails } from '@stripe-flows/connect';

const PLATFORM_SECRET = 'whsec_platform_endpoint_e2e';
const CONNECT_SECRET = 'whsec_connect_endpoint_e2e';
const ACCOUNT = 'acct_e2eConnect1';
const links = { refreshUrl: 'https://platform.example/connect/refresh', returnUrl: 'https://platform.example/connect/return' };

let env: TestWorkflowEnvironment;
let double: StripeApiDouble;
let worker: Worker;
let running: Promise<void>;
let receiver: RunningReceiver;
const notices: Notification[] = [];
const domain = createConnectDomain({ onboardingLinks: links });

beforeAll(async () => {
  [env, double] = await Promise.all([createDevServerEnv(), StripeApiDouble.start()]);
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: taskQueueFor('connect'),
    workflowsPath: domain.workflowsPath,
    activities: domain.createActivities({ stripe: double.client(), notifier: { notify: async (n) => void notices.push(n) } }),
  });
  running = worker.run();
  receiver = await startReceiver({
    config: {
      PORT: 0,
      HOST: '127.0.0.1',
      STRIPE_WEBHOOK_SECRETS: [PLATFORM_SECRET, CONNECT_SECRET],
      STRIPE_WEBHOOK_TOLERANCE_SECONDS: 300,
      STRIPE_MODE: 'test',
      WEBHOOK_BODY_LIMIT: '1mb',
      DISPATCH_DEADLINE_MS: 5000,
      SHUTDOWN_GRACE_MS: 1000,
    },
    client: env.client,
    domains: [domain],
    logger: createLogger('silent'),
  });
});
afterAll(async () => {
  await receiver?.close();
  worker?.shutdown();
  await running;
  await Promise.all([double?.stop(), env?.teardown()]);
});

async function post(event: Record<string, unknown>, secret: string): Promise<{ status: number; body: unknown }> {
  const payload = JSON.stringify(event);
  const response = await fetch(`${receiver.url}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, secret), body: payload });
  return { status: response.status, body: await response.json() };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('refuses an event signed with neither configured secret', async () => {
  const result = await post(buildEvent('account.updated', { account: ACCOUNT }), 'whsec_someone_else');
  expect(result).toMatchObject({ status: 400, body: { error: { code: 'no_valid_signature' } } });
});

it('account.updated from the Connect endpoint starts onboarding for event.account, and the link is minted by the platform', async () => {
  double.seed('account', { id: ACCOUNT, charges_enabled: false, payouts_enabled: false, details_submitted: false });
  const event = buildEvent('account.updated', { account: ACCOUNT, object: { id: ACCOUNT, charges_enabled: false, payouts_enabled: false, details_submitted: false } });
  const result = await post(event, CONNECT_SECRET);
  expect(result.status).toBe(200);
  expect(JSON.stringify(result.body)).toContain(`connect.onboarding:${ACCOUNT}`);

  const reminder = await until('the onboarding reminder', () => notices.find((n) => n.kind === 'connect.onboarding.requirements_due'));
  expect(reminder.recipient).toEqual({ role: 'account', accountId: ACCOUNT });
  expect(reminder.data.onboardingUrl).toMatch(new RegExp(`^${double.url}/account_links/`));

  // Account links are created by the platform FOR the account: `account` param, no Stripe-Account.
  const [link] = double.sideEffects({ path: '/v1/account_links' });
  expect(link?.params).toMatchObject({ account: ACCOUNT, type: 'account_onboarding', refresh_url: links.refreshUrl, return_url: links.returnUrl });
  expect(link?.stripeAccount).toBeUndefined();

  const handle = env.client.workflow.getHandle(`connect.onboarding:${ACCOUNT}`);
  const state = (await handle.query(stateQuery)) as FlowState;
  expect(state.details).toMatchObject({ accountId: ACCOUNT, remindersSent: 1 });
  expect((await handle.describe()).typedSearchAttributes.get(StripeAccountIdKey)).toBe(ACCOUNT);
});

it('payout.failed from the Connect endpoint: the flow reads the payout as the connected account (Stripe-Account)', async () => {
  double.seed('payout', { id: 'po_e2eFailed1', amount: 4_200, currency: 'usd', status: 'failed', failure_code: 'account_closed', destination: 'ba_e2eOld' }, { stripeAccount: ACCOUNT });
  double.seed('bank_account', { id: 'ba_e2eOld', account: ACCOUNT, last4: '6789', status: 'errored' });
  const event = buildEvent('payout.failed', { account: ACCOUNT, object: { id: 'po_e2eFailed1', status: 'failed', failure_code: 'account_closed', destination: 'ba_e2eOld' } });
  expect((await post(event, CONNECT_SECRET)).status).toBe(200);

  const notice = await until('the payout failure notice', () => notices.find((n) => n.kind === 'connect.payout.failed' && n.recipient.role === 'account'));
  expect(notice.data).toMatchObject({ payoutId: 'po_e2eFailed1', accountId: ACCOUNT, failureCode: 'account_closed' });
  const read = double.requests.find((r) => r.method === 'GET' && r.path === '/v1/payouts/po_e2eFailed1');
  expect(read).toMatchObject({ stripeAccount: ACCOUNT, status: 200 });
  // External accounts are listed under the account's path, as the platform.
  const external = double.requests.find((r) => r.path === `/v1/accounts/${ACCOUNT}/external_accounts`);
  expect(external?.stripeAccount).toBeUndefined();

  const state = (await env.client.workflow.getHandle('connect.payout:po_e2eFailed1').query(stateQuery)) as FlowState<string, PayoutFailureDetails>;
  expect(state.details).toMatchObject({ account: ACCOUNT, failureCode: 'account_closed' });
});

it('the same event signed with the platform secret is verified too, and a redelivery is dropped by event id', async () => {
  const event = buildEvent('payout.failed', { account: ACCOUNT, object: { id: 'po_e2eFailed1', status: 'failed', failure_code: 'account_closed' } });
  expect((await post(event, PLATFORM_SECRET)).status).toBe(200);
  expect((await post(event, CONNECT_SECRET)).status).toBe(200);
  const handle = env.client.workflow.getHandle('connect.payout:po_e2eFailed1');
  const state = await until('both deliveries', async () => {
    const s = (await handle.query(stateQuery)) as FlowState;
    return s.events.applied + s.events.duplicates >= 3 ? s : undefined;
  });
  expect(state.events).toMatchObject({ applied: 2, duplicates: 1 });
  expect(notices.filter((n) => n.kind === 'connect.payout.failed' && n.recipient.role === 'account')).toHaveLength(1);
});
