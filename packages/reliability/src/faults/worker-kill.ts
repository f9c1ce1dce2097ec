// Worker SIGKILLed mid-activity: dunning flows reach their final action (mark uncollectible) and
// its first call to Stripe is held, either before Stripe applies it (the double delays the
// request) or after (the proxy holds Stripe's answer). While every call is in flight the worker
// process is SIGKILLed and a new one started. Temporal retries each activity after its 30 s
// start-to-close timeout with the same idempotency key: every flow completes, one side effect each
// (a retry of a write Stripe had applied is answered as a replay).
import type { DunningResult } from '@stripe-flows/billing';
import { waitFor } from '../processes.js';
import { startFlowStack, type FlowStackOptions } from './stack.js';
import { duplicateSideEffects, dunningEvent, flowStatusOf, waitForClose, withTempDir, type DunningEvent } from './shared.js';

/** Where the killed attempt was held: before Stripe applied the write, or after (answer pending). */
export type HoldPoint = 'before_stripe_applied' | 'after_stripe_applied';

export interface WorkerKillOptions extends Pick<FlowStackOptions, 'workerEnv' | 'dataConverter'> {
  /** Flows per hold point in flight when the worker dies. Default 2 (4 flows). */
  flowsPerHoldPoint?: number;
  /** How long the first final-action call is held. Default 60 s (outlives the kill and the 30 s activity timeout). */
  holdMs?: number;
  /** How long to wait for every flow to finish after the kill. Default 90 s. */
  completeWithinMs?: number;
  log?: (line: string) => void;
}

export interface WorkerKillFlow {
  workflowId: string;
  holdPoint: HoldPoint;
  status: string;
  flowStatus: string | undefined;
  outcome: string | undefined;
  /** Requests Stripe received for the final action, and the distinct idempotency keys they carried. */
  requests: number;
  idempotencyKeys: string[];
  /** Requests that took effect (2xx, not a replay). */
  sideEffects: number;
  /** The retry after the kill was answered as an idempotent replay. */
  retryReplayed: boolean;
  invoiceStatus: string | undefined;
}

export interface WorkerKillFigures {
  scenario: 'worker-killed-mid-activity';
  flowsStarted: number;
  /** Final-action calls held in flight when the worker was killed. */
  inFlightAtKill: number;
  flowsCompleted: number;
  outcomes: Record<string, number>;
  /** Stripe writes that took effect, across all flows. */
  sideEffects: number;
  /** Side effects beyond the first for one idempotency key, or with no key: must be 0. */
  duplicateSideEffects: number;
  /** Flows whose retry after the kill carried the same idempotency key as the killed attempt. */
  retriesWithSameKey: number;
  /** Retries answered as idempotent replays, by where the killed attempt was held. */
  retriesReplayed: Record<HoldPoint, number>;
  invoicesUncollectible: number;
  /** SIGKILL → every flow closed. */
  killToCompleteMs: number;
  durationMs: number;
  flows: WorkerKillFlow[];
}

export async function runWorkerKillScenario(options: WorkerKillOptions = {}): Promise<WorkerKillFigures> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const perPoint = options.flowsPerHoldPoint ?? 2;
  const holdMs = options.holdMs ?? 60_000;
  return withTempDir('stripe-flows-worker-kill-', async (dir) => {
    const stack = await startFlowStack({ dir, workerEnv: options.workerEnv, dataConverter: options.dataConverter });
    try {
      const { stripe, proxy, client } = stack;
      const flows = (['before_stripe_applied', 'after_stripe_applied'] as const).flatMap((holdPoint) =>
        Array.from({ length: perPoint }, () => ({ holdPoint, event: dunningEvent() })),
      );
      const finalActionPath = (e: DunningEvent) => `/v1/invoices/${e.invoiceId}/mark_uncollectible`;
      for (const { holdPoint, event } of flows) {
        if (holdPoint === 'before_stripe_applied') stripe.inject({ method: 'POST', path: finalActionPath(event), times: 1, fault: { type: 'delay', ms: holdMs } });
        else proxy.inject({ method: 'POST', path: finalActionPath(event), times: 1, fault: { type: 'hold', ms: holdMs } });
      }
      await Promise.all(flows.map(({ event }) => stack.startDunning(event)));
      log(`${flows.length} dunning flows started`);

      // The worker dies only once every flow's final-action call is held.
      const isHeld = ({ holdPoint, event }: (typeof flows)[number]) =>
        holdPoint === 'before_stripe_applied'
          ? stripe.requests.some((r) => r.path === finalActionPath(event) && r.fault === `delay:${holdMs}`)
          : proxy.requests.some((r) => r.path === finalActionPath(event) && r.fault === `hold:${holdMs}`);
      const inFlight = await waitFor('every final-action call to be held in flight', () => {
        const n = flows.filter(isHeld).length;
        return n === flows.length ? n : false;
      }, { timeoutMs: 30_000 });
      await stack.worker.kill('SIGKILL');
      const killedAt = Date.now();
      log(`worker SIGKILLed with ${inFlight} final-action calls in flight`);
      await stack.startWorker();
      log('second worker started');

      const closed = await Promise.all(flows.map(({ event }) => waitForClose(client, event.workflowId, options.completeWithinMs ?? 90_000)));
      const killToCompleteMs = Date.now() - killedAt;
      log(`all flows closed ${killToCompleteMs} ms after the kill`);

      const results: WorkerKillFlow[] = await Promise.all(
        flows.map(async ({ holdPoint, event }, i) => {
          const description = closed[i];
          const requests = stripe.requests.filter((r) => r.path === finalActionPath(event));
          const result = description?.status.name === 'COMPLETED' ? await client.workflow.getHandle<() => Promise<DunningResult>>(event.workflowId).result() : undefined;
          return {
            workflowId: event.workflowId,
            holdPoint,
            status: description?.status.name ?? 'UNKNOWN',
            flowStatus: description ? flowStatusOf(description) : undefined,
            outcome: result?.outcome,
            requests: requests.length,
            idempotencyKeys: [...new Set(requests.map((r) => r.idempotencyKey ?? '(none)'))],
            sideEffects: stripe.sideEffects({ path: finalActionPath(event) }).length,
            retryReplayed: requests.slice(1).some((r) => r.replayed),
            invoiceStatus: stripe.get('invoice', event.invoiceId)?.status as string | undefined,
          };
        }),
      );
      const effects = stripe.sideEffects();
      const outcomes: Record<string, number> = {};
      for (const f of results) outcomes[f.outcome ?? f.status] = (outcomes[f.outcome ?? f.status] ?? 0) + 1;
      return {
        scenario: 'worker-killed-mid-activity',
        flowsStarted: flows.length,
        inFlightAtKill: inFlight,
        flowsCompleted: results.filter((f) => f.status === 'COMPLETED').length,
        outcomes,
        sideEffects: effects.length,
        duplicateSideEffects: duplicateSideEffects(effects),
        retriesWithSameKey: results.filter((f) => f.requests >= 2 && f.idempotencyKeys.length === 1).length,
        retriesReplayed: {
          before_stripe_applied: results.filter((f) => f.holdPoint === 'before_stripe_applied' && f.retryReplayed).length,
          after_stripe_applied: results.filter((f) => f.holdPoint === 'after_stripe_applied' && f.retryReplayed).length,
        },
        invoicesUncollectible: results.filter((f) => f.invoiceStatus === 'uncollectible').length,
        killToCompleteMs,
        durationMs: Date.now() - started,
        flows: results,
      };
    } finally {
      await stack.close();
    }
  });
}
