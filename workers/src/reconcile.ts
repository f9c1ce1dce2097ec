// The reconcile worker: runs the `stripe-flows.reconcile` schedule's runs (workflow
// `reconcileStripeEvents` from core) with activities that replay Stripe's event log through the
// same dispatcher the receiver uses, over this worker's enabled domains.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type Stripe from 'stripe';
import {
  createReconcileActivities,
  Dispatcher,
  RECONCILE_TASK_QUEUE,
  RouteRegistry,
  type DomainDefinition,
  type ReconcileActivityContext,
  type ReconcileActivityDeps,
  type ReconcileSettings,
} from '@stripe-flows/core';
import type { WorkerConfig } from './config.js';

export interface ReconcileWorkerOptions {
  /** Temporal client for dispatching and for the schedule: same namespace and data converter as the workers. */
  client: ReconcileActivityDeps['client'];
  /** Stripe client that lists events (and connected accounts). */
  stripe: Stripe;
  settings: Pick<ReconcileSettings, 'lookbackMs' | 'connectAccounts' | 'safetyMarginMs'>;
  scheduleId?: string;
  /** Time Temporal has to accept one event's dispatches. Default 10 s. */
  dispatchDeadlineMs?: number;
}

/** Reconciliation settings from the worker's configuration and its enabled domains. */
export function reconcileSettings(
  config: Pick<WorkerConfig, 'RECONCILE_INTERVAL' | 'RECONCILE_LOOKBACK' | 'RECONCILE_CONNECT_ACCOUNTS'>,
  domains: ReadonlyArray<Pick<DomainDefinition, 'name' | 'routes'>>,
): ReconcileSettings {
  // Listing every connected account's log costs requests per account per run: only when some
  // enabled route arrives on the Connect endpoint.
  const connectRouted = new RouteRegistry(domains).eventTypesFor('connect').length > 0;
  return {
    intervalMs: config.RECONCILE_INTERVAL,
    lookbackMs: config.RECONCILE_LOOKBACK,
    connectAccounts: config.RECONCILE_CONNECT_ACCOUNTS ?? (connectRouted ? 'all' : 'none'),
  };
}

/** The Worker on `stripe-flows.reconcile`. */
export async function createReconcileWorker(
  base: Pick<WorkerOptions, 'connection' | 'namespace' | 'dataConverter' | 'maxCachedWorkflows'>,
  code: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>,
  domains: ReadonlyArray<Pick<DomainDefinition, 'name' | 'routes'>>,
  options: ReconcileWorkerOptions,
): Promise<Worker> {
  const registry = new RouteRegistry(domains);
  const dispatcher = new Dispatcher({ client: options.client, registry, deadlineMs: options.dispatchDeadlineMs ?? 10_000 });
  // Activities reach their heartbeat and cancellation through the context the SDK hands interceptors.
  const contexts = new AsyncLocalStorage<ReconcileActivityContext>();
  return Worker.create({
    ...base,
    ...code,
    taskQueue: RECONCILE_TASK_QUEUE,
    activities: createReconcileActivities({
      client: options.client,
      stripe: options.stripe,
      dispatcher,
      eventTypes: { platform: registry.eventTypesFor('platform'), connect: registry.eventTypesFor('connect') },
      settings: options.settings,
      ...(options.scheduleId ? { scheduleId: options.scheduleId } : {}),
      activityContext: () => contexts.getStore(),
    }),
    interceptors: { activity: [(ctx) => ({ inbound: { execute: (input, next) => contexts.run(ctx, () => next(input)) } })] },
  });
}
