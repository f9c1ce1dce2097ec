// Trial ending: Stripe says a trial ends in about three days. Read the subscription, remind the
// customer at once, and if no payment method is on file, remind again on the policy's schedule,
// tell the operator, and report how the trial came out. Ends early once a payment method is on
// file or the subscription is canceled. The flow only reads Stripe: it never changes the subscription.
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo, ApplicationFailure } from '@temporalio/workflow';
import {
  EventInbox,
  FlowTracker,
  idempotencyKeyFor,
  stripeEventSignal,
  type EventInboxSnapshot,
  type FlowEvent,
  type FlowState, activityProfiles, policyFromInput, HOUR } from '@stripe-flows/core/workflow';
import type { Notification } from '@stripe-flows/core';
import type { PaymentMethodCheck, TrialActivities } from '../activities/trials.js';
import type { SubscriptionStatus, TrialSubscriptionSnapshot } from '../schemas.js';
import { resolveTrialEndingPolicy, type TrialEndingPolicy } from './trial-ending-policy.js';

const stripeRead = proxyActivities<TrialActivities>(activityProfiles.stripeRead);
const notifying = proxyActivities<TrialActivities>(activityProfiles.notify);

/** Same-second tie rule: a deletion outranks an update, which outranks the reminder event. */
export const trialEventPrecedence: Readonly<Record<string, number>> = {
  'customer.subscription.trial_will_end': 1,
  'customer.subscription.updated': 2,
  'customer.subscription.deleted': 3,
};

/**
 * - `payment_method_on_file`: Stripe will charge it at trial end; nothing left to chase.
 * - `no_payment_method_needed`: the subscription sends invoices (`send_invoice`) instead of charging.
 * - `trial_ended`: the trial is over; `subscriptionStatus` says how it came out.
 * - `canceled`: the subscription was canceled before its trial ended.
 */
export type TrialOutcome = 'payment_method_on_file' | 'no_payment_method_needed' | 'trial_ended' | 'canceled';

export type TrialStep = 'checking_subscription' | 'waiting_for_payment_method' | 'reminding' | 'waiting_for_outcome' | 'ended';

/** Statuses after which nothing more will happen to the trial. */
const SETTLED: ReadonlySet<SubscriptionStatus> = new Set(['canceled', 'incomplete_expired', 'paused']);
/** Statuses a subscription never leaves: true whenever they were seen, however old the event. */
const FINAL: ReadonlySet<SubscriptionStatus> = new Set(['canceled', 'incomplete_expired']);

export interface TrialDetails extends Record<string, unknown> {
  subscriptionId: string;
  customerId: string | null;
  subscriptionStatus: string;
  trialEnd: string | null;
  paymentMethodOnFile: boolean;
  paymentMethodVia: PaymentMethodCheck['via'];
  attachedButNotDefault: boolean;
  missingPaymentMethodBehavior: string | null;
  remindersSent: number;
  escalated: boolean;
  outcome?: TrialOutcome;
}

/** Reminder slots handled for one trial end date; a new date (trial moved) starts afresh. */
interface TrialSchedule {
  /** Unix seconds. */
  trialEnd: number | null;
  /** When the flow learned of this date (ms): slots due before then are skipped, not sent late. */
  learnedAt: number;
  /** Slots sent or skipped: `initial`, `reminder-48h`, `escalation`. */
  handled: string[];
}

export interface TrialEndingInput {
  /** Subscription id (`sub_...`). */
  objectId: string;
  policy?: Partial<TrialEndingPolicy>;
  /** Carried across continue-as-new. */
  carried?: {
    inbox: EventInboxSnapshot;
    subscription: TrialSubscriptionSnapshot;
    paymentMethod: PaymentMethodCheck;
    schedule: TrialSchedule;
    initialWanted: boolean;
    readAt: number;
    remindersSent: number;
    escalated: boolean;
    account?: string;
    done: FlowState['done'];
  };
}

export interface TrialEndingResult {
  subscriptionId: string;
  outcome: TrialOutcome;
  subscriptionStatus: SubscriptionStatus;
  paymentMethodOnFile: boolean;
  remindersSent: number;
  escalated: boolean;
}

export async function remindTrialEnding(input: TrialEndingInput): Promise<TrialEndingResult> {
  const policy: TrialEndingPolicy = policyFromInput(resolveTrialEndingPolicy, input.policy);
  const workflowId = workflowInfo().workflowId;
  const subscriptionId = input.objectId;
  const carried = input.carried;
  const inbox = new EventInbox<TrialSubscriptionSnapshot>({
    precedence: trialEventPrecedence,
    ...(carried ? { snapshot: carried.inbox } : {}),
  });
  // Counts travel across runs; the history limit is per run.
  const eventsSeen = () => inbox.counts.applied + inbox.counts.duplicates + inbox.counts.stale;
  const seenAtRunStart = eventsSeen();
  setHandler(stripeEventSignal, (event) => void inbox.offer(event as FlowEvent<TrialSubscriptionSnapshot>));

  let account = carried?.account;
  let subscription = carried?.subscription;
  let paymentMethod = carried?.paymentMethod;
  let schedule: TrialSchedule = carried?.schedule ?? { trialEnd: null, learnedAt: Date.now(), handled: [] };
  // The flow starts on trial_will_end: its first reminder is wanted. A later trial_will_end (the trial moved) wants another.
  let initialWanted = carried?.initialWanted ?? true;
  let remindersSent = carried?.remindersSent ?? 0;
  let escalated = carried?.escalated ?? false;
  // When the subscription was last read from the API: an event snapshot older than that is not newer news.
  let readAt = carried?.readAt ?? 0;
  let outcome: TrialOutcome | undefined;

  const details = (): TrialDetails => ({
    subscriptionId,
    customerId: subscription?.customerId ?? null,
    subscriptionStatus: subscription?.status ?? 'unknown',
    trialEnd: subscription?.trialEnd ? new Date(subscription.trialEnd * 1000).toISOString() : null,
    paymentMethodOnFile: paymentMethod?.onFile ?? false,
    paymentMethodVia: paymentMethod?.via ?? null,
    attachedButNotDefault: paymentMethod?.attachedButNotDefault ?? false,
    missingPaymentMethodBehavior: subscription?.missingPaymentMethodBehavior ?? null,
    remindersSent,
    escalated,
    ...(outcome ? { outcome } : {}),
  });
  const tracker = new FlowTracker<TrialStep, TrialDetails>(inbox, {
    step: 'checking_subscription',
    details: details(),
    ...(carried ? { done: carried.done } : {}),
  });
  // Any failure from here on ends the flow visibly failed (state query, FlowStatus).
  return tracker.run(async () => {
    const refresh = () => void (tracker.state.details = details());
    const call = () => ({ subscriptionId, ...(account ? { account } : {}) });

    /** A new end date of a live trial (first read, extension, shortening) gets a fresh reminder schedule. */
    const learnTrialEnd = () => {
      if (subscription?.status !== 'trialing') return;
      const trialEnd = subscription.trialEnd;
      if (trialEnd === schedule.trialEnd) return;
      if (schedule.trialEnd !== null) tracker.record('trial end moved', trialEnd ? new Date(trialEnd * 1000).toISOString() : 'no trial');
      schedule = { trialEnd, learnedAt: Date.now(), handled: [] };
    };
    const check = async () => {
      readAt = Date.now();
      const read = await stripeRead.checkTrialPaymentMethod(call());
      subscription = read.subscription;
      paymentMethod = read.paymentMethod;
      learnTrialEnd();
      tracker.record('read subscription', `${read.subscription.status}; payment method ${read.paymentMethod.onFile ? `on file (${read.paymentMethod.via})` : 'missing'}`);
      refresh();
      return { subscription: read.subscription, paymentMethod: read.paymentMethod };
    };

    const endWith = (result: TrialOutcome, summary: string): TrialEndingResult => {
      outcome = result;
      refresh();
      tracker.step('ended', summary);
      tracker.next(undefined);
      tracker.status('completed');
      return {
        subscriptionId,
        outcome: result,
        subscriptionStatus: subscription?.status ?? 'canceled',
        paymentMethodOnFile: paymentMethod?.onFile ?? false,
        remindersSent,
        escalated,
      };
    };

    /** Apply pending events in order. A snapshot older than the last API read does not replace it. */
    const applyEvents = () => {
      for (let event = inbox.next(); event; event = inbox.next()) {
        account ??= event.account;
        tracker.applied(event.type);
        tracker.record(`event ${event.type}`, event.id);
        if (event.type === 'customer.subscription.trial_will_end') initialWanted = true;
        const final = event.type === 'customer.subscription.deleted' || FINAL.has(event.object.status);
        if (!final && event.created * 1000 < readAt) {
          tracker.record('snapshot older than the last read: kept the read', event.id);
          continue;
        }
        subscription = event.object;
        // The event shows the subscription's own default; the customer's defaults only show in a read.
        if (event.object.hasSubscriptionPaymentMethod) {
          paymentMethod = { onFile: true, via: 'subscription_default', attachedButNotDefault: false, customerDeleted: false };
        } else if (paymentMethod?.via === 'subscription_default') {
          paymentMethod = { onFile: false, via: null, attachedButNotDefault: false, customerDeleted: false };
        }
        learnTrialEnd();
      }
      refresh();
    };

    const notice = (role: 'customer' | 'operator', kind: string, slot: string, extra: Notification['data'] = {}): Notification => ({
      kind: `trial.${kind}`,
      recipient: { role, ...(subscription?.customerId ? { customerId: subscription.customerId } : {}) },
      workflowId,
      // Per trial end date and slot: a moved trial gets fresh reminders, a retried one is sent once.
      idempotencyKey: idempotencyKeyFor(workflowId, `${schedule.trialEnd ?? 'none'}:${slot}`),
      data: {
        subscriptionId,
        trialEnd: subscription?.trialEnd ?? null,
        collectionMethod: subscription?.collectionMethod ?? null,
        paymentMethodOnFile: paymentMethod?.onFile ?? false,
        attachedButNotDefault: paymentMethod?.attachedButNotDefault ?? false,
        missingPaymentMethodBehavior: subscription?.missingPaymentMethodBehavior ?? null,
        ...extra,
      },
    });
    const handle = (slot: string) => void schedule.handled.push(slot);

    if (!subscription) {
      // The starting event arrives with the start; then read the subscription as it is now, since
      // the event may be late (Stripe: check the status before sending payment reminders).
      await condition(() => inbox.hasPending, '10 seconds');
      account = inbox.peek()[0]?.account;
      await check();
    }
    tracker.status('waiting');

    for (;;) {
      applyEvents();
      const current = subscription;
      const pm = paymentMethod;
      if (!current || !pm) throw ApplicationFailure.nonRetryable(`Subscription ${subscriptionId} was never read; this is a bug in remindTrialEnding.`, 'Bug');

      // applyEvents just drained the inbox: nothing is pending here, and signals sent meanwhile reach the next run.
      if (eventsSeen() - seenAtRunStart >= policy.maxEventsPerRun) {
        await continueAsNew<typeof remindTrialEnding>({
          objectId: subscriptionId,
          ...(input.policy ? { policy: input.policy } : {}),
          carried: {
            inbox: inbox.snapshot(),
            subscription: current,
            paymentMethod: pm,
            schedule,
            initialWanted,
            readAt,
            remindersSent,
            escalated,
            ...(account ? { account } : {}),
            done: tracker.state.done,
          },
        });
      }

      const trialEndMs = current.trialEnd !== null ? current.trialEnd * 1000 : null;
      const trialing = current.status === 'trialing' && trialEndMs !== null && trialEndMs > Date.now();

      if (!trialing) {
        // Canceled, expired or paused: settled, nothing more will happen to this trial.
        if (SETTLED.has(current.status)) {
          const wasToEnd = schedule.trialEnd ?? current.trialEnd;
          if (current.status !== 'paused' && wasToEnd !== null && wasToEnd * 1000 > Date.now()) {
            return endWith('canceled', `Subscription ${subscriptionId} was canceled during its trial.`);
          }
          return await reportOutcome(current);
        }
        // Active, past_due, unpaid, incomplete: Stripe invoices at trial end and charges about an hour
        // later; read the outcome once that has happened.
        const outcomeAt = (trialEndMs ?? readAt) + policy.outcomeCheckHoursAfterEnd * HOUR;
        if (Date.now() < outcomeAt) {
          tracker.next('read trial outcome', outcomeAt);
          tracker.step('waiting_for_outcome', `Trial of ${subscriptionId} is over (${current.status}); outcome read at ${new Date(outcomeAt).toISOString()}`);
          if (await condition(() => inbox.hasPending, outcomeAt - Date.now())) continue;
        }
        const after = await check();
        const newTrial = after.subscription.status === 'trialing' && (after.subscription.trialEnd ?? 0) * 1000 > Date.now();
        if (newTrial) continue; // the trial was extended meanwhile
        return await reportOutcome(after.subscription);
      }

      // Trialing: the first reminder, once per trial end date, right after reading the subscription.
      if (initialWanted && !schedule.handled.includes('initial')) {
        tracker.step('reminding', `Telling the customer of ${subscriptionId} that the trial ends`);
        const needed = current.collectionMethod === 'charge_automatically' && !pm.onFile;
        await notifying.notify(notice('customer', needed ? 'payment_method_needed' : 'will_end', 'initial'));
        handle('initial');
        remindersSent++;
        tracker.record(`told customer: trial.${needed ? 'payment_method_needed' : 'will_end'}`);
      }
      initialWanted = false;
      refresh();
      if (current.collectionMethod === 'send_invoice') {
        return endWith('no_payment_method_needed', `Subscription ${subscriptionId} sends invoices; no payment method needed.`);
      }
      if (pm.onFile) {
        return endWith('payment_method_on_file', `A payment method is on file for ${subscriptionId} (${pm.via ?? 'unknown'}); Stripe charges it at trial end.`);
      }

      // No payment method: wait for the next due slot (reminders, escalation, trial end), or an event.
      const due = dueSlots(policy, schedule, trialEndMs);
      const next = due[0];
      const nextAt = next?.at ?? trialEndMs;
      tracker.next(next ? next.action : 'trial ends: read its outcome', nextAt);
      tracker.step('waiting_for_payment_method', `No payment method for ${subscriptionId}; next: ${next?.action ?? 'trial end'} at ${new Date(nextAt).toISOString()}`);
      if (await condition(() => inbox.hasPending, Math.max(0, nextAt - Date.now()))) continue;
      if (!next) continue; // trial end reached: the loop reads the outcome

      // Due: re-read first. A payment method added to the customer sends no subscription event.
      const read = await check();
      if (read.paymentMethod.onFile || read.subscription.status !== 'trialing' || read.subscription.trialEnd !== current.trialEnd) continue;
      for (const slot of dueSlots(policy, schedule, trialEndMs).filter((s) => s.at <= Date.now())) {
        tracker.step('reminding', `${slot.action} for ${subscriptionId}`);
        const hoursLeft = Math.max(0, Math.round((trialEndMs - Date.now()) / HOUR));
        if (slot.kind === 'escalation') {
          await notifying.notify(notice('operator', 'payment_method_missing', slot.key, { hoursLeft }));
          escalated = true;
        } else {
          await notifying.notify(notice('customer', 'payment_method_reminder', slot.key, { hoursLeft }));
          remindersSent++;
        }
        handle(slot.key);
        tracker.record(slot.action, `${hoursLeft} h before trial end`);
      }
      refresh();
    }

    /** The trial is over: report its outcome (and tell the operator when it ended without a payment method). */
    async function reportOutcome(final: TrialSubscriptionSnapshot): Promise<TrialEndingResult> {
      const withoutPaymentMethod = final.collectionMethod === 'charge_automatically' && !(paymentMethod?.onFile ?? false);
      if (withoutPaymentMethod && policy.notifyOperatorOfOutcome) {
        await notifying.notify(notice('operator', 'ended_without_payment_method', 'outcome', { subscriptionStatus: final.status }));
        tracker.record('told operator: trial.ended_without_payment_method', final.status);
      }
      return endWith('trial_ended', `Trial of ${subscriptionId} ended: ${final.status}.`);
    }
  });
}

interface Slot {
  key: string;
  kind: 'reminder' | 'escalation';
  at: number;
  action: string;
}

/**
 * Slots not yet handled for the current trial end date, earliest first (customer before operator
 * at the same time). Reminders whose time passed before the flow learned of the date are dropped
 * (the first reminder covered them); a late escalation is still worth sending.
 */
function dueSlots(policy: TrialEndingPolicy, schedule: TrialSchedule, trialEndMs: number): Slot[] {
  const slots: Slot[] = [];
  for (const hours of policy.reminderHoursBeforeEnd) {
    const key = `reminder-${hours}h`;
    const at = trialEndMs - hours * HOUR;
    if (schedule.handled.includes(key) || at < schedule.learnedAt) continue;
    slots.push({ key, kind: 'reminder', at, action: `remind customer (${hours} h before trial end)` });
  }
  if (policy.escalateHoursBeforeEnd !== null && !schedule.handled.includes('escalation')) {
    const at = Math.max(schedule.learnedAt, trialEndMs - policy.escalateHoursBeforeEnd * HOUR);
    slots.push({ key: 'escalation', kind: 'escalation', at, action: `tell operator (${policy.escalateHoursBeforeEnd} h before trial end)` });
  }
  return slots.sort((a, b) => a.at - b.at || (a.kind === 'reminder' ? -1 : 1));
}
