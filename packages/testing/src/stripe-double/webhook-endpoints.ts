// Webhook endpoints (`/v1/webhook_endpoints`): create returns the signing secret once and never
// again; `connect` and `api_version` are create-only and, as on Stripe, `connect` is not shown on
// the object. Retrieve, list and delete are the table's generic routes.
import { checkRequired, createFromParams, render } from './crud.js';
import { invalidParam, unknownParam } from './errors.js';
import { isWebhookEventType } from './event-types.js';
import { boolParam, stringParam } from './form.js';
import { applyParams } from './merge.js';
import { pathParam, route, type RequestContext, type Route } from './router.js';
import { newId } from './store.js';

const UPDATABLE = new Set(['description', 'disabled', 'enabled_events', 'metadata', 'url', 'expand']);
const API_VERSION = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

function checkUrl(value: unknown): void {
  const url = stringParam(value);
  let parsed: URL | undefined;
  try {
    parsed = url ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw invalidParam('url', `Invalid URL: ${String(value)}. An endpoint URL must be an absolute http(s) URL, e.g. https://example.com/webhooks/stripe.`, 'url_invalid');
  }
}

function checkEnabledEvents(value: unknown): void {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidParam('enabled_events', 'Invalid enabled_events: must be a non-empty array of event types (or ["*"]).');
  }
  value.forEach((type, i) => {
    if (typeof type !== 'string' || !isWebhookEventType(type)) {
      throw invalidParam(`enabled_events[${i}]`, `Invalid enabled_events[${i}]: ${JSON.stringify(type)} is not an event type Stripe sends (use '*' or a type such as invoice.paid).`);
    }
  });
}

/** `whsec_` + 32 base62 characters, like Stripe's signing secrets. */
const newSecret = (): string => newId('whsec', 32);

function create(ctx: RequestContext): Record<string, unknown> {
  checkRequired('webhook_endpoint', ctx.params);
  checkUrl(ctx.params.url);
  checkEnabledEvents(ctx.params.enabled_events);
  boolParam(ctx.params.connect, 'connect');
  const apiVersion = stringParam(ctx.params.api_version);
  if (ctx.params.api_version !== undefined && (!apiVersion || !API_VERSION.test(apiVersion))) {
    throw invalidParam('api_version', `Invalid api_version: ${String(ctx.params.api_version)}. Use a Stripe API version such as 2025-03-31.basil.`);
  }
  // `connect` decides which events Stripe sends; the object itself does not show it.
  const { connect: _connect, ...params } = ctx.params;
  const endpoint = createFromParams(ctx, 'webhook_endpoint', params, { status: 'enabled' });
  return { ...render(ctx, 'webhook_endpoint', endpoint), secret: newSecret() };
}

function update(ctx: RequestContext): Record<string, unknown> {
  const endpoint = ctx.store.require('webhook_endpoint', pathParam(ctx, 'id'), ctx.account);
  const locked = Object.keys(ctx.params).find((key) => !UPDATABLE.has(key));
  if (locked) throw unknownParam(locked);
  if (ctx.params.url !== undefined) checkUrl(ctx.params.url);
  if (ctx.params.enabled_events !== undefined) checkEnabledEvents(ctx.params.enabled_events);
  const disabled = boolParam(ctx.params.disabled, 'disabled');
  const { disabled: _disabled, ...params } = ctx.params;
  applyParams(endpoint, params);
  if (disabled !== undefined) endpoint.status = disabled ? 'disabled' : 'enabled';
  return render(ctx, 'webhook_endpoint', endpoint);
}

export function webhookEndpointRoutes(): Route[] {
  return [route('POST', '/v1/webhook_endpoints', create), route('POST', '/v1/webhook_endpoints/:id', update)];
}
