// Playing a scenario: each step's objects go into the Stripe API double, its event is signed and
// posted like Stripe's; then the flows are watched (their `state` query) until they end.
import type { Client } from '@temporalio/client';
import { stateQuery, type FlowState } from '@stripe-flows/core';
import { buildEvent, stripeId } from '@stripe-flows/testing';
import { CliError } from '../command.js';
import { deliver, workflowUrl, type DeliveryReport, type DeliveryTarget } from '../delivery.js';
import type { DoubleAdmin } from '../stripe-api.js';
import type { Scenario, ScenarioContext } from './scenarios.js';

export interface PlayOptions {
  target: DeliveryTarget & { double: DoubleAdmin };
  client: Client;
  ui: { base: string; namespace: string };
  /** Progress lines (not called in --json mode). */
  print(line: string): void;
  /** Pause between steps, so each event has its own `created` second, as Stripe's would. */
  pauseMs?: number;
  /** How long a flow may take to reach a step or its end. */
  timeoutMs?: number;
}

export interface FlowResult {
  workflowId: string;
  expected: string;
  status: FlowState['status'] | 'not_found';
  step: string | null;
  outcome: string | null;
  ok: boolean;
  url: string;
}

export interface ScenarioResult {
  scenario: string;
  ok: boolean;
  seconds: number;
  steps: Array<DeliveryReport & { says: string }>;
  flows: FlowResult[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stateOf(client: Client, workflowId: string): Promise<FlowState | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).query(stateQuery);
  } catch {
    return undefined; // not started yet, or no worker has answered yet
  }
}

/** Wait until the flow's `state.step` is `step` (it has acted on the events before). */
async function waitForStep(client: Client, workflowId: string, step: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: FlowState | undefined;
  while (Date.now() < deadline) {
    last = (await stateOf(client, workflowId)) ?? last;
    if (last?.step === step) return;
    if (last && last.status !== 'running') {
      throw new CliError(`Flow ${workflowId} ended (${last.status}, step ${last.step}) before reaching step ${step}: ${JSON.stringify(last.details)}`);
    }
    await sleep(150);
  }
  throw new CliError(
    `Flow ${workflowId} did not reach step ${step} within ${timeoutMs / 1000} s (${last ? `it is at ${last.step}` : 'no answer to its state query'}). Is the worker running (stripe-flows dev)?`,
  );
}

/** Wait until the flow completed or failed; the last state seen otherwise. */
async function waitForEnd(client: Client, workflowId: string, timeoutMs: number): Promise<FlowState | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: FlowState | undefined;
  while (Date.now() < deadline) {
    last = (await stateOf(client, workflowId)) ?? last;
    if (last && last.status !== 'running') return last;
    await sleep(200);
  }
  return last;
}

export async function playScenario(scenario: Scenario, options: PlayOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const pauseMs = options.pauseMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { double } = options.target;
  const ctx: ScenarioContext = {
    ids: Object.fromEntries(Object.entries(scenario.ids).map(([name, prefix]) => [name, stripeId(prefix)])),
    startedAt: Math.floor(started / 1000),
    async current(resource, id) {
      const found = await double.get(resource, id);
      if (!found) throw new CliError(`Scenario ${scenario.name}: the Stripe API double has no ${resource} ${id} (was it reset while the scenario played?).`);
      return found;
    },
  };
  options.print(`Scenario ${scenario.name}: ${scenario.description}`);
  const steps: ScenarioResult['steps'] = [];
  for (const [i, step] of scenario.steps.entries()) {
    if (i > 0) await sleep(pauseMs);
    if (step.waitFor) await waitForStep(options.client, step.waitFor.workflowId(ctx), step.waitFor.step, timeoutMs);
    const account = step.account?.(ctx);
    const event = buildEvent(step.type, {
      object: await step.object(ctx),
      ...(account ? { account } : {}),
      ...(step.previousAttributes ? { previousAttributes: step.previousAttributes } : {}),
    });
    const report = await deliver(event, options.target, step.seed?.(ctx) ?? []);
    steps.push({ ...report, says: step.says });
    options.print(`  ${i + 1}/${scenario.steps.length}  ${step.type}  ${step.says}`);
    const outcome = report.deliveries.map((d) => `${d.workflowId} ${d.result}${d.reason ? ` (${d.reason})` : ''}`).join(', ');
    options.print(`        ${report.eventId} → HTTP ${report.status}${outcome ? `: ${outcome}` : ''}`);
    if (report.status < 200 || report.status >= 300) {
      throw new CliError(`Scenario ${scenario.name} stopped: the receiver answered ${report.status} to ${step.type} (${JSON.stringify(report.body)}). Check that trigger signs with the receiver's secret (STRIPE_WEBHOOK_SECRETS).`);
    }
  }

  options.print('  waiting for the flows to end...');
  const flows: FlowResult[] = [];
  for (const expectation of scenario.expect) {
    const workflowId = expectation.workflowId(ctx);
    const state = await waitForEnd(options.client, workflowId, timeoutMs);
    const outcome = typeof state?.details.outcome === 'string' ? state.details.outcome : null;
    const ok = state?.status === 'completed' && outcome === expectation.outcome;
    const url = workflowUrl(options.ui.base, options.ui.namespace, workflowId);
    flows.push({ workflowId, expected: expectation.outcome, status: state?.status ?? 'not_found', step: state?.step ?? null, outcome, ok, url });
    options.print(`  ${ok ? 'ok  ' : 'FAIL'} ${workflowId}: ${state ? `${state.status}, step ${state.step}, outcome ${outcome ?? 'none yet'}` : 'no answer to its state query'}${ok ? '' : ` (expected completed with outcome ${expectation.outcome})`}`);
    options.print(`       ${url}`);
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const ok = flows.every((f) => f.ok);
  options.print(ok ? `Scenario ${scenario.name} reached its end state in ${seconds} s.` : `Scenario ${scenario.name} did not reach its end state (${seconds} s): see the flows above in Temporal UI.`);
  return { scenario: scenario.name, ok, seconds, steps, flows };
}
