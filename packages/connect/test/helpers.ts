// Shared by the workflow tests: one bundle of the built workflows, a worker per test, and
// events shaped as the dispatcher delivers them (envelope fields + the route's projection).
import { createRequire } from 'node:module';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { quietLogger } from '@stripe-flows/testing';
import { stateQuery, stripeEventSignal, type FlowEvent, type FlowState, type Notification } from '@stripe-flows/core';

const require = createRequire(import.meta.url);
export { DAY, HOUR } from '@stripe-flows/core/workflow';

export function bundleConnectWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('@stripe-flows/connect/workflows'), logger: quietLogger() });
}

let counter = 0;
/** A unique suffix for ids and task queues. */
export function unique(): string {
  counter++;
  return `${counter}x${Date.now().toString(36)}`;
}

/** A FlowEvent as the dispatcher builds it. */
export function flowEvent<P>(type: string, object: P, created: number, extra: { account?: string; id?: string } = {}): FlowEvent<P> {
  return { id: extra.id ?? `evt_${unique()}`, type, created, livemode: false, object, ...(extra.account ? { account: extra.account } : {}) };
}

type Handle = Awaited<ReturnType<TestWorkflowEnvironment['client']['workflow']['signalWithStart']>>;

/** Start a flow with its first event on a fresh worker, run `during`, return the result. */
export async function runFlow<R>(options: {
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundleWithSourceMap;
  activities: object;
  workflowType: string;
  workflowId: string;
  input: Record<string, unknown>;
  first: FlowEvent;
  during?: (handle: Handle) => Promise<void>;
}): Promise<R> {
  const taskQueue = `connect-test-${unique()}`;
  const worker = await Worker.create({ connection: options.env.nativeConnection, taskQueue, workflowBundle: options.bundle, activities: options.activities });
  return worker.runUntil(async () => {
    const handle = await options.env.client.workflow.signalWithStart(options.workflowType, {
      taskQueue,
      workflowId: options.workflowId,
      args: [options.input],
      signal: stripeEventSignal,
      signalArgs: [options.first],
    });
    try {
      await options.during?.(handle);
    } catch (error) {
      // A flow left running would hold the shared test server's clock for the next test.
      await handle.terminate('test failed').catch(() => undefined);
      throw error;
    }
    return (await handle.result()) as R;
  });
}

export async function queryState<D>(handle: Handle): Promise<FlowState<string, D>> {
  return (await handle.query(stateQuery)) as FlowState<string, D>;
}

/** Notifications by kind and role, in order: `connect.payout.failed→account`. */
export const sent = (notices: readonly Notification[]) => notices.map((n) => `${n.kind}→${n.recipient.role}`);
