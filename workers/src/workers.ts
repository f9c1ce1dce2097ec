import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import Stripe from 'stripe';
import type { Logger } from 'pino';
import {
  combineNotifiers,
  createLogNotifier,
  createWebhookNotifier,
  QUARANTINE_TASK_QUEUE,
  quarantineWorkflowsPath,
  reconcileWorkflowsPath,
  taskQueueFor,
  type DomainDefinition,
  type Notifier,
} from '@stripe-flows/core';
import type { WorkerConfig } from './config.js';
import { createReconcileWorker, type ReconcileWorkerOptions } from './reconcile.js';

/** What every domain's activities get: a Stripe client and the notifier. */
export interface ActivityDeps {
  stripe: Stripe;
  notifier: Notifier;
}

/** stripe-node for the configured key, or pointed at the local Stripe API double without one. */
export function createStripeClient(
  config: Pick<WorkerConfig, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE'> & { STRIPE_TIMEOUT_MS?: number },
  options: { maxNetworkRetries?: number } = {},
): Stripe {
  // Temporal retries activities (with the same idempotency key); stripe-node should not stack
  // retries on top. Only readers that page through lists (replay) ask for a few of their own.
  const common = { maxNetworkRetries: options.maxNetworkRetries ?? 0, timeout: config.STRIPE_TIMEOUT_MS ?? 20_000, appInfo: { name: 'stripe-flows' } } as const;
  if (config.STRIPE_SECRET_KEY) return new Stripe(config.STRIPE_SECRET_KEY, common);
  const base = new URL(config.STRIPE_API_BASE);
  return new Stripe('sk_test_stripe_flows_double', {
    ...common,
    host: base.hostname,
    port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
    protocol: base.protocol === 'https:' ? 'https' : 'http',
  });
}

export function createNotifier(config: Pick<WorkerConfig, 'NOTIFY_WEBHOOK_URL' | 'NOTIFY_WEBHOOK_TOKEN'>, logger: Logger): Notifier {
  const log = createLogNotifier(logger);
  if (!config.NOTIFY_WEBHOOK_URL) return log;
  return combineNotifiers(log, createWebhookNotifier({ url: config.NOTIFY_WEBHOOK_URL, ...(config.NOTIFY_WEBHOOK_TOKEN ? { bearerToken: config.NOTIFY_WEBHOOK_TOKEN } : {}) }));
}

/**
 * One Worker per enabled domain, each on `stripe-flows.<domain>`, plus the quarantine worker, and
 * the reconcile worker when `reconcile` is given. Uses a prebuilt bundle from `bundleDir` when
 * there is one (production), else bundles at start.
 */
export async function createDomainWorkers(options: {
  connection: NativeConnection;
  namespace: string;
  domains: ReadonlyArray<DomainDefinition<ActivityDeps, object>>;
  deps: ActivityDeps;
  bundleDir?: string;
  maxCachedWorkflows?: number;
  /** Payload codec (encryption) and failure converter; see `dataConverterFor` in core. */
  dataConverter?: WorkerOptions['dataConverter'];
  /** Run the reconcile worker (task queue `stripe-flows.reconcile`) with these dependencies. */
  reconcile?: ReconcileWorkerOptions;
}): Promise<Worker[]> {
  const base = {
    connection: options.connection,
    namespace: options.namespace,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
  } satisfies Partial<WorkerOptions>;
  const code = (name: string, workflowsPath: string) => {
    const bundle = options.bundleDir ? join(options.bundleDir, `${name}.js`) : undefined;
    return bundle && existsSync(bundle) ? { workflowBundle: { codePath: bundle } } : { workflowsPath };
  };
  const workers = await Promise.all(
    options.domains.map((domain) =>
      Worker.create({
        ...base,
        taskQueue: taskQueueFor(domain.name),
        ...code(domain.name, domain.workflowsPath),
        activities: domain.createActivities(options.deps),
      }),
    ),
  );
  workers.push(await Worker.create({ ...base, taskQueue: QUARANTINE_TASK_QUEUE, ...code('quarantine', quarantineWorkflowsPath) }));
  if (options.reconcile) workers.push(await createReconcileWorker(base, code('reconcile', reconcileWorkflowsPath), options.domains, options.reconcile));
  return workers;
}
