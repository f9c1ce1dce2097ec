// Scale, on one worker process and one dev server:
// 1. Open flows: N dunning flows started and left waiting on their day-3 reminder timer (the
//    default policy without the day-0 notice, so they start quicker); the worker's RSS once they
//    are all idle, with the sticky cache size stated.
// 2. A month on one onboarding flow: a month of Connect events (account.updated through the day,
//    capability changes, a few redeliveries) with the onboarding policy's timings compressed by
//    the same factor, so reminders and escalations fire as often as in a month. Then each run's
//    history (events, bytes as the server counts them): continue-as-new keeps every run bounded.
import type { Client } from '@temporalio/client';
import { defaultDunningPolicy } from '@stripe-flows/billing';
import { createConnectDomain, defaultOnboardingPolicy, type OnboardingPolicy } from '@stripe-flows/connect';
import { Dispatcher, RouteRegistry, stateQuery, stripeEventSignal, type FlowState } from '@stripe-flows/core';
import { buildEvent, stripeId, StripeApiDouble } from '@stripe-flows/testing';
import { sleep, waitFor } from '../processes.js';
import { parseEnvelope } from './events.js';
import { benchClient, startDunningFlows, waitForIdle } from './flows.js';
import { processCpuMs, processMemory, round } from './measure.js';
import { BenchProcesses } from './processes.js';
import { startDevServer, startWorkerProcess, withBenchDir, type TemporalStore } from './stack.js';

/** Temporal's per-run history warning thresholds (the hard limits are 51,200 events and 50 MB). */
export const TEMPORAL_HISTORY_WARN = { events: 10_240, bytes: 10 * 1024 * 1024 };

export interface OpenFlowsFigures {
  flows: number;
  /** MAX_CACHED_WORKFLOWS of the worker process (per task-queue Worker). */
  maxCachedWorkflows: number;
  /** Flows the billing Worker can keep in memory: min(flows, cache); the others replay on their next task. */
  cachedFlows: number;
  startSeconds: number;
  startsPerSecond: number;
  /** Seconds from the first start until every flow sat idle on its timer. */
  settleSeconds: number;
  rssMb: { idle: number; withFlows: number; highWater: number };
  /** (RSS with flows − idle RSS) / cached flows. */
  rssKbPerCachedFlow: number;
}

export interface MonthRun {
  run: number;
  status: string;
  historyEvents: number;
  historyBytes: number;
  /** Stripe events (stripeEvent signals) this run received. */
  stripeEvents: number;
}

export interface MonthFigures {
  days: number;
  /** Real seconds the month was compressed into. */
  seconds: number;
  stripeEventsSent: number;
  redeliveries: number;
  policy: Pick<OnboardingPolicy, 'maxEventsPerRun' | 'maxReminders'>;
  runs: MonthRun[];
  total: { historyEvents: number; historyBytes: number };
  maxRun: { historyEvents: number; historyBytes: number; stripeEvents: number };
  /** History events per Stripe event over the month. */
  historyEventsPerStripeEvent: number;
  remindersSent: number;
  escalationsSent: number;
  /** Stated bound: every run at most maxEventsPerRun Stripe events (a few more may race the hand-over) and under Temporal's warning thresholds. */
  bound: { stripeEventsPerRun: number; historyEventsPerRun: number; historyBytesPerRun: number };
  withinBound: boolean;
}

export interface ScaleFigures {
  openFlows: OpenFlowsFigures;
  month: MonthFigures;
}

export interface ScaleOptions {
  /** Dev server state: in memory (default) or a SQLite file, as `infra/bin/dev` runs it. */
  temporalStore?: TemporalStore;
  flows?: number;
  /** Worker sticky cache (MAX_CACHED_WORKFLOWS). Default 1000. */
  maxCachedWorkflows?: number;
  monthSeconds?: number;
  monthEventsPerDay?: number;
  /** Onboarding maxEventsPerRun for the month (default: the policy's 200). */
  monthMaxEventsPerRun?: number;
  encryption?: boolean;
  log?: (line: string) => void;
}

export async function runScaleBench(options: ScaleOptions = {}): Promise<ScaleFigures> {
  const flows = options.flows ?? 10_000;
  const cache = options.maxCachedWorkflows ?? 1000;
  const encryption = options.encryption ?? true;
  const log = options.log ?? (() => undefined);
  return withBenchDir('scale', async (dir) => {
    const processes = new BenchProcesses();
    const [temporal, stripe] = await Promise.all([startDevServer(dir, options.temporalStore), StripeApiDouble.start()]);
    const client = await benchClient(temporal.address, encryption);
    try {
      const worker = await startWorkerProcess(processes, { dir, temporalAddress: temporal.address, stripeApiBase: stripe.url, domains: 'billing,connect', encryption, maxCachedWorkflows: cache });
      await sleep(1000);
      const idle = processMemory(worker.pid)?.rssMb ?? 0;
      const startedAt = performance.now();
      // The default policy without its day-0 notice: each flow reads its invoice, then waits on a timer.
      const policy = { reminders: defaultDunningPolicy.reminders.filter((r) => r.afterDays > 0) };
      const started = await startDunningFlows({ client, stripe, count: flows, policy, concurrency: 32 });
      log(`scale: ${flows} dunning flows started in ${Math.round(started.startMs)} ms`);
      // Idle: every flow read its invoice, is waiting, and the worker stopped working.
      const invoiceReads = () => stripe.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/invoices/')).length;
      await waitFor(`${flows} flows to read their invoice`, () => invoiceReads() >= flows, { timeoutMs: Math.max(300_000, flows * 100), intervalMs: 1000 });
      await waitFor(`${flows} flows to wait on their timer`, async () => {
        const waiting = await client.workflow.count('WorkflowType = "collectInvoicePayment" AND ExecutionStatus = "Running" AND FlowStatus = "waiting"');
        return waiting.count >= flows;
      }, { timeoutMs: 120_000, intervalMs: 1000 });
      await waitForIdle(() => processCpuMs(worker.pid), 120_000);
      const settleMs = performance.now() - startedAt;
      const memory = processMemory(worker.pid) ?? { rssMb: 0, hwmMb: 0 };
      const openFlows: OpenFlowsFigures = {
        flows,
        maxCachedWorkflows: cache,
        cachedFlows: Math.min(flows, cache),
        startSeconds: round(started.startMs / 1000, 1),
        startsPerSecond: round((flows / started.startMs) * 1000, 1),
        settleSeconds: round(settleMs / 1000, 1),
        rssMb: { idle, withFlows: memory.rssMb, highWater: memory.hwmMb },
        rssKbPerCachedFlow: round(((memory.rssMb - idle) * 1024) / Math.max(1, Math.min(flows, cache)), 1),
      };
      log(`scale: ${flows} flows waiting, worker RSS ${memory.rssMb} MiB (idle ${idle} MiB)`);
      const month = await runMonth({ client, stripe, options, log });
      return { openFlows, month };
    } finally {
      await processes.stopAll();
      await client.connection.close().catch(() => undefined);
      await Promise.all([temporal.stop(), stripe.stop()]);
    }
  });
}

const DAY_MS = 86_400_000;

/** A month of Connect events on one onboarding flow, in `monthSeconds` of real time. */
async function runMonth(context: { client: Client; stripe: StripeApiDouble; options: ScaleOptions; log: (line: string) => void }): Promise<MonthFigures> {
  const { client, stripe, options, log } = context;
  const days = 30;
  const seconds = options.monthSeconds ?? 60;
  const perDay = options.monthEventsPerDay ?? 24;
  const dayMs = (seconds * 1000) / days;
  const k = dayMs / DAY_MS;
  // The policy's timings in compressed days: reminders and escalations fire as often as in a month.
  const policy: Partial<OnboardingPolicy> = {
    reminderDays: defaultOnboardingPolicy.reminderDays.map((d) => d * k),
    repeatEveryDays: defaultOnboardingPolicy.repeatEveryDays * k,
    escalateDaysBeforeDeadline: defaultOnboardingPolicy.escalateDaysBeforeDeadline.map((d) => d * k),
    ...(options.monthMaxEventsPerRun !== undefined ? { maxEventsPerRun: options.monthMaxEventsPerRun } : {}),
  };
  const maxEventsPerRun = policy.maxEventsPerRun ?? defaultOnboardingPolicy.maxEventsPerRun;
  const accountId = stripeId('acct');
  const workflowId = `connect.onboarding:${accountId}`;
  const realStart = Date.now();
  // The requirement deadline on (compressed) day 21: escalations 7, 3 and 1 days before it.
  const deadline = Math.floor((realStart + 21 * dayMs) / 1000);
  stripe.seed('account', { id: accountId, ...accountState(0, deadline) });
  const dispatcher = new Dispatcher({ client, registry: new RouteRegistry([createConnectDomain({ onboarding: policy })]), deadlineMs: 30_000 });

  const total = days * perDay;
  const simStart = Math.floor(realStart / 1000);
  const sent: string[] = [];
  let redeliveries = 0;
  for (let i = 0; i < total; i++) {
    const at = realStart + (i * seconds * 1000) / total;
    if (at > Date.now()) await sleep(at - Date.now());
    const day = Math.floor(i / perDay);
    // Stripe's copy of the account moves with the month too (the flow reads it before acting).
    if (i % perDay === 0 && day > 0) stripe.seed('account', { id: accountId, ...accountState(day, deadline) });
    const created = simStart + Math.floor((i * 86_400) / perDay); // a month of Stripe timestamps
    // About one in fifty deliveries is a redelivery of an earlier event, as Stripe retries.
    const redelivered = i > 0 && i % 50 === 0 ? sent[i - 10] : undefined;
    const body = redelivered ?? monthEvent(i, day, accountId, created, deadline);
    if (redelivered) redeliveries++;
    sent.push(body);
    const outcomes = await dispatcher.dispatch(parseEnvelope(body));
    if (outcomes.some((o) => o.result !== 'delivered')) throw new Error(`month event ${i} was not delivered: ${JSON.stringify(outcomes)}`);
  }
  log(`scale: a month of ${total} Connect events sent in ${Math.round((Date.now() - realStart) / 1000)} s`);

  // Settled: the flow counted every event (applied, duplicate or stale) across its runs.
  const state = await waitFor('the onboarding flow to take every event', async () => {
    const flow = (await client.workflow.getHandle(workflowId).query(stateQuery)) as FlowState;
    return flow.events.applied + flow.events.duplicates + flow.events.stale >= total ? flow : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });
  await sleep(1000);

  const executions: Array<{ runId: string; start: number; status: string }> = [];
  for await (const e of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) executions.push({ runId: e.runId, start: e.startTime.getTime(), status: e.status.name });
  executions.sort((a, b) => a.start - b.start);
  const runs: MonthRun[] = [];
  for (const [index, execution] of executions.entries()) {
    const handle = client.workflow.getHandle(workflowId, execution.runId);
    const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
    const events = history.events ?? [];
    runs.push({
      run: index + 1,
      status: execution.status,
      historyEvents: events.length,
      historyBytes: description.historySize ?? 0,
      stripeEvents: events.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === stripeEventSignal.name).length,
    });
  }
  const sum = (pick: (r: MonthRun) => number) => runs.reduce((s, r) => s + pick(r), 0);
  const max = (pick: (r: MonthRun) => number) => runs.reduce((m, r) => Math.max(m, pick(r)), 0);
  const details = state.details as { remindersSent?: number; escalationsSent?: number };
  // Signals that land while a run hands over are taken by that run before it continues as new.
  const bound = { stripeEventsPerRun: maxEventsPerRun + 5, historyEventsPerRun: TEMPORAL_HISTORY_WARN.events, historyBytesPerRun: TEMPORAL_HISTORY_WARN.bytes };
  return {
    days,
    seconds,
    stripeEventsSent: total,
    redeliveries,
    policy: { maxEventsPerRun, maxReminders: defaultOnboardingPolicy.maxReminders },
    runs,
    total: { historyEvents: sum((r) => r.historyEvents), historyBytes: sum((r) => r.historyBytes) },
    maxRun: { historyEvents: max((r) => r.historyEvents), historyBytes: max((r) => r.historyBytes), stripeEvents: max((r) => r.stripeEvents) },
    historyEventsPerStripeEvent: round(sum((r) => r.historyEvents) / total, 2),
    remindersSent: details.remindersSent ?? 0,
    escalationsSent: details.escalationsSent ?? 0,
    bound,
    withinBound: runs.length > 0 && runs.every((r) => r.stripeEvents <= bound.stripeEventsPerRun && r.historyEvents <= bound.historyEventsPerRun && r.historyBytes <= bound.historyBytesPerRun),
  };
}

/** The account on a day of the month: requirements come and go, never all met (the flow stays open). */
function accountState(day: number, deadline: number): Record<string, unknown> {
  const due = [['external_account', 'tos_acceptance.date'], ['external_account'], ['individual.verification.document'], ['business_profile.url', 'external_account']][Math.floor(day / 5) % 4] ?? [];
  const pastDue = day >= 22 && day < 26 ? due : [];
  return {
    type: 'express',
    charges_enabled: false,
    payouts_enabled: false,
    details_submitted: day >= 5,
    capabilities: { card_payments: day >= 12 ? 'pending' : 'inactive', transfers: 'inactive' },
    requirements: {
      alternatives: [],
      current_deadline: day < 21 ? deadline : null,
      currently_due: due,
      eventually_due: [...due, 'company.tax_id'],
      past_due: pastDue,
      pending_verification: day >= 12 && day < 15 ? ['individual.verification.document'] : [],
      disabled_reason: day >= 10 && day < 16 ? 'requirements.past_due' : day >= 22 && day < 26 ? 'requirements.past_due' : null,
      errors: [],
    },
  };
}

/** Event `i` of the month: mostly account.updated, every sixth a capability change. */
function monthEvent(i: number, day: number, accountId: string, created: number, deadline: number): string {
  if (i % 6 === 5) {
    const capability = i % 12 === 5 ? 'card_payments' : 'transfers';
    const status = ['inactive', 'pending', 'inactive', 'pending'][Math.floor(i / 12) % 4] ?? 'pending';
    return JSON.stringify(buildEvent('capability.updated', {
      account: accountId,
      created,
      object: { id: capability, object: 'capability', account: accountId, requested: true, status, requirements: { alternatives: [], current_deadline: null, currently_due: [], eventually_due: [], past_due: [], pending_verification: [], disabled_reason: null, errors: [] } },
    }));
  }
  return JSON.stringify(buildEvent('account.updated', { account: accountId, created, object: { id: accountId, ...accountState(day, deadline) }, previousAttributes: { requirements: {} } }));
}
