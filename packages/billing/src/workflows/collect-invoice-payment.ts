// Dunning: after a failed invoice payment, follow Stripe's own retries (we never charge), remind
// the customer on the policy's schedule, and end when the invoice is paid, voided or marked
// uncollectible, or by the policy's final action once Stripe has stopped retrying.
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  EventInbox,
  FlowTracker,
  idempotencyKeyFor,
  stripeEventSignal,
  type EventInboxSnapshot,
  type FlowEvent,
  type FlowState, activityProfiles, policyFromInput, DAY } from '@stripe-flows/core/workflow';
import type { DunningActivities } from '../activities/index.js';
import type { InvoiceSnapshot } from '../schemas.js';
import { resolveDunningPolicy, type DunningFinalAction, type DunningPolicy } from './dunning-policy.js';

const stripeRead = proxyActivities<DunningActivities>(activityProfiles.stripeRead);
const stripeWrite = proxyActivities<DunningActivities>(activityProfiles.stripeWrite);
const notifying = proxyActivities<DunningActivities>(activityProfiles.notify);

/** Same-second tie rule: an invoice's end (paid, voided, uncollectible) outranks a failure. */
export const invoiceEventPrecedence: Readonly<Record<string, number>> = {
  'invoice.payment_failed': 1,
  'invoice.payment_action_required': 1,
  'invoice.marked_uncollectible': 2,
  'invoice.voided': 3,
  'invoice.paid': 4,
};

export type DunningOutcome =
  | 'recovered'
  | 'voided'
  | 'marked_uncollectible'
  | 'final_action_taken'
  | 'left_open';

export type DunningStep =
  | 'checking_invoice'
  | 'waiting_for_payment'
  | 'reminding'
  | 'taking_final_action'
  | 'ended';

export interface DunningDetails extends Record<string, unknown> {
  invoiceId: string;
  customerId: string | null;
  invoiceStatus: string;
  attemptCount: number;
  nextPaymentAttempt: string | null;
  remindersSent: number;
  outcome?: DunningOutcome;
  finalAction?: DunningFinalAction;
}

export interface DunningInput {
  /** Invoice id (`in_...`). */
  objectId: string;
  policy?: Partial<DunningPolicy>;
  /** Carried across continue-as-new. */
  carried?: {
    startedAt: number;
    remindersSent: number;
    inbox: EventInboxSnapshot;
    invoice: InvoiceSnapshot;
    account?: string;
    done: FlowState['done'];
  };
}

export interface DunningResult {
  invoiceId: string;
  outcome: DunningOutcome;
  finalAction?: DunningFinalAction;
  remindersSent: number;
}

const TERMINAL_BY_STATUS: Partial<Record<InvoiceSnapshot['status'], DunningOutcome>> = {
  paid: 'recovered',
  void: 'voided',
  uncollectible: 'marked_uncollectible',
};

const TERMINAL_BY_EVENT: Record<string, DunningOutcome> = {
  'invoice.paid': 'recovered',
  'invoice.voided': 'voided',
  'invoice.marked_uncollectible': 'marked_uncollectible',
};

export async function collectInvoicePayment(input: DunningInput): Promise<DunningResult> {
  const policy: DunningPolicy = policyFromInput(resolveDunningPolicy, input.policy);
  const workflowId = workflowInfo().workflowId;
  const invoiceId = input.objectId;
  const inbox = new EventInbox<InvoiceSnapshot>({
    precedence: invoiceEventPrecedence,
    tieBreaker: (e) => (e.object as InvoiceSnapshot).attemptCount,
    ...(input.carried ? { snapshot: input.carried.inbox } : {}),
  });
  const eventsSeen = () => inbox.counts.applied + inbox.counts.duplicates + inbox.counts.stale;
  // History grows per run: count this run's events, not the totals carried from earlier runs.
  const eventsAtRunStart = eventsSeen();
  setHandler(stripeEventSignal, (event) => void inbox.offer(event as FlowEvent<InvoiceSnapshot>));

  const startedAt = input.carried?.startedAt ?? Date.now();
  let account = input.carried?.account;
  let remindersSent = input.carried?.remindersSent ?? 0;
  let invoice = input.carried?.invoice;
  // When the invoice was last read from the API: an event snapshot older than that is not newer news.
  let invoiceReadAt = 0;
  const readInvoice = async () => {
    invoiceReadAt = Date.now();
    try {
      invoice = await stripeRead.retrieveInvoice(call());
    } catch (error) {
      // Reads retry until Stripe answers; what gets here is a refusal (404, 403) the flow cannot get past.
      if (error instanceof ActivityFailure && !(error.cause instanceof CancelledFailure)) failWith(`reading invoice ${invoiceId}`, error);
      throw error;
    }
    return invoice;
  };
  let outcome: DunningOutcome | undefined;
  let finalActionTaken: DunningFinalAction | undefined;
  const details = (): DunningDetails => ({
    invoiceId,
    customerId: invoice?.customerId ?? null,
    invoiceStatus: invoice?.status ?? 'unknown',
    attemptCount: invoice?.attemptCount ?? 0,
    nextPaymentAttempt: invoice?.nextPaymentAttempt ? new Date(invoice.nextPaymentAttempt * 1000).toISOString() : null,
    remindersSent,
    ...(outcome ? { outcome } : {}),
    ...(finalActionTaken ? { finalAction: finalActionTaken } : {}),
  });
  const tracker = new FlowTracker<DunningStep, DunningDetails>(inbox, {
    step: 'checking_invoice',
    details: details(),
    ...(input.carried ? { done: input.carried.done } : {}),
  });
  const refresh = () => void (tracker.state.details = details());
  const call = () => ({ invoiceId, ...(account ? { account } : {}) });
  const notice = (kind: string, step: string) => ({
    kind: `dunning.${kind}`,
    recipient: { role: 'customer' as const, ...(invoice?.customerId ? { customerId: invoice.customerId } : {}) },
    workflowId,
    idempotencyKey: idempotencyKeyFor(workflowId, step),
    data: {
      invoiceId,
      amountDue: invoice?.amountRemaining ?? null,
      currency: invoice?.currency ?? null,
      hostedInvoiceUrl: invoice?.hostedInvoiceUrl ?? null,
      attemptCount: invoice?.attemptCount ?? 0,
      nextPaymentAttempt: invoice?.nextPaymentAttempt ?? null,
    },
  });

  /** Apply pending events in order; returns once nothing is pending. */
  const applyEvents = async (): Promise<void> => {
    for (let event = inbox.next(); event; event = inbox.next()) {
      account ??= event.account;
      if (event.created * 1000 >= invoiceReadAt) invoice = event.object;
      tracker.applied(event.type);
      tracker.record(`event ${event.type}`, event.id);
      const ending = TERMINAL_BY_EVENT[event.type];
      if (ending) {
        outcome = ending;
        return;
      }
      if (event.type === 'invoice.payment_action_required') {
        // The bank wants the customer to authenticate: send them the hosted invoice page.
        await notifying.notify(notice('action_required', `action-required:${event.id}`));
        tracker.record('asked customer to authenticate', event.id);
      }
    }
  };

  /** End in the failure state, visibly: the `state` query and FlowStatus say what failed and why. */
  const failWith = (what: string, error: unknown): never => {
    const reason = error instanceof ActivityFailure ? (error.cause?.message ?? error.message) : (error as Error).message;
    tracker.record(`${what} failed`, reason);
    tracker.step('ended', `${what} failed for ${invoiceId}: ${reason}`);
    tracker.next(undefined);
    tracker.status('failed');
    throw error;
  };

  const endWith = (result: DunningOutcome, summary: string): DunningResult => {
    outcome = result;
    refresh();
    tracker.step('ended', summary);
    tracker.next(undefined);
    tracker.status('completed');
    return { invoiceId, outcome: result, remindersSent, ...(finalActionTaken ? { finalAction: finalActionTaken } : {}) };
  };

  // Any failure from here on ends the flow visibly failed (state query, FlowStatus).
  return tracker.run(async () => {
    // The event may be late: read the invoice as it is now before doing anything.
    if (!invoice) {
      await condition(() => inbox.hasPending, '10 seconds'); // the starting event arrives with the start
      account = inbox.peek()[0]?.account;
      invoice = await readInvoice();
      tracker.record('read invoice', invoice.status);
    }
    const already = TERMINAL_BY_STATUS[invoice.status];
    if (already) return endWith(already, `Invoice ${invoiceId} was already ${invoice.status}; nothing to collect.`);
    tracker.status('waiting');

    for (;;) {
      await applyEvents();
      refresh();
      if (outcome) return endWith(outcome, `Invoice ${invoiceId} ended: ${outcome}.`);

      if (eventsSeen() - eventsAtRunStart >= policy.maxEventsPerRun) {
        await continueAsNew<typeof collectInvoicePayment>({
          objectId: invoiceId,
          ...(input.policy ? { policy: input.policy } : {}),
          carried: {
            startedAt,
            remindersSent,
            inbox: inbox.snapshot(),
            invoice,
            ...(account ? { account } : {}),
            done: tracker.state.done,
          },
        });
      }

      const reminder = policy.reminders[remindersSent];
      const dueAt = startedAt + (reminder ? reminder.afterDays : policy.finalActionAfterDays) * DAY;
      const action = reminder ? `send ${reminder.kind}` : `final action: ${policy.finalAction}`;
      tracker.next(action, dueAt);
      tracker.step('waiting_for_payment', `Waiting for payment of ${invoiceId}; next: ${action} at ${new Date(dueAt).toISOString()}`);
      if (await condition(() => inbox.hasPending, Math.max(0, dueAt - Date.now()))) continue;

      // Due: re-read first, the invoice may have changed without an event reaching us yet.
      invoice = await readInvoice();
      const ended = TERMINAL_BY_STATUS[invoice.status];
      if (ended) return endWith(ended, `Invoice ${invoiceId} is ${invoice.status}.`);

      if (reminder) {
        tracker.step('reminding', `Sending ${reminder.kind} for ${invoiceId}`);
        await notifying.notify(notice(reminder.kind, `notice-${remindersSent}-${reminder.kind}`));
        remindersSent++;
        tracker.record(`sent ${reminder.kind}`, `notice ${remindersSent} of ${policy.reminders.length}`);
        continue;
      }

      // Final action due. Never act while Stripe may still collect: wait for a scheduled retry.
      const retryAt = invoice.nextPaymentAttempt ? invoice.nextPaymentAttempt * 1000 : undefined;
      const waitLimit = startedAt + (policy.finalActionAfterDays + policy.maxWaitForStripeRetriesDays) * DAY;
      if (retryAt && retryAt > Date.now() && Date.now() < waitLimit) {
        const until = Math.min(retryAt + 60 * 60 * 1000, waitLimit);
        tracker.next('re-check after Stripe retry', until);
        tracker.step('waiting_for_payment', `Stripe retries ${invoiceId} at ${new Date(retryAt).toISOString()}; final action waits`);
        await condition(() => inbox.hasPending, Math.max(0, until - Date.now()));
        if (inbox.hasPending) continue;
        invoice = await readInvoice();
        const afterRetry = TERMINAL_BY_STATUS[invoice.status];
        if (afterRetry) return endWith(afterRetry, `Invoice ${invoiceId} is ${invoice.status}.`);
      }
      return await takeFinalAction();
    }

    async function takeFinalAction(): Promise<DunningResult> {
      const finalAction = policy.finalAction;
      tracker.step('taking_final_action', `Final action for ${invoiceId}: ${finalAction}`);
      tracker.status('acting');
      const key = idempotencyKeyFor(workflowId, `final-action:${finalAction}`);
      try {
        switch (finalAction) {
          case 'mark_uncollectible':
            invoice = await stripeWrite.markInvoiceUncollectible({ ...call(), idempotencyKey: key });
            break;
          case 'void':
            invoice = await stripeWrite.voidInvoice({ ...call(), idempotencyKey: key });
            break;
          case 'cancel_subscription': {
            if (!invoice?.subscriptionId) {
              throw ApplicationFailure.nonRetryable(
                `Invoice ${invoiceId} has no subscription, so the policy's final action cancel_subscription cannot apply; choose mark_uncollectible or void for one-off invoices.`,
                'FinalActionNotApplicable',
              );
            }
            await stripeWrite.cancelSubscription({
              subscriptionId: invoice.subscriptionId,
              ...(account ? { account } : {}),
              idempotencyKey: key,
            });
            break;
          }
          case 'none':
            break;
        }
      } catch (error) {
        // A 4xx may mean the invoice moved on (paid in the meantime): re-read before failing.
        if (error instanceof ActivityFailure || error instanceof ApplicationFailure) {
          invoice = await readInvoice();
          const moved = TERMINAL_BY_STATUS[invoice.status];
          if (moved) return endWith(moved, `Invoice ${invoiceId} is ${invoice.status}.`);
        }
        return failWith(`final action ${finalAction}`, error);
      }
      finalActionTaken = finalAction;
      tracker.record(`final action: ${finalAction}`);
      if (policy.notifyOperator) {
        await notifying.notify({
          ...notice(`final_action.${finalAction}`, `operator-final-action`),
          recipient: { role: 'operator', ...(invoice?.customerId ? { customerId: invoice.customerId } : {}) },
        });
      }
      return endWith(finalAction === 'none' ? 'left_open' : 'final_action_taken', `Dunning of ${invoiceId} ended by final action ${finalAction}.`);
    }
  });
}
