export { createDomainWorkers, createNotifier, createStripeClient, type ActivityDeps } from './workers.js';
export { loadWorkerConfig, workerConfigSchema, type WorkerConfig } from './config.js';
export { builtInDomains, configuredDomains } from './domains.js';
export { createReconcileWorker, reconcileSettings, type ReconcileWorkerOptions } from './reconcile.js';
