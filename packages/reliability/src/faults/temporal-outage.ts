// Temporal killed mid-stream: a Temporal dev server process and the receiver process; signed
// invoice.payment_failed events stream in; partway the server is SIGKILLed, events keep coming
// (503, Stripe keeps them), the server restarts on the same SQLite file, and everything not
// acknowledged is re-sent as Stripe would. Every acknowledged event must be in its flow's history.
import { join } from 'node:path';
import type { Client, DataConverter } from '@temporalio/client';
import { freePort, mapLimit, ProcessSet, sleep, startReceiverProcess, startTemporalDevServer, type ManagedProcess } from '../processes.js';
import { connectClient, deliverEvent, FAULTS_WEBHOOK_SECRET, dunningEvent, isAcknowledged, signalledEventIds, withTempDir, type DeliveryAttempt, type DunningEvent } from './shared.js';

export interface TemporalOutageOptions {
  /** Distinct events (one invoice each). Default 120. */
  events?: number;
  /** Deliveries in flight at once. Default 4. */
  concurrency?: number;
  /** SIGKILL Temporal once this many events were acknowledged. Default a third of `events`. */
  killAfterAcknowledged?: number;
  /** How long Temporal stays down before it is started again. Default 3000 ms. */
  outageMs?: number;
  /** Receiver's DISPATCH_DEADLINE_MS. Default 1500. */
  dispatchDeadlineMs?: number;
  /** Pause of each delivery lane between events. Default 20 ms. */
  paceMs?: number;
  /** How long unacknowledged events are re-sent (with backoff) before giving up. Default 60 s. */
  resendForMs?: number;
  /** Extra receiver environment (e.g. PAYLOAD_ENCRYPTION_KEYS), and the matching data converter to read histories with. */
  receiverEnv?: Record<string, string>;
  dataConverter?: DataConverter;
  log?: (line: string) => void;
}

export interface TemporalOutageFigures {
  scenario: 'temporal-killed-mid-stream';
  /** Distinct events streamed. */
  sent: number;
  /** First delivery answered 2xx. */
  acknowledged: number;
  /** First delivery answered 503 `temporal_unavailable`. */
  unavailable503: number;
  /** First delivery got no HTTP answer. */
  connectionErrors: number;
  /** First delivery answered anything else (by status). */
  other: number;
  otherStatuses: Record<string, number>;
  /** Events re-sent after the stream (every one not acknowledged), and the attempts it took. */
  resent: number;
  resendAttempts: number;
  acknowledgedAfterResend: number;
  /** Events never acknowledged, even after re-sending: must be 0. */
  unresolved: number;
  /** Flows found by their deterministic workflow id. */
  workflowsFound: number;
  /** Events found as a `stripeEvent` signal in their flow's history. */
  delivered: number;
  /** Acknowledged events missing from their flow's history: must be 0. */
  lost: number;
  /** Events signalled more than once (answered 503 although Temporal had taken them); the flow drops the copy by event id. */
  redelivered: number;
  /** GET /readyz while Temporal was down. */
  readyzWhileDown: number | 'connection_error';
  /** SIGKILL → restarted server serving again. */
  downMs: number;
  /** Restarted server serving → the receiver's next 2xx. */
  recoveryMs: number | null;
  durationMs: number;
}

export async function runTemporalOutageScenario(options: TemporalOutageOptions = {}): Promise<TemporalOutageFigures> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const total = options.events ?? 120;
  const killAfter = options.killAfterAcknowledged ?? Math.floor(total / 3);
  const set = new ProcessSet();
  let client: Client | undefined;
  return withTempDir('stripe-flows-outage-', async (dir) => {
    try {
      const [temporalPort, receiverPort] = await Promise.all([freePort(), freePort()]);
      const dbFile = join(dir, 'temporal.sqlite');
      const address = `127.0.0.1:${temporalPort}`;
      let temporal: ManagedProcess = await startTemporalDevServer(set, { port: temporalPort, dbFile });
      await startReceiverProcess(set, {
        port: receiverPort,
        temporalAddress: address,
        webhookSecret: FAULTS_WEBHOOK_SECRET,
        dispatchDeadlineMs: options.dispatchDeadlineMs ?? 1500,
        ...(options.receiverEnv ? { env: options.receiverEnv } : {}),
      });
      const receiverUrl = `http://127.0.0.1:${receiverPort}`;
      const webhookUrl = `${receiverUrl}/webhooks/stripe`;
      log(`temporal ${address}, receiver ${receiverUrl}`);

      const events: DunningEvent[] = Array.from({ length: total }, () => dunningEvent());
      const first: DeliveryAttempt[] = new Array<DeliveryAttempt>(total);
      const ackedAt: number[] = [];
      let streamDone = false;

      // Outage: SIGKILL once `killAfter` events are in, stay down, restart on the same file.
      const timeline = { killedAt: 0, restartedAt: 0, readyz: 0 as number | 'connection_error' };
      const outage = (async () => {
        while (ackedAt.length < killAfter && !streamDone) await sleep(5);
        await temporal.kill('SIGKILL');
        timeline.killedAt = Date.now();
        log(`temporal SIGKILLed after ${ackedAt.length} acknowledged events`);
        const readyz = await fetch(`${receiverUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        timeline.readyz = readyz?.status ?? 'connection_error';
        await sleep(Math.max(0, (options.outageMs ?? 3000) - (Date.now() - timeline.killedAt)));
        temporal = await startTemporalDevServer(set, { port: temporalPort, dbFile, name: 'temporal (restarted)' });
        timeline.restartedAt = Date.now();
        log(`temporal restarted on the same file after ${timeline.restartedAt - timeline.killedAt} ms`);
      })();

      await mapLimit(events, options.concurrency ?? 4, async (event, i) => {
        const attempt = await deliverEvent(webhookUrl, event.payload);
        first[i] = attempt;
        if (isAcknowledged(attempt)) ackedAt.push(Date.now());
        await sleep(options.paceMs ?? 20);
      });
      streamDone = true;
      await outage;

      // Stripe re-sends whatever was not acknowledged, with backoff, until it is.
      const pending = events.map((_, i) => i).filter((i) => !isAcknowledged(first[i] as DeliveryAttempt));
      const acknowledgedLater = new Set<number>();
      let resendAttempts = 0;
      const resendUntil = Date.now() + (options.resendForMs ?? 60_000);
      await mapLimit(pending, 4, async (i) => {
        for (let backoff = 250; Date.now() < resendUntil; backoff = Math.min(backoff * 2, 4000)) {
          resendAttempts++;
          const attempt = await deliverEvent(webhookUrl, (events[i] as DunningEvent).payload);
          if (isAcknowledged(attempt)) {
            acknowledgedLater.add(i);
            ackedAt.push(Date.now());
            return;
          }
          await sleep(backoff);
        }
      });
      log(`re-sent ${pending.length} events in ${resendAttempts} attempts; ${acknowledgedLater.size} acknowledged`);

      // Every acknowledged event must be in its flow's history, as a stripeEvent signal.
      client = await connectClient(address, options.dataConverter);
      const verifier = client;
      const found = await mapLimit(events, 8, async (event) => {
        const ids = await signalledEventIds(verifier, event.workflowId);
        return { exists: ids !== undefined, copies: ids?.filter((id) => id === event.eventId).length ?? 0 };
      });

      const statuses = first.map((a) => a.status);
      const otherStatuses: Record<string, number> = {};
      for (const a of first) {
        if (isAcknowledged(a) || a.status === 503 || a.status === 'connection_error') continue;
        otherStatuses[String(a.status)] = (otherStatuses[String(a.status)] ?? 0) + 1;
      }
      const everAcknowledged = (i: number) => isAcknowledged(first[i] as DeliveryAttempt) || acknowledgedLater.has(i);
      const afterRestart = ackedAt.filter((t) => t >= timeline.restartedAt).sort((a, b) => a - b)[0];
      return {
        scenario: 'temporal-killed-mid-stream',
        sent: total,
        acknowledged: first.filter(isAcknowledged).length,
        unavailable503: first.filter((a) => a.status === 503).length,
        connectionErrors: statuses.filter((s) => s === 'connection_error').length,
        other: Object.values(otherStatuses).reduce((a, b) => a + b, 0),
        otherStatuses,
        resent: pending.length,
        resendAttempts,
        acknowledgedAfterResend: acknowledgedLater.size,
        unresolved: events.filter((_, i) => !everAcknowledged(i)).length,
        workflowsFound: found.filter((f) => f.exists).length,
        delivered: found.filter((f) => f.copies > 0).length,
        lost: found.filter((f, i) => everAcknowledged(i) && f.copies === 0).length,
        redelivered: found.filter((f) => f.copies > 1).length,
        readyzWhileDown: timeline.readyz,
        downMs: timeline.restartedAt - timeline.killedAt,
        recoveryMs: afterRestart === undefined ? null : afterRestart - timeline.restartedAt,
        durationMs: Date.now() - started,
      };
    } finally {
      await client?.connection.close().catch(() => undefined);
      await set.killAll();
    }
  });
}
