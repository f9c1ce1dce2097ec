import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { searchAttributeKeys } from '@stripe-flows/core';
import { temporalBinaries } from './paths.js';

/**
 * Temporal's time-skipping test server, from the project's own binary (never a download).
 * Timers of days and weeks complete in moments while workflows are idle.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalBinaries().testServer } },
  });
  // The test server checks search attributes like a real cluster: register the project's.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(searchAttributeKeys.map((key) => [key.name, INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const INDEXED_VALUE_TYPE_KEYWORD = 2;

/**
 * The Temporal CLI dev server (in memory), with the project's search attributes registered:
 * the real server that receiver, dispatcher and end-to-end tests run against.
 */
export async function createDevServerEnv(options: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinaries().cli },
      searchAttributes: [...searchAttributeKeys],
      ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
      extraArgs: ['--log-level', 'error'],
    },
  });
}

let runtimeInstalled = false;
/** Worker and SDK logs at WARN and above only, so test output shows what matters. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // A runtime already exists in this process; keep it.
  }
}

/** A logger for `bundleWorkflowCode` that keeps the bundler's progress lines out of test output. */
export function quietLogger() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
}
