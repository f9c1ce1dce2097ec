// Temporal UI as an operator uses it, in a real browser (playwright-core driving Debian's
// chromium): `stripe-flows dev` runs the whole stack, a signed invoice.payment_failed starts
// dunning, the UI's workflow list filtered by the invoice id shows the flow running, and its page
// shows the summary, the current step and the payloads decrypted through the codec endpoint.
// Screenshots land in test-artifacts/ (the README's images are copied from there).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { buildEvent, failedInvoice, signedHeaders } from '@stripe-flows/testing';
import { DEV_WEBHOOK_SECRET } from '../src/config.js';
import { startDevStack, type DevStack } from './dev-stack.js';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, '..', 'test-artifacts');
// Ports of its own: dev.test.ts runs the same stack on 14242/17233/18233/22111/18234.
const ports = { RECEIVER_PORT: '24242', TEMPORAL_PORT: '27233', TEMPORAL_UI_PORT: '28233', STRIPE_DOUBLE_PORT: '32111', CODEC_PORT: '28234' };
const ui = `http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`;
const dataDir = mkdtempSync(join(tmpdir(), 'stripe-flows-ui-'));
const profileDir = mkdtempSync(join(tmpdir(), 'stripe-flows-chromium-'));
let stack: DevStack | undefined;
let browser: BrowserContext | undefined;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  rmSync(join(artifacts, 'temporal-ui-failure.png'), { force: true });
  stack = await startDevStack({ ports, dataDir, timeoutMs: 50_000 });
  // A fresh profile: no cached UI settings or data encoder overrides from an earlier run.
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1600, height: 1000 },
    timezoneId: 'UTC',
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profileDir, { recursive: true, force: true });
}, 30_000);

/** Polls `locator` until it is visible, running `retry` (reload, refresh) between looks. */
async function waitVisible(locator: Locator, retry: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await locator.first().waitFor({ state: 'visible', timeout: 5_000 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await retry();
    }
  }
}

/**
 * Polls until `text` is visible in one of the page's frames: the UI renders summaries and current
 * details as Markdown, each in its own iframe. `retry` runs between looks.
 */
async function inSomeFrame(page: Page, text: string | RegExp, retry: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if (await frame.getByText(text).first().isVisible().catch(() => false)) return;
    }
    if (Date.now() > deadline) throw new Error(`"${String(text)}" did not show in any frame of ${page.url()} within ${timeoutMs} ms.`);
    await retry();
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** No payload left encrypted: its encoding would show as text or base64 (`YmluYXJ5L2VuY3J5cHRlZA`). */
async function expectNoCiphertext(page: Page): Promise<void> {
  const html = await page.content();
  expect(html).not.toContain('binary/encrypted');
  expect(html).not.toContain(Buffer.from('binary/encrypted').toString('base64').slice(0, 20));
}

/** A screenshot into test-artifacts/; `height` crops the window to what the picture needs. */
async function shot(page: Page, name: string, height?: number): Promise<void> {
  const size = page.viewportSize();
  if (height && size) await page.setViewportSize({ width: size.width, height });
  await page.screenshot({ path: join(artifacts, name) });
  if (height && size) await page.setViewportSize(size);
}

describe('Temporal UI (dev stack, real browser)', () => {
  it('lists the flow by its Stripe id and shows its summary, current step and decrypted payloads', async () => {
    const invoice = failedInvoice();
    const invoiceId = invoice.id as string;
    const workflowId = `billing.dunning:${invoiceId}`;
    // The Stripe API double holds the invoice the flow reads, as Stripe would.
    const seeded = await fetch(`http://127.0.0.1:${ports.STRIPE_DOUBLE_PORT}/__double/seed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resource: 'invoice', object: invoice }) });
    expect(seeded.status).toBe(200);
    const event = buildEvent('invoice.payment_failed', { object: invoice });
    const payload = JSON.stringify(event);
    const response = await fetch(`http://127.0.0.1:${ports.RECEIVER_PORT}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, DEV_WEBHOOK_SECRET), body: payload });
    expect(response.status).toBe(200);

    const page = browser!.pages()[0] ?? (await browser!.newPage());
    page.setDefaultTimeout(15_000);
    try {
      await operatorLooks(page, { invoiceId, workflowId, customerId: invoice.customer as string, eventId: event.id as string });
    } catch (error) {
      // What the browser showed when it failed, for whoever reads the CI artifacts.
      await shot(page, 'temporal-ui-failure.png').catch(() => undefined);
      throw error;
    }
  });
});

/** The operator's walk through the UI, asserting what they must see at each step. */
async function operatorLooks(page: Page, ids: { invoiceId: string; workflowId: string; customerId: string; eventId: string }): Promise<void> {
  const { invoiceId, workflowId, customerId, eventId } = ids;

  // The workflow list, filtered by the Stripe id as an operator types it in the query box.
  const list = `${ui}/namespaces/default/workflows?query=${encodeURIComponent(`StripeObjectId="${invoiceId}"`)}`;
  await page.goto(list);
  const row = page.getByTestId('workflows-summary-configurable-table-row').filter({ hasText: workflowId });
  await waitVisible(row, () => page.reload(), 30_000);
  await expect(row.getByTestId('execution-status').innerText()).resolves.toMatch(/^running$/i);
  expect(await page.getByTestId('workflows-summary-configurable-table-row').count()).toBe(1);
  await expect(row.getByText('collectInvoicePayment').isVisible()).resolves.toBe(true);
  await shot(page, 'temporal-ui-workflows.png', 480);

  // The flow's page: the input, decrypted in the browser through the codec endpoint.
  await row.getByRole('link', { name: workflowId }).click();
  await page.getByTestId('workflow-id-heading').filter({ hasText: workflowId }).waitFor();
  const input = page.getByTestId('input-and-result');
  await input.getByText(`"${invoiceId}"`).waitFor();
  expect(await input.innerText()).toContain('objectId');
  await expectNoCiphertext(page);
  // The UI's data encoder indicator: the codec endpoint answered.
  await page.getByTestId('data-encoder-status-success').waitFor({ state: 'attached' });

  // User metadata: the summary set at start and the current step (the UI queries the running flow; R refreshes).
  await page.getByTestId('user-metadata-tab').click();
  await inSomeFrame(page, `Dunning of invoice ${invoiceId} for ${customerId} (42.00 USD due): payment attempt 1 failed`, async () => undefined, 15_000);
  await inSomeFrame(page, new RegExp(`Waiting for payment of ${invoiceId}; next: send reminder at`), () => page.keyboard.press('r'), 20_000);
  await shot(page, 'temporal-ui-flow.png', 640);

  // Event history: the signal carries the event's projection, decrypted too.
  await page.getByTestId('history-tab').click();
  // Oldest first: the signal that started the flow is at the top.
  await page.getByRole('button', { name: 'Descending' }).click();
  const signaled = page.getByTestId('event-summary-row').filter({ hasText: 'Workflow Execution Signaled' });
  await signaled.waitFor();
  await signaled.getByRole('button').first().click();
  const decrypted = page.getByText(eventId).first();
  await decrypted.waitFor();
  await page.getByText('invoice.payment_failed').first().waitFor();
  await expectNoCiphertext(page);
  await shot(page, 'temporal-ui-signal.png');
}
