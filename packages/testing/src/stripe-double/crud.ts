// Generic create / retrieve / update / delete / list, derived from the resource table, plus the
// helpers resource-specific routes share: param checks, list pagination, rendering, expansion.
import { invalidParam, missingParam, notFound } from './errors.js';
import { intParam, isRecord, stringParam } from './form.js';
import { applyParams } from './merge.js';
import { RESOURCE_NAMES, noun, resourceOfId, spec, type DoubleResource, type ResourceSpec } from './resources.js';
import { pathParam, route, type RequestContext, type Route } from './router.js';
import { idOf, type StripeObject, type Store } from './store.js';

/** Fails with parameter_missing for the first required param that is absent. */
export function checkRequired(resource: DoubleResource, params: Record<string, unknown>, required = spec(resource).required ?? []): void {
  for (const name of required) {
    if (params[name] === undefined || params[name] === '') throw missingParam(name);
  }
}

/** Fails with resource_missing (400) when a param names an object that does not exist. */
export function checkRefs(ctx: RequestContext, resource: DoubleResource, params: Record<string, unknown>): void {
  for (const [param, target] of Object.entries(spec(resource).refs ?? {})) {
    const id = params[param];
    if (typeof id === 'string' && id !== '') ctx.store.require(target as DoubleResource, id, ctx.account, param);
  }
}

/** Creates and stores an object from request params (after required/reference checks). */
export function createFromParams(
  ctx: RequestContext,
  resource: DoubleResource,
  params: Record<string, unknown> = ctx.params,
  extra: Record<string, unknown> = {},
): StripeObject {
  checkRequired(resource, params);
  checkRefs(ctx, resource, params);
  const object = ctx.store.build(resource, params, ctx.account, 'params');
  Object.assign(object, extra);
  ctx.store.normalize(resource, object, { ...params, ...extra }, ctx.account);
  return ctx.store.put(resource, object, ctx.account);
}

/** Applies update params to a stored object. */
export function updateFromParams(ctx: RequestContext, resource: DoubleResource, object: StripeObject): StripeObject {
  checkRefs(ctx, resource, ctx.params);
  applyParams(object, ctx.params);
  ctx.store.normalize(resource, object, ctx.params, ctx.account);
  return object;
}

/**
 * A copy of an object as the API shows it: child collections (a transfer's `reversals`) listed
 * from the store, newest first.
 */
export function view(store: Store, resource: DoubleResource, object: StripeObject, account?: string): StripeObject {
  const copy = structuredClone(object);
  for (const child of RESOURCE_NAMES) {
    const nested = spec(child).nested;
    if (!nested || nested.parent !== resource) continue;
    const data = store.list(child, account).filter((o) => o[nested.field] === object.id).map((o) => structuredClone(o));
    copy[nested.path] = { object: 'list', data, has_more: false, url: `/v1/${spec(resource).path}/${object.id}/${nested.path}` };
  }
  return copy;
}

/** A response body: the view, embedded lists cut to 10 like Stripe, then `expand[]` applied. */
export function render(ctx: RequestContext, resource: DoubleResource, object: StripeObject): Record<string, unknown> {
  const copy = truncateEmbedded(resource, view(ctx.store, resource, object, ctx.account));
  expandAll(ctx, copy, expandParam(ctx));
  return copy;
}

function truncateEmbedded(resource: DoubleResource, object: Record<string, unknown>): Record<string, unknown> {
  for (const field of spec(resource).embeddedLists ?? []) {
    const list = object[field];
    if (isRecord(list) && Array.isArray(list.data) && list.data.length > 10) {
      object[field] = { ...list, data: list.data.slice(0, 10), has_more: true };
    }
  }
  return object;
}

function expandParam(ctx: RequestContext): string[] {
  const expand = ctx.params.expand;
  if (typeof expand === 'string') return [expand];
  return Array.isArray(expand) ? expand.filter((e): e is string => typeof e === 'string') : [];
}

// `expand[]=customer`, `expand[]=data.customer`, `expand[]=lines.data.invoice_item`: replace ids by
// the stored objects they name.
function expandAll(ctx: RequestContext, root: Record<string, unknown>, paths: readonly string[]): void {
  const expandAt = (node: unknown, segments: readonly string[]): void => {
    const [head, ...rest] = segments;
    if (head === undefined || !isRecord(node)) return;
    const value = node[head];
    if (head === 'data' && Array.isArray(value)) {
      for (const item of value) expandAt(item, rest);
      return;
    }
    if (typeof value === 'string') {
      const resource = resourceOfId(value);
      const found = resource ? ctx.store.find(resource, value, ctx.account) : undefined;
      if (!found || !resource) return;
      node[head] = truncateEmbedded(resource, view(ctx.store, resource, found, ctx.account));
    }
    expandAt(node[head], rest);
  };
  for (const path of paths) expandAt(root, path.split('.'));
}

/** Stripe's list envelope over already-filtered, newest-first objects. */
export function listResponse(
  ctx: RequestContext,
  resource: DoubleResource,
  objects: readonly StripeObject[],
  url: string,
): Record<string, unknown> {
  const q = ctx.params;
  const limit = intParam(q.limit, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalidParam('limit', `Invalid limit: ${limit}. Limit must be between 1 and 100.`, 'parameter_invalid_integer');
  const after = stringParam(q.starting_after);
  const before = stringParam(q.ending_before);
  if (after && before) throw invalidParam('ending_before', 'You may only specify one of these parameters: ending_before, starting_after.', 'parameters_exclusive');
  const items = filterByCreated(objects, q.created);
  const cursor = (id: string, param: string) => {
    const index = items.findIndex((o) => o.id === id);
    if (index < 0) throw invalidParam(param, `No such ${noun(resource)}: '${id}'`, 'resource_missing');
    return index;
  };
  let page: readonly StripeObject[];
  let hasMore: boolean;
  if (after) {
    const rest = items.slice(cursor(after, 'starting_after') + 1);
    page = rest.slice(0, limit);
    hasMore = rest.length > limit;
  } else if (before) {
    const earlier = items.slice(0, cursor(before, 'ending_before'));
    page = earlier.slice(-limit);
    hasMore = earlier.length > limit;
  } else {
    page = items.slice(0, limit);
    hasMore = items.length > limit;
  }
  const data = page.map((o) => truncateEmbedded(resource, view(ctx.store, resource, o, ctx.account)));
  const list = { object: 'list', data, has_more: hasMore, url };
  expandAll(ctx, list, expandParam(ctx));
  return list;
}

// `created=123` or `created[gte]=...&created[lt]=...`
function filterByCreated(objects: readonly StripeObject[], created: unknown): readonly StripeObject[] {
  if (created === undefined) return objects;
  const bounds = isRecord(created) ? created : { eq: created };
  const num = (key: string) => intParam(bounds[key], `created[${key}]`);
  const [eq, gt, gte, lt, lte] = ['eq', 'gt', 'gte', 'lt', 'lte'].map(num);
  return objects.filter((o) => {
    const at = typeof o.created === 'number' ? o.created : 0;
    return (eq === undefined || at === eq) && (gt === undefined || at > gt) && (gte === undefined || at >= gte)
      && (lt === undefined || at < lt) && (lte === undefined || at <= lte);
  });
}

/** Equality filters from the table (`customer=cus_1`, `status=open`). */
export function filterByParams(resource: DoubleResource, objects: readonly StripeObject[], params: Record<string, unknown>): StripeObject[] {
  const filters = (spec(resource).filters ?? []).filter((f) => typeof params[f] === 'string' && params[f] !== '');
  return objects.filter((o) => filters.every((f) => {
    const field = o[f];
    return (idOf(field) ?? String(field)) === params[f];
  }));
}

export function deletedResponse(resource: DoubleResource, id: string): Record<string, unknown> {
  return { id, object: resource, deleted: true };
}

/** The generic routes every table row asks for. */
export function crudRoutes(): Route[] {
  const routes: Route[] = [];
  for (const resource of RESOURCE_NAMES) {
    const s = spec(resource);
    const ops: readonly string[] = s.ops;
    if (s.path) {
      const base = `/v1/${s.path}`;
      if (ops.includes('create')) routes.push(route('POST', base, (ctx) => render(ctx, resource, createFromParams(ctx, resource))));
      if (ops.includes('retrieve')) {
        routes.push(route('GET', `${base}/:id`, (ctx) => render(ctx, resource, ctx.store.require(resource, pathParam(ctx, 'id'), ctx.account))));
      }
      if (ops.includes('update')) {
        routes.push(route('POST', `${base}/:id`, (ctx) => {
          const object = ctx.store.require(resource, pathParam(ctx, 'id'), ctx.account);
          return render(ctx, resource, updateFromParams(ctx, resource, object));
        }));
      }
      if (ops.includes('delete')) {
        routes.push(route('DELETE', `${base}/:id`, (ctx) => {
          const id = ctx.store.require(resource, pathParam(ctx, 'id'), ctx.account).id;
          ctx.store.remove(resource, id);
          return deletedResponse(resource, id);
        }));
      }
      if (ops.includes('list')) {
        routes.push(route('GET', base, (ctx) => listResponse(ctx, resource, filterByParams(resource, ctx.store.list(resource, ctx.account), ctx.params), base)));
      }
    }
    if (s.nested) routes.push(...nestedRoutes(resource, s.nested));
  }
  return routes;
}

// `/v1/transfers/:parent/reversals[/:id]`: children scoped to their parent object.
function nestedRoutes(resource: DoubleResource, { parent, path, field }: NonNullable<ResourceSpec['nested']>): Route[] {
  const parentResource = parent as DoubleResource;
  const parentPath = spec(parentResource).path;
  const base = `/v1/${parentPath}/:parent/${path}`;
  const child = (ctx: RequestContext): StripeObject => {
    const parentId = ctx.store.require(parentResource, pathParam(ctx, 'parent'), ctx.account).id;
    const id = pathParam(ctx, 'id');
    const object = ctx.store.find(resource, id, ctx.account);
    if (!object || object[field] !== parentId) throw notFound(noun(resource), id);
    return object;
  };
  const ops: readonly string[] = spec(resource).ops;
  const routes: Route[] = [];
  if (ops.includes('list')) {
    routes.push(route('GET', base, (ctx) => {
      const parentId = ctx.store.require(parentResource, pathParam(ctx, 'parent'), ctx.account).id;
      const children = ctx.store.list(resource, ctx.account).filter((o) => o[field] === parentId);
      return listResponse(ctx, resource, children, `/v1/${parentPath}/${parentId}/${path}`);
    }));
  }
  if (ops.includes('retrieve')) routes.push(route('GET', `${base}/:id`, (ctx) => render(ctx, resource, child(ctx))));
  if (ops.includes('update')) routes.push(route('POST', `${base}/:id`, (ctx) => render(ctx, resource, updateFromParams(ctx, resource, child(ctx)))));
  return routes;
}
