// Log hygiene (issue 5, point 5): the real processes — receiver, worker, the dev orchestrator
// and its codec endpoint — at LOG_LEVEL=trace, driven through every path that logs with events
// full of personal data and with real-looking secrets. No canary value may reach a log line, and
// every path must have logged what it should, so the test cannot pass by logging nothing.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { AesGcmPayloadCodec, parseEncryptionKeys } from '@stripe-flows/core';
import { buildEvent, createDevServerEnv, failedInvoice, signPayload, stripeId, StripeApiDouble } from '@stripe-flows/testing';
import { Canaries, findByteDumps, findLeaks, LogCapture, personalFields, poisonedEvent, type Leak } from '../src/logs.js';
import { baseEnv, freePort, packageMain, ProcessSet, waitFor, type ManagedProcess } from '../src/processes.js';

type Json = Record<string, unknown>;

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const cliMain = join(packageDir, '..', 'cli', 'dist', 'main.js');

const c = new Canaries();
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
// Secrets, each a canary: none may be printed by any process.
const platformSecret = c.add('STRIPE_WEBHOOK_SECRETS (platform)', `whsec_${c.tag}${hex(16)}`);
const connectSecret = c.add('STRIPE_WEBHOOK_SECRETS (connect)', `whsec_${c.tag}${hex(16)}`);
const strangerSecret = c.add('a secret this receiver does not hold', `whsec_${c.tag}${hex(16)}`);
const stripeKey = c.add('STRIPE_SECRET_KEY', `sk_test_${c.tag}${hex(20)}`);
const temporalApiKey = c.add('TEMPORAL_API_KEY', `tmprl${c.tag}${hex(24)}`);
const notifyToken = c.add('NOTIFY_WEBHOOK_TOKEN', `ntfy${c.tag}${hex(16)}`);
const codecToken = c.add('CODEC_AUTH_TOKENS', `codec${c.tag}${hex(16)}`);
const authorizationToken = c.add('Authorization header sent to the receiver', `authz${c.tag}${hex(12)}`);
const cookie = c.add('Cookie header sent to the receiver', `session=${c.tag}${hex(12)}`);
const keyMaterial = c.add('PAYLOAD_ENCRYPTION_KEYS (key material)', randomBytes(32).toString('base64'));
const encryptionKeys = `logs-${c.tag}:${keyMaterial}`;

const logs = new LogCapture();
const processes = new ProcessSet();
let env: TestWorkflowEnvironment | undefined;
let temporalDown = false;
let double: StripeApiDouble;
let notifyHook: { server: Server; url: string; received: Array<{ headers: IncomingHttpHeaders; body: Json }>; failNext: number };
let receiver: ManagedProcess;
let worker: ManagedProcess;
let receiverUrl: string;
let dataDir: string;

/** HTTP paths driven that log nothing by design (counted in the summary, checked by status). */
const silentPaths: string[] = [];

function start(name: string, args: string[], vars: Record<string, string>, cwd?: string): ManagedProcess {
  const started = processes.start({ name, command: process.execPath, args, env: { ...baseEnv(), ...vars }, ...(cwd ? { cwd } : {}) });
  logs.attach(name, started.child);
  return started;
}

async function startNotifyHook(): Promise<typeof notifyHook> {
  const hook = { received: [] as Array<{ headers: IncomingHttpHeaders; body: Json }>, failNext: 1 } as typeof notifyHook;
  hook.server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => void (text += chunk.toString('utf8')));
    req.on('end', () => {
      hook.received.push({ headers: req.headers, body: JSON.parse(text) as Json });
      // The first notification is refused, so the notify activity fails once and is retried.
      const status = hook.failNext-- > 0 ? 503 : 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => hook.server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/notify`;
  return hook;
}

let signatures = 0;
/** A signed request; every signature header sent is a canary too. */
function signed(event: Json | string, options: { secret?: string; timestamp?: number } = {}) {
  const payload = typeof event === 'string' ? event : JSON.stringify(event);
  const header = signPayload(payload, options.secret ?? platformSecret, options.timestamp !== undefined ? { timestamp: options.timestamp } : {});
  c.add(`Stripe-Signature header #${++signatures}`, header);
  for (const [, v1] of header.matchAll(/v1=([0-9a-f]+)/g)) c.add(`Stripe-Signature v1 #${signatures}`, v1 ?? '');
  return { payload, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header } };
}

async function post(payload: string | Buffer, headers: Record<string, string>): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${receiverUrl}/webhooks/stripe`, {
    method: 'POST',
    // Headers a proxy or an attacker may add: none of them may be logged.
    headers: { authorization: `Bearer ${authorizationToken}`, cookie, 'x-request-id': c.email('x-request-id header'), ...headers },
    body: payload,
  });
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') ? (JSON.parse(text) as Json) : { text } };
}

async function postSigned(event: Json | string, options: { secret?: string; timestamp?: number } = {}) {
  const { payload, headers } = signed(event, options);
  return post(payload, headers);
}

const deliveries = (body: Json) => (body.deliveries ?? []) as Array<{ result: string; workflowId: string; reason?: string }>;

async function flowStatus(workflowId: string): Promise<string | undefined> {
  return (await env?.client.workflow.getHandle(workflowId).describe().catch(() => undefined))?.status.name;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'stripe-flows-log-hygiene-'));
  [env, double, notifyHook] = await Promise.all([createDevServerEnv(), StripeApiDouble.start(), startNotifyHook()]);
  const receiverPort = await freePort();
  receiverUrl = `http://127.0.0.1:${receiverPort}`;
  receiver = start('receiver', [packageMain('@stripe-flows/receiver')], {
    TEMPORAL_ADDRESS: env.address,
    PORT: String(receiverPort),
    HOST: '127.0.0.1',
    STRIPE_WEBHOOK_SECRETS: `${platformSecret},${connectSecret}`,
    DISPATCH_DEADLINE_MS: '1500',
    WEBHOOK_BODY_LIMIT: '64kb',
    SHUTDOWN_GRACE_MS: '2000',
    PAYLOAD_ENCRYPTION_KEYS: encryptionKeys,
    LOG_LEVEL: 'trace',
  });
  worker = start('worker', [packageMain('@stripe-flows/workers')], {
    TEMPORAL_ADDRESS: env.address,
    STRIPE_API_BASE: double.url,
    STRIPE_TIMEOUT_MS: '5000',
    NOTIFY_WEBHOOK_URL: notifyHook.url,
    NOTIFY_WEBHOOK_TOKEN: notifyToken,
    CONNECT_ONBOARDING_REFRESH_URL: 'http://127.0.0.1:9/onboarding/refresh',
    CONNECT_ONBOARDING_RETURN_URL: 'http://127.0.0.1:9/onboarding/return',
    PAYLOAD_ENCRYPTION_KEYS: encryptionKeys,
    LOG_LEVEL: 'trace',
  });
  await Promise.all([receiver.waitForOutput('receiver listening', 60_000), worker.waitForOutput('workers running', 60_000)]);
});

afterAll(async () => {
  // Ctrl-C first where a process has its own children (dev), then SIGKILL whatever is left.
  for (const p of processes.processes) if (p.running && p.name === 'dev') await p.stop(20_000);
  await processes.killAll();
  await double?.stop();
  await new Promise<void>((resolve) => (notifyHook ? notifyHook.server.close(() => resolve()) : resolve()));
  if (!temporalDown) await env?.teardown();
  rmSync(dataDir, { recursive: true, force: true });
});

// Flows the worker runs (ids fixed up front: faults and seeds are keyed on them).
const account = `acct_${c.tag}logs`;
const retried = failedInvoice({ ...personalFields('invoice', c), customer: stripeId('cus') });
const rejected = failedInvoice({ ...personalFields('invoice', c), customer: stripeId('cus') });
const payoutId = stripeId('po');
const bankId = stripeId('ba');

describe('receiver process', () => {
  it('logs ids, codes and outcomes for every answer, never what the request carried', async () => {
    // Accepted and dispatched: these start the worker's flows below.
    double.seed('invoice', retried as { id: string });
    double.seed('invoice', rejected as { id: string });
    // Stripe's messages echo what they refuse: a 5xx and a 429 that are retried, then a 400.
    double.inject({ method: 'GET', path: `/v1/invoices/${retried.id as string}`, fault: { type: 'status', status: 500, message: `Card 4242424242424242 of ${c.email('stripe 500 message')} could not be charged` } });
    double.inject({ method: 'GET', path: `/v1/invoices/${retried.id as string}`, fault: { type: 'status', status: 429, message: `Too many requests for ${c.phone('stripe 429 message')}` } });
    double.inject({ method: 'GET', path: `/v1/invoices/${rejected.id as string}`, fault: { type: 'status', status: 400, code: 'email_invalid', message: `Invalid email address: ${c.email('stripe 400 message')}` } });
    double.seed('account', { id: account, charges_enabled: false, payouts_enabled: false, details_submitted: false, ...personalFields('account', c) });
    double.seed('bank_account', { id: bankId, account, status: 'errored', ...personalFields('bank_account', c) });
    double.seed('payout', { id: payoutId, amount: 4_200, currency: 'usd', status: 'failed', failure_code: 'account_closed', destination: bankId, ...personalFields('payout', c) }, { stripeAccount: account });

    const actionRequired = await postSigned(poisonedEvent('invoice.payment_action_required', c, { object: retried }));
    expect(actionRequired.status).toBe(200);
    expect(deliveries(actionRequired.body)[0]?.result).toBe('delivered');
    const failed = await postSigned(poisonedEvent('invoice.payment_failed', c, { object: rejected }));
    expect(deliveries(failed.body)[0]?.result).toBe('delivered');
    const payout = await postSigned(poisonedEvent('payout.failed', c, { account, object: { id: payoutId, status: 'failed', failure_code: 'account_closed', destination: bankId } }), { secret: connectSecret });
    expect(deliveries(payout.body)[0]?.result).toBe('delivered');
    const onboarding = await postSigned(poisonedEvent('account.updated', c, { account, object: { id: account, charges_enabled: false, payouts_enabled: false, details_submitted: false } }), { secret: connectSecret });
    expect(deliveries(onboarding.body)[0]?.result).toBe('delivered');
    const alert = buildEvent('billing.alert.triggered', { object: { customer: stripeId('cus'), created: Math.floor(Date.now() / 1000), value: 120 } });
    ((alert.data as Json).object as { alert: Json }).alert.title = c.add('billing.alert.title', `Usage of ${c.email('alert title email')}`);
    expect(deliveries((await postSigned(alert)).body)[0]?.result).toBe('delivered');

    // Quarantined (the flow cannot read the payload), not routed, and routed but ignored.
    const quarantined = await postSigned(poisonedEvent('invoice.payment_failed', c, { object: failedInvoice({ ...personalFields('invoice', c), collection_method: 'by_carrier_pigeon' }) }));
    expect(deliveries(quarantined.body)[0]?.result).toBe('quarantined');
    expect((await postSigned(poisonedEvent('customer.created', c))).body).toMatchObject({ received: true, ignored: true });
    const charge = await postSigned(poisonedEvent('charge.refunded', c, { object: { id: stripeId('ch'), transfer_group: null, transfer_data: null, transfer: null, amount_refunded: 100 } }));
    expect(charge.status).toBe(200);
    const noFlow = await postSigned(poisonedEvent('invoice.voided', c, { object: failedInvoice({ status: 'void' }) }));
    expect(deliveries(noFlow.body)[0]?.result).toBe('ignored');

    // Every rejection class, each with personal data in the body and secrets in the headers.
    const event = poisonedEvent('invoice.payment_failed', c, { object: failedInvoice(personalFields('invoice', c)) });
    const now = Math.floor(Date.now() / 1000);
    const rejections: Array<[string, Promise<{ status: number; body: Json }>]> = [
      ['no_valid_signature', postSigned(event, { secret: strangerSecret })],
      ['timestamp_outside_tolerance', postSigned(event, { timestamp: now - 600 })],
      ['timestamp_outside_tolerance', postSigned(event, { timestamp: now + 600 })],
      ['malformed_signature_header', post(JSON.stringify(event), { 'content-type': 'application/json', 'stripe-signature': c.add('malformed Stripe-Signature', `sig-${c.tag}${hex(20)}`) })],
      ['missing_signature_header', post(JSON.stringify(event), { 'content-type': 'application/json' })],
      ['empty_body', post('', signed('').headers)],
      ['invalid_json', postSigned(`customer_email=${c.email('invalid json body')}&card=4242424242424242`)],
      ['invalid_event', postSigned({ customer_email: c.email('invalid event body'), card: { number: c.digits('invalid event pan', 16, '4000') } })],
      ['livemode_mismatch', postSigned(poisonedEvent('invoice.payment_failed', c, { livemode: true, object: failedInvoice(personalFields('invoice', c)) }))],
      ['unsupported_content_type', post(JSON.stringify(event), { ...signed(event).headers, 'content-type': `text/plain; note=${c.token('content type parameter')}` })],
    ];
    for (const [code, answer] of rejections) {
      const { status, body } = await answer;
      expect({ code, status }).toMatchObject({ code, status: code === 'unsupported_content_type' ? 415 : 400 });
      expect((body.error as Json | undefined)?.code).toBe(code);
    }
    const big = { ...event, padding: `${c.email('oversized body')} `.repeat(3000) };
    const tooLarge = await postSigned(big);
    expect(tooLarge.status).toBe(413);
    silentPaths.push('receiver: body_too_large (413, counted in /metrics only)');
    const encoded = await post(JSON.stringify(event), { ...signed(event).headers, 'content-encoding': 'gzip' });
    expect(encoded.status).toBeGreaterThanOrEqual(400);
    expect(encoded.status).toBeLessThan(500);
    silentPaths.push(`receiver: Content-Encoding gzip (${encoded.status})`);

    await waitFor('the receiver to log every rejection', () => logs.records('receiver', 'webhook rejected').length >= rejections.length, { timeoutMs: 5000 });
    const codes = new Set(logs.records('receiver', 'webhook rejected').map((r) => r.code));
    for (const [code] of rejections) expect(codes).toContain(code);
  });

  it('logs the unexpected-error path with the error message redacted (in-process app, same logger)', async () => {
    // Not reachable from outside (every known failure has its own answer): a dispatcher that
    // throws a plain Error carrying personal data drives it, logging through createLogger.
    const port = await freePort();
    const message = `lookup failed for ${c.email('unexpected error message')} card ${c.digits('unexpected error pan', 16, '4000')}`;
    const script = `
      import { createServer } from 'node:http';
      import { createLogger, createReceiverApp } from '@stripe-flows/receiver';
      const logger = createLogger('trace');
      const app = createReceiverApp({
        dispatcher: { routesFor: () => [{}], dispatch: async () => { throw new Error(process.env.SCENARIO_MESSAGE); } },
        webhookSecrets: [process.env.SCENARIO_SECRET], mode: 'test', logger, isTemporalReachable: async () => true,
      });
      createServer(app).listen(Number(process.env.SCENARIO_PORT), '127.0.0.1', () => logger.info('scenario app listening'));
    `;
    const app = start('receiver-app', ['--input-type=module', '-e', script], { SCENARIO_MESSAGE: message, SCENARIO_SECRET: platformSecret, SCENARIO_PORT: String(port) }, packageDir);
    await app.waitForOutput('scenario app listening', 20_000);
    const { payload, headers } = signed(poisonedEvent('invoice.payment_failed', c, { object: failedInvoice(personalFields('invoice', c)) }));
    const response = await fetch(`http://127.0.0.1:${port}/webhooks/stripe`, { method: 'POST', headers, body: payload });
    expect(response.status).toBe(500);
    await waitFor('the unexpected error line', () => logs.records('receiver-app', 'unexpected receiver error').length > 0, { timeoutMs: 5000 });
    expect(JSON.stringify(logs.records('receiver-app', 'unexpected receiver error'))).toContain('lookup failed for [email] card [number]');
    await app.kill();
  });
});

describe('worker process', () => {
  it('runs flows that notify, retry and fail, logging ids and redacted failures only', async () => {
    const retriedFlow = `billing.dunning:${retried.id as string}`;
    const rejectedFlow = `billing.dunning:${rejected.id as string}`;
    await waitFor('the flow whose Stripe call was rejected to fail', async () => (await flowStatus(rejectedFlow)) === 'FAILED', { timeoutMs: 30_000 });
    const kinds = () => new Set(notifyHook.received.map((n) => n.body.kind as string));
    await waitFor('notifications of every flow', () => ['dunning.action_required', 'connect.payout.failed'].every((k) => kinds().has(k)) && [...kinds()].some((k) => k.startsWith('connect.onboarding')) && [...kinds()].some((k) => k.startsWith('usage_alert') || k.includes('alert')), { timeoutMs: 40_000, detail: () => [...kinds()].join(', ') });

    // The personal data really went through the worker: the notification carries the link.
    const actionRequired = notifyHook.received.find((n) => n.body.kind === 'dunning.action_required');
    expect((actionRequired?.body.data as Json).hostedInvoiceUrl).toBe(retried.hosted_invoice_url);
    expect(actionRequired?.headers.authorization).toBe(`Bearer ${notifyToken}`);
    for (const n of notifyHook.received) {
      const url = (n.body.data as Json).onboardingUrl;
      if (typeof url === 'string') c.add('account link url (minted at run time)', url);
    }

    // A signal-only event ends the retried flow; a redelivery to the failed flow is ignored.
    const paid = await postSigned(poisonedEvent('invoice.paid', c, { object: { ...retried, status: 'paid', amount_remaining: 0 } }));
    expect(deliveries(paid.body)[0]?.result).toBe('delivered');
    await waitFor('the retried flow to end', async () => (await flowStatus(retriedFlow)) === 'COMPLETED', { timeoutMs: 15_000 });
    const redelivered = await postSigned(poisonedEvent('invoice.payment_failed', c, { object: rejected }));
    expect(deliveries(redelivered.body)[0]).toMatchObject({ result: 'ignored', reason: 'flow for this object already ended' });

    // The failure lines keep what an operator needs: the call, the code, the activity.
    const activityFailures = logs.records('worker', 'Activity failed');
    const failureText = JSON.stringify(activityFailures);
    expect(activityFailures.length).toBeGreaterThanOrEqual(4);
    expect(failureText).toContain(`Stripe rejected GET /v1/invoices/${rejected.id as string} (HTTP 400, email_invalid): Invalid email address: [email]`);
    expect(failureText).toContain('stripe.email_invalid');
    expect(failureText).toContain('StripeAPIError');
    expect(failureText).toContain('StripeRateLimitError');
    expect(failureText).toContain('Notification webhook answered 503');
    expect(logs.records('worker', 'Workflow failed').length).toBeGreaterThanOrEqual(1);
    expect(logs.records('worker', 'Activity started').length).toBeGreaterThan(0);
    expect(logs.records('worker', 'notification').length).toBeGreaterThanOrEqual(4);

    // Graceful stop logs its own lines.
    worker.child.kill('SIGINT');
    expect((await worker.exited).code).toBe(0);
    await waitFor('the worker to log its stop', () => logs.records('worker', 'workers stopped').length === 1, { timeoutMs: 5000 });
    expect(logs.records('worker', 'shutting down: finishing running tasks')).toHaveLength(1);
  });

  it('fails to start without printing the credentials it was given', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const runs = [
      // A Stripe key, a Temporal Cloud API key and a notifier token, and no Temporal to reach.
      start('worker-unreachable', [packageMain('@stripe-flows/workers')], {
        TEMPORAL_ADDRESS: closed, TEMPORAL_API_KEY: temporalApiKey, STRIPE_SECRET_KEY: stripeKey,
        NOTIFY_WEBHOOK_URL: 'http://127.0.0.1:9/notify', NOTIFY_WEBHOOK_TOKEN: notifyToken, PAYLOAD_ENCRYPTION_KEYS: encryptionKeys, LOG_LEVEL: 'trace',
      }),
      start('receiver-unreachable', [packageMain('@stripe-flows/receiver')], {
        TEMPORAL_ADDRESS: closed, TEMPORAL_API_KEY: temporalApiKey, STRIPE_WEBHOOK_SECRETS: platformSecret, PAYLOAD_ENCRYPTION_KEYS: encryptionKeys, PORT: '0', LOG_LEVEL: 'trace',
      }),
      // Secrets pasted into the wrong variables: the configuration error names the variable only.
      start('worker-misconfigured', [packageMain('@stripe-flows/workers')], {
        STRIPE_SECRET_KEY: connectSecret, PAYLOAD_ENCRYPTION_KEYS: `k1:${Buffer.from(notifyToken).toString('base64')}`, LOG_LEVEL: 'trace',
      }),
      start('receiver-misconfigured', [packageMain('@stripe-flows/receiver')], { STRIPE_WEBHOOK_SECRETS: `${stripeKey},${platformSecret}`, LOG_LEVEL: 'trace' }),
    ];
    c.add('PAYLOAD_ENCRYPTION_KEYS (bad key material)', Buffer.from(notifyToken).toString('base64'));
    const exits = await Promise.all(runs.map(async (run) => {
      const timer = setTimeout(() => void run.kill(), 30_000);
      const exit = await run.exited;
      clearTimeout(timer);
      return { name: run.name, exit, output: run.output() };
    }));
    for (const { name, exit, output } of exits) {
      expect({ name, code: exit.code }).not.toMatchObject({ code: 0 });
      expect({ name, said: output.length > 0 }).toEqual({ name, said: true });
    }
    expect(exits.find((e) => e.name === 'worker-misconfigured')?.output).toMatch(/Invalid configuration[\s\S]*STRIPE_SECRET_KEY/);
    expect(exits.find((e) => e.name === 'receiver-misconfigured')?.output).toMatch(/Invalid configuration[\s\S]*STRIPE_WEBHOOK_SECRETS/);
  });
});

describe('dev orchestrator', () => {
  it('prints how to reach the stack, never the secrets it was given', async () => {
    // Nothing may be due while dev's own worker polls the same task queues.
    for await (const wf of env!.client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      await env!.client.workflow.getHandle(wf.workflowId, wf.runId).terminate('log hygiene: dev phase').catch(() => undefined);
    }
    const [receiverPort, doublePort, codecPort, uiPort, temporalPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const dev = start('dev', [cliMain, 'dev'], {
      TEMPORAL_ADDRESS: env!.address,
      RECEIVER_PORT: String(receiverPort), STRIPE_DOUBLE_PORT: String(doublePort), CODEC_PORT: String(codecPort),
      TEMPORAL_UI_PORT: String(uiPort), TEMPORAL_PORT: String(temporalPort), STRIPE_FLOWS_DATA_DIR: dataDir,
      STRIPE_WEBHOOK_SECRETS: `${platformSecret},${connectSecret}`, PAYLOAD_ENCRYPTION_KEYS: encryptionKeys, CODEC_AUTH_TOKENS: codecToken,
      NOTIFY_WEBHOOK_TOKEN: notifyToken, LOG_LEVEL: 'trace',
    });
    await dev.waitForOutput('Press Ctrl-C to stop everything.', 90_000);
    expect(dev.output()).toContain('from STRIPE_WEBHOOK_SECRETS');

    // Its receiver takes a signed event; its codec endpoint refuses a stranger and decodes for an operator.
    const { payload, headers } = signed(poisonedEvent('customer.created', c));
    expect((await fetch(`http://127.0.0.1:${receiverPort}/webhooks/stripe`, { method: 'POST', headers, body: payload })).status).toBe(200);
    const codec = new AesGcmPayloadCodec(parseEncryptionKeys(encryptionKeys));
    const [sealed] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(personalFields('customer', c))) }]);
    const wire = { payloads: [{ metadata: Object.fromEntries(Object.entries(sealed?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(sealed?.data ?? []).toString('base64') }] };
    const codecPost = (token: string, body: unknown) =>
      fetch(`http://127.0.0.1:${codecPort}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-namespace': 'default' }, body: JSON.stringify(body) });
    expect((await codecPost(c.add('wrong codec token', `wrong${c.tag}${hex(16)}`), wire)).status).toBe(401);
    expect((await codecPost(codecToken, wire)).status).toBe(200);
    const tampered = { payloads: [{ ...wire.payloads[0], data: Buffer.from(`${c.email('tampered payload')}${hex(24)}`).toString('base64') }] };
    expect((await codecPost(codecToken, tampered)).status).toBeGreaterThanOrEqual(400);

    await dev.stop(30_000);
    expect(dev.output()).toContain('[dev] stopped');
  });
});

describe('Temporal unavailable, then shutdown', () => {
  it('answers 503 and logs it without the event, then stops cleanly', async () => {
    await env!.teardown();
    temporalDown = true;
    const answer = await postSigned(poisonedEvent('invoice.payment_failed', c, { object: failedInvoice(personalFields('invoice', c)) }));
    expect(answer.status).toBe(503);
    receiver.child.kill('SIGINT');
    expect((await receiver.exited).code).toBe(0);
    await waitFor('the receiver to log its stop', () => logs.records('receiver', 'receiver stopped').length === 1, { timeoutMs: 5000 });
    expect(logs.records('receiver', 'temporal unavailable: answering 503 so Stripe retries')).toHaveLength(1);
  });
});

describe('every captured line', () => {
  it('holds no canary, and every path logged what it should', () => {
    const paths: Array<[string, boolean]> = [
      ['receiver: startup', logs.records('receiver', 'receiver listening').length === 1],
      ['receiver: event dispatched (delivered)', logs.records('receiver', 'event dispatched', (r) => JSON.stringify(r.deliveries).includes('"delivered"')).length > 0],
      ['receiver: event dispatched (quarantined)', logs.records('receiver', 'event dispatched', (r) => JSON.stringify(r.deliveries).includes('"quarantined"')).length > 0],
      ['receiver: event dispatched (ignored)', logs.records('receiver', 'event dispatched', (r) => JSON.stringify(r.deliveries).includes('"ignored"')).length > 0],
      ['receiver: event not routed', logs.records('receiver', 'event not routed').length > 0],
      ...['no_valid_signature', 'timestamp_outside_tolerance', 'malformed_signature_header', 'missing_signature_header', 'empty_body', 'invalid_json', 'invalid_event', 'livemode_mismatch', 'unsupported_content_type'].map(
        (code): [string, boolean] => [`receiver: rejected ${code}`, logs.records('receiver', 'webhook rejected', (r) => r.code === code).length > 0],
      ),
      ['receiver: temporal unavailable (503)', logs.records('receiver', /^temporal unavailable/).length > 0],
      ['receiver: unexpected error (500)', logs.records('receiver-app', 'unexpected receiver error').length > 0],
      ['receiver: shutdown', logs.records('receiver', /^shutting down/).length > 0 && logs.records('receiver', 'receiver stopped').length > 0],
      ['worker: startup', logs.records('worker', 'workers running').length > 0 && logs.records('worker', 'Worker state changed').length > 0],
      ['worker: notifications', logs.records('worker', 'notification').length > 0],
      ['worker: activity started/completed (debug)', logs.records('worker', 'Activity completed').length > 0],
      ['worker: retryable activity failures (500, 429, webhook 503)', logs.records('worker', 'Activity failed', (r) => /StripeAPIError|StripeRateLimitError/.test(JSON.stringify(r))).length >= 2],
      ['worker: non-retryable activity failure (400)', logs.records('worker', 'Activity failed', (r) => JSON.stringify(r).includes('stripe.email_invalid')).length > 0],
      ['worker: workflow failed', logs.records('worker', 'Workflow failed').length > 0],
      ['worker: shutdown', logs.records('worker', 'workers stopped').length > 0],
      ['worker: unreachable Temporal at startup', logs.lines('worker-unreachable').length > 0],
      ['receiver: unreachable Temporal at startup', logs.lines('receiver-unreachable').length > 0],
      ['worker: configuration error', logs.lines('worker-misconfigured').some((l) => l.text.includes('Invalid configuration'))],
      ['receiver: configuration error', logs.lines('receiver-misconfigured').some((l) => l.text.includes('Invalid configuration'))],
      ['dev: banner and children', logs.lines('dev').some((l) => l.text.includes('stripe-flows is running')) && logs.lines('dev').some((l) => l.text.includes('receiver listening'))],
      ['dev: codec endpoint (decoded, refused)', logs.lines('dev').some((l) => l.json?.msg === 'codec request') && logs.lines('dev').some((l) => l.json?.msg === 'codec request refused')],
      ['dev: stop', logs.lines('dev').some((l) => l.text.includes('[dev] stopped'))],
    ];
    const leaks: Leak[] = findLeaks(logs.text(), c.list);
    const byteDumps = findByteDumps(logs.text());
    const unseen = paths.filter(([, seen]) => !seen).map(([name]) => name);
    // On failure the whole capture is kept for reading.
    const capture = join(tmpdir(), `stripe-flows-log-hygiene-${c.tag}.log`);
    if (leaks.length || byteDumps.length || unseen.length) writeFileSync(capture, logs.text());
    const sources = [...new Set(logs.lines().map((l) => l.source))];
    const summary = [
      'log hygiene',
      `  lines captured   ${logs.lines().length} (${sources.map((s) => `${s} ${logs.lines(s).length}`).join(', ')})`,
      `  paths covered    ${paths.filter(([, seen]) => seen).length}/${paths.length} logging, plus ${silentPaths.length} that log nothing by design`,
      `  canaries checked ${c.list.length}`,
      `  leaks found      ${leaks.length} (and ${byteDumps.length} lines printing raw bytes)`,
      ...leaks.slice(0, 20).map((l) => `    ${l.label}: ${l.line}`),
      ...byteDumps.slice(0, 5).map((line) => `    raw bytes: ${line}`),
      ...unseen.map((name) => `  NOT SEEN: ${name}`),
      ...(leaks.length || byteDumps.length || unseen.length ? [`  full capture: ${capture}`] : []),
    ].join('\n');
    console.log(summary);
    expect(unseen).toEqual([]);
    expect(leaks).toEqual([]);
    expect(byteDumps).toEqual([]);
  });
});
