// The baseline flow of the worker benchmark: one activity, nothing else. Sandbox-safe: bundled
// with bundleWorkflowCode and run by the bench's minimal worker process.
import { proxyActivities } from '@temporalio/workflow';
import type { BaselineActivities } from '../baseline-activities.js';

const { settle } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '30 seconds' });

/** Start, run one activity, complete. */
export async function runOneActivity(input: { objectId: string }): Promise<string> {
  return settle(input.objectId);
}
