// The bad-input corpus runner: every request of packages/reliability/corpus/ against a running
// receiver, with the figures that prove each got its documented answer, nothing answered 5xx
// (unless Temporal is down), no flow workflow started, and the receiver stayed up.
import type { Client } from '@temporalio/client';
import { buildCorpusRequest } from './corpus-request.js';
import { sendRawRequest, type RawAnswer } from './corpus-http.js';
import { loadCorpus, type Corpus, type CorpusCase, type CorpusExpectation, type CorpusTargetKind } from './corpus-schema.js';
import type { DispatchTally } from './corpus-target.js';

export { loadCorpus, corpusDir, type Corpus, type CorpusCase, type CorpusExpectation, type CorpusTargetKind } from './corpus-schema.js';
export { buildCorpusRequest, type BuiltRequest } from './corpus-request.js';
export { sendRawRequest, type RawAnswer } from './corpus-http.js';

/** The workflow type of quarantine holds (core's quarantine workflow). */
const QUARANTINE_WORKFLOW_TYPE = 'holdQuarantinedEvent';

export interface CorpusMismatch {
  case: string;
  expected: CorpusExpectation;
  got: { status: number; code?: string; message?: string; outcome?: string; socketError?: string; body: string };
  problems: string[];
}

/** What one run of the corpus showed. */
export interface CorpusFigures {
  target: CorpusTargetKind;
  /** Distinct requests sent. */
  requests: number;
  byCategory: Record<string, number>;
  byStatus: Record<string, number>;
  mismatches: CorpusMismatch[];
  /** Answers with a 5xx status. */
  serverErrors: number;
  /** 5xx answers other than 503 temporal_unavailable. */
  unexpectedServerErrors: number;
  /** GET /healthz answered 200 after every case and at the end. */
  receiverUp: boolean;
  healthFailures: string[];
  /** Workflows started during the run that are not quarantine holds (must be 0). */
  flowWorkflowsStarted: number;
  flowWorkflowIds: string[];
  /** `holdQuarantinedEvent` workflows started (authentic events whose data a flow cannot read). */
  quarantineHolds: number;
  /** Cases whose documented answer is `quarantined`. */
  expectedQuarantineHolds: number;
  /** Calls to the receiver's dispatcher and their per-route results, when it was wrapped. */
  dispatches?: { calls: number; results: Record<string, number> };
  durationMs: number;
}

export interface RunCorpusOptions {
  /** Base URL of the receiver, e.g. http://127.0.0.1:4242. It must use the corpus's receiver settings. */
  receiverUrl: string;
  /** Client of the Temporal namespace the receiver dispatches to: workflows are listed before and after. */
  client?: Client;
  /** The receiver's dispatcher tally (see {@link startCorpusTarget}). */
  dispatches?: DispatchTally;
  /** Which files to run (default: the ones for a receiver whose Temporal is up). */
  target?: CorpusTargetKind;
  /** Only cases whose name contains this. */
  filter?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  corpus?: Corpus;
  /** Called after each case. */
  onCase?: (c: CorpusCase, answer: RawAnswer, problems: string[]) => void;
}

interface ReceiverAnswerBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
  received?: unknown;
  ignored?: unknown;
  deliveries?: Array<{ result?: unknown }>;
}

/** Run the corpus against a receiver and return the figures. */
export async function runCorpus(options: RunCorpusOptions): Promise<CorpusFigures> {
  const started = performance.now();
  const corpus = options.corpus ?? loadCorpus();
  const target = options.target ?? 'temporal-available';
  const cases = corpus.cases.filter((c) => c.target === target && (!options.filter || c.name.includes(options.filter)));
  const url = new URL(options.receiverUrl);
  const port = Number(url.port || 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const since = new Date(Date.now() - 2000);
  const before = options.client ? await listWorkflows(options.client, since) : new Map<string, string>();
  const dispatchesBefore = options.dispatches ? snapshot(options.dispatches) : undefined;

  const figures: CorpusFigures = {
    target,
    requests: 0,
    byCategory: {},
    byStatus: {},
    mismatches: [],
    serverErrors: 0,
    unexpectedServerErrors: 0,
    receiverUp: true,
    healthFailures: [],
    flowWorkflowsStarted: 0,
    flowWorkflowIds: [],
    quarantineHolds: 0,
    expectedQuarantineHolds: cases.filter((c) => c.expect.outcome === 'quarantined').length,
    durationMs: 0,
  };

  // Slow cases first, so they overlap with the quick ones.
  const slow = (c: CorpusCase) => (c.transport.drip || c.transport.headDrip || c.transport.stallAfterBodyBytes !== undefined || c.transport.stallAfterHeadBytes !== undefined || c.transport.withholdLastBodyBytes !== undefined ? 0 : 1);
  const queue = [...cases].sort((a, b) => slow(a) - slow(b));
  const runOne = async (c: CorpusCase) => {
    const built = buildCorpusRequest(c, corpus.receiver, `${url.hostname}:${port}`);
    const answer = await sendRawRequest({ host, port, ...built, transport: c.transport, timeoutMs: corpus.receiver.requestTimeoutMs + 15_000 });
    const problems = compare(c.expect, answer);
    figures.requests++;
    figures.byCategory[c.category] = (figures.byCategory[c.category] ?? 0) + 1;
    figures.byStatus[String(answer.status)] = (figures.byStatus[String(answer.status)] ?? 0) + 1;
    if (answer.status >= 500) {
      figures.serverErrors++;
      if (!(answer.status === 503 && errorOf(answer).code === 'temporal_unavailable')) figures.unexpectedServerErrors++;
    }
    if (problems.length) figures.mismatches.push({ case: c.name, expected: c.expect, got: describe(answer), problems });
    if (!(await healthy(options.receiverUrl))) {
      figures.receiverUp = false;
      figures.healthFailures.push(c.name);
    }
    options.onCase?.(c, answer, problems);
  };
  await Promise.all(
    Array.from({ length: Math.max(1, options.concurrency ?? 4) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await runOne(next);
    }),
  );
  if (!(await healthy(options.receiverUrl))) {
    figures.receiverUp = false;
    figures.healthFailures.push('(end of run)');
  }

  if (options.client) {
    const started = await settledNewWorkflows(options.client, since, before, figures.expectedQuarantineHolds);
    for (const [id, type] of started) {
      if (type === QUARANTINE_WORKFLOW_TYPE) figures.quarantineHolds++;
      else figures.flowWorkflowIds.push(id);
    }
    figures.flowWorkflowsStarted = figures.flowWorkflowIds.length;
  }
  if (options.dispatches && dispatchesBefore) {
    const after = snapshot(options.dispatches);
    const results: Record<string, number> = {};
    for (const [k, v] of Object.entries(after.results)) results[k] = v - (dispatchesBefore.results[k] ?? 0);
    figures.dispatches = { calls: after.calls - dispatchesBefore.calls, results };
  }
  figures.durationMs = Math.round(performance.now() - started);
  return figures;
}

function snapshot(tally: DispatchTally): { calls: number; results: Record<string, number> } {
  return { calls: tally.calls, results: { ...tally.results } };
}

function parseBody(answer: RawAnswer): ReceiverAnswerBody | undefined {
  try {
    const parsed: unknown = JSON.parse(answer.body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as ReceiverAnswerBody) : undefined;
  } catch {
    return undefined;
  }
}

function errorOf(answer: RawAnswer): { code?: string; message?: string; details: string[] } {
  const error = parseBody(answer)?.error;
  return {
    ...(typeof error?.code === 'string' ? { code: error.code } : {}),
    ...(typeof error?.message === 'string' ? { message: error.message } : {}),
    details: Array.isArray(error?.details) ? error.details.filter((d): d is string => typeof d === 'string') : [],
  };
}

/** `not_routed`, or the one result every route had (`mixed` otherwise). */
function outcomeOf(answer: RawAnswer): string | undefined {
  const body = parseBody(answer);
  if (answer.status !== 200 || !body) return undefined;
  if (body.ignored === true) return 'not_routed';
  const results = new Set((body.deliveries ?? []).map((d) => String(d.result)));
  return results.size === 1 ? [...results][0] : results.size === 0 ? 'none' : 'mixed';
}

function describe(answer: RawAnswer): CorpusMismatch['got'] {
  const error = errorOf(answer);
  const outcome = outcomeOf(answer);
  return {
    status: answer.status,
    ...(error.code ? { code: error.code } : {}),
    ...(error.message ? { message: error.message } : {}),
    ...(outcome ? { outcome } : {}),
    ...(answer.socketError ? { socketError: answer.socketError } : {}),
    body: answer.body.toString('utf8').slice(0, 300),
  };
}

/** Every way the answer differs from the documented one (empty: it matches). */
function compare(expected: CorpusExpectation, answer: RawAnswer): string[] {
  const problems: string[] = [];
  if (answer.status !== expected.status) problems.push(`status ${answer.status}, expected ${expected.status}`);
  if (answer.status >= 400) {
    const error = errorOf(answer);
    if (!error.code || !error.message) problems.push('error body is not {"error":{"code","message"}}');
    else if (error.message.length < 20) problems.push(`error message "${error.message}" does not say what to do`);
    if (expected.code && error.code !== expected.code) problems.push(`code ${error.code ?? '(none)'}, expected ${expected.code}`);
    if (expected.message && !error.message?.includes(expected.message)) problems.push(`message lacks "${expected.message}"`);
    if (expected.detail && !error.details.some((d) => d.includes(expected.detail as string))) {
      problems.push(`no details line contains "${expected.detail}" (got ${JSON.stringify(error.details)})`);
    }
  } else if (answer.status === 200) {
    const outcome = outcomeOf(answer);
    if (!expected.outcome) problems.push(`answered 200 (${outcome}) but the case documents no 200 outcome`);
    else if (outcome !== expected.outcome) problems.push(`outcome ${outcome}, expected ${expected.outcome}`);
  }
  if (!(answer.headers['content-type'] ?? '').startsWith('application/json') && answer.status !== 0) problems.push('answer is not JSON');
  return problems;
}

async function healthy(receiverUrl: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/healthz', receiverUrl), { signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Workflow id → type of every execution started since `since`. */
async function listWorkflows(client: Client, since: Date): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const execution of client.workflow.list({ query: `StartTime >= "${since.toISOString()}"` })) {
    found.set(`${execution.workflowId}/${execution.runId}`, execution.type);
  }
  return found;
}

/**
 * Executions started during the run. Visibility lags a little behind starts: list until the
 * count is stable and the expected quarantine holds are all visible (at most ~10 s).
 */
async function settledNewWorkflows(client: Client, since: Date, before: Map<string, string>, expectedHolds: number): Promise<Map<string, string>> {
  const fresh = async () => new Map([...(await listWorkflows(client, since))].filter(([key]) => !before.has(key)));
  let last = await fresh();
  for (let attempt = 0; attempt < 40; attempt++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await fresh();
    const holds = [...now.values()].filter((t) => t === QUARANTINE_WORKFLOW_TYPE).length;
    if (now.size === last.size && holds >= expectedHolds) return now;
    last = now;
  }
  return last;
}

/** The figures as a few lines of text, for a report. */
export function formatCorpusFigures(figures: CorpusFigures): string {
  const categories = Object.entries(figures.byCategory)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([category, n]) => `${category} ${n}`)
    .join(', ');
  const statuses = Object.entries(figures.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}×${n}`)
    .join(' ');
  return [
    `bad-input corpus (${figures.target}): ${figures.requests} distinct requests in ${(figures.durationMs / 1000).toFixed(1)} s`,
    `  by category: ${categories}`,
    `  answers: ${statuses}`,
    `  mismatches with the documented answer: ${figures.mismatches.length}${figures.mismatches.length ? ` (${figures.mismatches.slice(0, 5).map((m) => m.case).join(', ')}${figures.mismatches.length > 5 ? ', ...' : ''})` : ''}`,
    `  5xx answers: ${figures.serverErrors} (other than 503 temporal_unavailable: ${figures.unexpectedServerErrors})`,
    `  receiver up after every request: ${figures.receiverUp ? 'yes' : `no (after ${figures.healthFailures.join(', ')})`}`,
    `  flow workflows started: ${figures.flowWorkflowsStarted}; quarantine holds: ${figures.quarantineHolds} (documented: ${figures.expectedQuarantineHolds})`,
    ...(figures.dispatches ? [`  dispatcher calls: ${figures.dispatches.calls} (${Object.entries(figures.dispatches.results).map(([r, n]) => `${r} ${n}`).join(', ') || 'none'})`] : []),
  ].join('\n');
}
