// Transfer reversal: when a charge that funded a connected account is refunded (or its dispute
// is lost), take the proportional part back from the account: one reversal per refund, never
// more than the transfer has left, retried on the policy's schedule when the account's balance
// cannot cover it. Direct charges get their application fee refunded instead, when policy asks.
import { ActivityFailure, ApplicationFailure, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  EventInbox,
  FlowTracker,
  idempotencyKeyFor,
  stripeEventSignal,
  type EventInboxSnapshot,
  type FlowEvent,
  type FlowState, activityProfiles, DAY, HOUR, policyFromInput } from '@stripe-flows/core/workflow';
import type { ReversalActivities } from '../activities/index.js';
import type { ChargeSnapshot, DisputeSnapshot, TransferSnapshot } from '../schemas.js';
import { resolveReversalPolicy, type ReversalPolicy } from './reversal-policy.js';

const stripeRead = proxyActivities<ReversalActivities>(activityProfiles.stripeRead);
const stripeWrite = proxyActivities<ReversalActivities>(activityProfiles.stripeWrite);
const notifying = proxyActivities<ReversalActivities>(activityProfiles.notify);

/** Every event, however late, makes the flow re-read the charge, so ties need no ordering beyond the inbox's. */
export const reversalEventPrecedence: Readonly<Record<string, number>> = {
  'charge.refunded': 1,
  'charge.refund.updated': 1,
  'charge.dispute.closed': 2,
};

/** Stripe's error code when a connected account's balance cannot cover a reversal. */
export const BALANCE_INSUFFICIENT = 'stripe.balance_insufficient';

/** Money to give back: a refund of the charge or a lost dispute. */
interface Recovery {
  id: string;
  kind: 'refund' | 'dispute';
  amount: number;
  created: number;
}

export interface ReversalRecord {
  forId: string;
  /** `transfer_reversal` or `fee_refund` id. */
  id: string;
  of: string;
  amount: number;
}

interface Outstanding {
  attempts: number;
  firstFailedAt: number;
  nextAttemptAt: number;
  reason: string;
}

type Handled = 'reversed' | 'reversed_by_stripe' | 'nothing_to_reverse' | 'abandoned' | 'failed' | 'not_reversed_by_policy';

interface Carried {
  account?: string;
  lostDisputes: Recovery[];
  handled: Record<string, Handled>;
  outstanding: Record<string, Outstanding>;
  reversals: ReversalRecord[];
  lastEventAt: number;
  inbox: EventInboxSnapshot;
  done: FlowState['done'];
}

export interface ReversalInput {
  /** Charge id (`ch_...`). */
  objectId: string;
  policy?: Partial<ReversalPolicy>;
  carried?: Carried;
}

export type ReversalOutcome = 'settled' | 'nothing_to_reverse' | 'watch_ended';
export type ReversalStep = 'reconciling' | 'reversing' | 'waiting_for_balance' | 'watching' | 'ended';

export interface ReversalDetails extends Record<string, unknown> {
  chargeId: string;
  account: string | null;
  handled: Record<string, Handled>;
  outstanding: Record<string, { attempts: number; nextAttemptAt: string; reason: string }>;
  reversals: ReversalRecord[];
  outcome?: ReversalOutcome;
}

export interface ReversalResult {
  chargeId: string;
  outcome: ReversalOutcome;
  reversals: ReversalRecord[];
  abandoned: string[];
  failed: string[];
}

/** Cumulative proportional share: a full refund reverses the whole transfer, to the unit. */
function share(total: number, chargeAmount: number, before: number, amount: number): number {
  if (chargeAmount <= 0) return 0;
  const upTo = (x: number) => Math.floor((Math.min(x, chargeAmount) * total) / chargeAmount);
  return upTo(before + amount) - upTo(before);
}

/** Stripe's error code from an activity failure (`stripe.<code>`), if it is one. */
function failureType(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

export async function reverseTransfer(input: ReversalInput): Promise<ReversalResult> {
  const policy: ReversalPolicy = policyFromInput(resolveReversalPolicy, input.policy);
  const workflowId = workflowInfo().workflowId;
  const chargeId = input.objectId;
  const inbox = new EventInbox({ precedence: reversalEventPrecedence, ...(input.carried ? { snapshot: input.carried.inbox } : {}) });
  // No event here supersedes another: each is a cue to re-read the refunds, and a lost dispute is
  // known only from its event. One older than an event already applied ("stale") still counts.
  const late: FlowEvent[] = [];
  setHandler(stripeEventSignal, (event) => {
    if (inbox.offer(event) === 'stale') late.push(event);
  });
  const hasNews = () => inbox.hasPending || late.length > 0;
  // Counts carry over continue-as-new; the bound is on this run's share of history.
  const eventsAtStart = inbox.counts.applied + inbox.counts.duplicates + inbox.counts.stale;
  const eventsThisRun = () => inbox.counts.applied + inbox.counts.duplicates + inbox.counts.stale - eventsAtStart;

  const c: Carried = input.carried ?? {
    lostDisputes: [], handled: {}, outstanding: {}, reversals: [], lastEventAt: Date.now(), inbox: inbox.snapshot(), done: [],
  };
  let outcome: ReversalOutcome | undefined;
  const details = (): ReversalDetails => ({
    chargeId,
    account: c.account ?? null,
    handled: c.handled,
    outstanding: Object.fromEntries(
      Object.entries(c.outstanding).map(([id, o]) => [id, { attempts: o.attempts, nextAttemptAt: new Date(o.nextAttemptAt).toISOString(), reason: o.reason }]),
    ),
    reversals: c.reversals,
    ...(outcome ? { outcome } : {}),
  });
  const tracker = new FlowTracker<ReversalStep, ReversalDetails>(inbox, { step: 'reconciling', details: details(), done: c.done });
  // Any failure from here on ends the flow visibly failed (state query, FlowStatus).
  return tracker.run(async () => {
    const refresh = () => void (tracker.state.details = details());
    const chargeCall = () => ({ chargeId, ...(c.account ? { account: c.account } : {}) });

    const applyEvents = (): boolean => {
      let any = false;
      const next = () => inbox.next() ?? late.shift();
      for (let event = next(); event; event = next()) {
        any = true;
        c.account ??= event.account;
        c.lastEventAt = Date.now();
        tracker.applied(event.type);
        tracker.record(`event ${event.type}`, event.id);
        if (event.type === 'charge.dispute.closed') {
          const dispute = event.object as DisputeSnapshot;
          if (dispute.status !== 'lost') continue;
          if (policy.onDisputeLost === 'none') c.handled[dispute.id] ??= 'not_reversed_by_policy';
          else if (!c.lostDisputes.some((d) => d.id === dispute.id)) {
            c.lostDisputes.push({ id: dispute.id, kind: 'dispute', amount: dispute.amount, created: dispute.created });
          }
        }
      }
      return any;
    };

    /** Refunds and lost disputes, oldest first: the order the proportional shares are cut in. */
    const recoveries = async (): Promise<{ items: Recovery[]; unsettledRefunds: number }> => {
      const refunds = await stripeRead.listRefunds(chargeCall());
      const items: Recovery[] = [];
      let unsettledRefunds = 0;
      for (const refund of refunds) {
        // Pending (or awaiting action): reversed once it succeeds (charge.refund.updated). Failed or canceled: nothing given back.
        if (refund.status === 'pending' || refund.status === 'requires_action') unsettledRefunds++;
        if (refund.status !== 'succeeded') continue;
        if (refund.transferReversalId) c.handled[refund.id] ??= 'reversed_by_stripe'; // refunded with reverse_transfer=true
        items.push({ id: refund.id, kind: 'refund', amount: refund.amount, created: refund.created });
      }
      items.push(...c.lostDisputes);
      return { items: items.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id)), unsettledRefunds };
    };

    const onInsufficient = async (item: Recovery, destination: string | null, amount: number, of: string): Promise<void> => {
      const previous = c.outstanding[item.id];
      const attempts = (previous?.attempts ?? 0) + 1;
      const hours = policy.insufficientBalanceRetryHours[Math.min(attempts - 1, policy.insufficientBalanceRetryHours.length - 1)] ?? 24;
      const firstFailedAt = previous?.firstFailedAt ?? Date.now();
      c.outstanding[item.id] = { attempts, firstFailedAt, nextAttemptAt: Date.now() + hours * HOUR, reason: `balance of ${destination ?? 'the account'} cannot cover ${amount} from ${of}` };
      tracker.record(`reversal for ${item.id} short of balance`, `attempt ${attempts}; retry in ${hours} h`);
      if (previous) return; // told once per refund; retries are silent
      const data = { chargeId, forId: item.id, transferId: of, amount, accountId: destination, retryInHours: hours, giveUpAfterDays: policy.giveUpAfterDays };
      if (policy.notifyAccount && destination) {
        await notifying.notify({ kind: 'connect.reversal.balance_insufficient', recipient: { role: 'account', accountId: destination }, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, `balance-insufficient:${item.id}`), data });
      }
      await notifying.notify({ kind: 'connect.reversal.balance_insufficient', recipient: { role: 'operator', ...(destination ? { accountId: destination } : {}) }, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, `balance-insufficient-operator:${item.id}`), data });
    };

    const fail = async (item: Recovery, error: unknown): Promise<void> => {
      c.handled[item.id] = 'failed';
      delete c.outstanding[item.id];
      const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      tracker.record(`reversal for ${item.id} failed`, message);
      await notifying.notify({ kind: 'connect.reversal.failed', recipient: { role: 'operator' }, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, `failed:${item.id}`), data: { chargeId, forId: item.id, error: message } });
    };

    /** Reverse one recovery's share of each transfer; true when all of it is done. */
    const reverseOnTransfers = async (item: Recovery, before: number, charge: ChargeSnapshot, transferIds: readonly string[]): Promise<boolean> => {
      const attempt = c.outstanding[item.id]?.attempts ?? 0;
      for (const transferId of transferIds) {
        // Re-read right before reversing: what remains, and whether this refund was already answered.
        const transfer: TransferSnapshot = await stripeRead.retrieveTransfer({ transferId });
        if (transfer.reversedFor.includes(item.id)) continue;
        const amount = Math.min(share(transfer.amount, charge.amount, before, item.amount), transfer.amount - transfer.amountReversed);
        if (amount <= 0) continue;
        const refundFee = item.kind === 'refund' ? policy.refundApplicationFee : policy.refundApplicationFeeOnDispute;
        tracker.step('reversing', `Reversing ${amount} of ${transferId} for ${item.id}`);
        try {
          // A Stripe idempotency key also stores a failed answer for 24 h: a retry after a short balance needs a new one.
          const step = `reverse:${item.id}:${transferId}${attempt ? `:retry-${attempt}` : ''}`;
          const reversal = await stripeWrite.reverseTransfer({ transferId, amount, refundApplicationFee: refundFee, forId: item.id, chargeId, idempotencyKey: idempotencyKeyFor(workflowId, step) });
          c.reversals.push({ forId: item.id, id: reversal.reversalId, of: transferId, amount: reversal.amount });
          tracker.record(`reversed ${reversal.amount} of ${transferId}`, `${item.kind} ${item.id}`);
        } catch (error) {
          if (failureType(error) !== BALANCE_INSUFFICIENT) throw error;
          await onInsufficient(item, transfer.destination, amount, transferId);
          return false;
        }
      }
      return true;
    };

    const refundFee = async (item: Recovery, before: number, charge: ChargeSnapshot, feeId: string): Promise<void> => {
      const fee = await stripeRead.retrieveApplicationFee({ feeId });
      if (fee.refundedFor.includes(item.id)) return;
      const amount = Math.min(share(fee.amount, charge.amount, before, item.amount), fee.amount - fee.amountRefunded);
      if (amount <= 0) return;
      const refund = await stripeWrite.refundApplicationFee({ feeId, amount, forId: item.id, chargeId, idempotencyKey: idempotencyKeyFor(workflowId, `fee-refund:${item.id}`) });
      c.reversals.push({ forId: item.id, id: refund.feeRefundId, of: feeId, amount: refund.amount });
      tracker.record(`refunded ${refund.amount} of application fee ${feeId}`, `${item.kind} ${item.id}`);
    };

    /** Read the charge and its refunds, and give back what is due and not yet given. True when all is settled for good. */
    const reconcile = async (): Promise<boolean> => {
      tracker.step('reconciling', `Reading ${chargeId} and its refunds`);
      const charge = await stripeRead.retrieveCharge(chargeCall());
      const { items, unsettledRefunds } = await recoveries();
      const direct = c.account !== undefined;
      const transferIds = direct ? [] : charge.transferId ? [charge.transferId] : charge.transferGroup ? await stripeRead.listGroupTransfers({ transferGroup: charge.transferGroup }) : [];
      const feeId = direct && policy.refundApplicationFeeOnDirectCharges ? charge.applicationFeeId : null;
      if (transferIds.length === 0 && !feeId) {
        outcome = 'nothing_to_reverse';
        return true;
      }
      let before = 0;
      for (const item of items) {
        const start = before;
        before += item.amount;
        if (c.handled[item.id]) continue;
        const pending = c.outstanding[item.id];
        if (pending && pending.nextAttemptAt > Date.now()) continue;
        if (pending && Date.now() - pending.firstFailedAt >= policy.giveUpAfterDays * DAY) {
          c.handled[item.id] = 'abandoned';
          delete c.outstanding[item.id];
          tracker.record(`gave up reversing for ${item.id}`, pending.reason);
          await notifying.notify({ kind: 'connect.reversal.abandoned', recipient: { role: 'operator' }, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, `abandoned:${item.id}`), data: { chargeId, forId: item.id, attempts: pending.attempts, reason: pending.reason } });
          continue;
        }
        try {
          if (feeId) await refundFee(item, start, charge, feeId);
          else if (!(await reverseOnTransfers(item, start, charge, transferIds))) continue;
        } catch (error) {
          await fail(item, error);
          continue;
        }
        c.handled[item.id] = c.reversals.some((r) => r.forId === item.id) ? 'reversed' : 'nothing_to_reverse';
        delete c.outstanding[item.id];
      }
      refresh();
      const settled = Object.keys(c.outstanding).length === 0 && unsettledRefunds === 0;
      // A lost dispute takes the rest of the charge: nothing more can be refunded then either.
      const nothingLeftToRefund = charge.amountRefunded + c.lostDisputes.reduce((sum, d) => sum + d.amount, 0) >= charge.amount;
      if (settled && nothingLeftToRefund) outcome = 'settled';
      return settled && nothingLeftToRefund;
    };

    const end = (result: ReversalOutcome, summary: string): ReversalResult => {
      outcome = result;
      refresh();
      tracker.step('ended', summary);
      tracker.next(undefined);
      const failed = Object.entries(c.handled).filter(([, h]) => h === 'failed').map(([id]) => id);
      tracker.status(failed.length ? 'failed' : 'completed');
      return { chargeId, outcome: result, reversals: c.reversals, abandoned: Object.entries(c.handled).filter(([, h]) => h === 'abandoned').map(([id]) => id), failed };
    };

    await condition(hasNews, '10 seconds'); // the starting event arrives with the start
    tracker.status('waiting');
    let due = true;
    for (;;) {
      if (applyEvents()) due = true;
      if (due) {
        due = false;
        if (await reconcile()) return end(outcome ?? 'settled', `Everything refunded on ${chargeId} was given back.`);
        if (outcome === 'nothing_to_reverse') return end(outcome, `${chargeId} funded no transfer (or fee) to give back.`);
      }
      // Late events are not in the inbox's snapshot: apply them before continuing as new.
      if (!late.length && (eventsThisRun() >= policy.maxEventsPerRun || workflowInfo().continueAsNewSuggested)) {
        await continueAsNew<typeof reverseTransfer>({
          objectId: chargeId,
          ...(input.policy ? { policy: input.policy } : {}),
          carried: { ...c, inbox: inbox.snapshot(), done: tracker.state.done },
        });
      }
      const retryAt = Math.min(...Object.values(c.outstanding).map((o) => o.nextAttemptAt));
      const watchUntil = c.lastEventAt + policy.watchDays * DAY;
      if (retryAt === Infinity && Date.now() >= watchUntil) return end('watch_ended', `No refund or dispute of ${chargeId} for ${policy.watchDays} days.`);
      const retrying = retryAt !== Infinity;
      const at = retrying ? retryAt : watchUntil;
      tracker.next(retrying ? 'retry reversals the balance could not cover' : 'stop watching', at);
      tracker.step(
        retrying ? 'waiting_for_balance' : 'watching',
        retrying ? `Waiting for the connected balance to cover ${Object.keys(c.outstanding).join(', ')}` : `Watching ${chargeId} for further refunds or disputes`,
      );
      if (!(await condition(hasNews, Math.max(0, at - Date.now())))) due = retrying;
    }
  });
}
