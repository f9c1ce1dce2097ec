// Payout failure: a connected account's payout failed (a `paid` payout can fail days later).
// Tell the account why, then follow the recovery: a new external account, and a later payout
// that is paid. Remind on the policy's schedule, escalate to the operator, stop after a while.
import { ApplicationFailure, condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { EventInbox, FlowTracker, idempotencyKeyFor, stripeEventSignal, type FlowEvent, activityProfiles, DAY, HOUR, policyFromInput } from '@stripe-flows/core/workflow';
import type { PayoutActivities } from '../activities/index.js';
import type { PayoutSnapshot } from '../schemas.js';
import { resolvePayoutFailurePolicy, type PayoutFailurePolicy } from './payout-policy.js';

const stripeRead = proxyActivities<PayoutActivities>(activityProfiles.stripeRead);
const notifying = proxyActivities<PayoutActivities>(activityProfiles.notify);

/** Same-second ties: paid → failed happens (a paid payout can fail later), failed → paid never does. */
export const payoutEventPrecedence: Readonly<Record<string, number>> = {
  'payout.paid': 1,
  'payout.failed': 2,
};

/** What the account should do, by Stripe's payout failure code. */
export const payoutFailureAdvice: Readonly<Record<string, string>> = {
  account_closed: 'The bank account is closed: add a new bank account.',
  account_frozen: 'The bank account is frozen: contact your bank or add a new bank account.',
  bank_account_restricted: 'The bank account does not accept this payout: add a different bank account.',
  bank_ownership_changed: 'The bank account changed owner: add the bank account again.',
  could_not_process: 'The bank could not process the payout: check the details or add a new bank account.',
  debit_not_authorized: 'The bank refused the transfer: contact your bank or add a new bank account.',
  declined: 'The bank declined the payout: contact your bank or add a new bank account.',
  incorrect_account_holder_name: 'The account holder name does not match: correct it or add a new bank account.',
  insufficient_funds: 'Your Stripe balance did not cover the payout.',
  invalid_account_number: 'The account number is invalid: add the bank account with the correct number.',
  invalid_currency: 'The bank account cannot receive this currency: add a bank account in this currency.',
  no_account: 'The bank account does not exist: add a correct bank account.',
  unsupported_card: 'The debit card does not accept payouts: add a bank account or another card.',
};

export type PayoutFailureOutcome = 'recovered' | 'unresolved' | 'not_failed';
export type PayoutFailureStep = 'reading_payout' | 'waiting_for_external_account' | 'waiting_for_payout' | 'ended';

export interface PayoutFailureDetails extends Record<string, unknown> {
  payoutId: string;
  account: string | null;
  failureCode: string | null;
  amount: number | null;
  currency: string | null;
  newExternalAccount: string | null;
  recoveredBy: string | null;
  remindersSent: number;
  escalated: boolean;
  outcome?: PayoutFailureOutcome;
}

export interface PayoutFailureInput {
  /** Payout id (`po_...`). */
  objectId: string;
  policy?: Partial<PayoutFailurePolicy>;
}

export interface PayoutFailureResult {
  payoutId: string;
  outcome: PayoutFailureOutcome;
  failureCode: string | null;
  recoveredBy: string | null;
  newExternalAccount: string | null;
  remindersSent: number;
}

export async function followPayoutFailure(input: PayoutFailureInput): Promise<PayoutFailureResult> {
  const policy: PayoutFailurePolicy = policyFromInput(resolvePayoutFailurePolicy, input.policy);
  const workflowId = workflowInfo().workflowId;
  const payoutId = input.objectId;
  const inbox = new EventInbox<PayoutSnapshot>({ precedence: payoutEventPrecedence });
  setHandler(stripeEventSignal, (event) => void inbox.offer(event as FlowEvent<PayoutSnapshot>));

  let account: string | undefined;
  let payout: PayoutSnapshot | undefined = undefined;
  let newExternalAccount: string | null = null;
  let recoveredBy: string | null = null;
  let remindersSent = 0;
  let escalated = false;
  let outcome: PayoutFailureOutcome | undefined;
  const details = (): PayoutFailureDetails => ({
    payoutId,
    account: account ?? null,
    failureCode: payout?.failureCode ?? null,
    amount: payout?.amount ?? null,
    currency: payout?.currency ?? null,
    newExternalAccount,
    recoveredBy,
    remindersSent,
    escalated,
    ...(outcome ? { outcome } : {}),
  });
  const tracker = new FlowTracker<PayoutFailureStep, PayoutFailureDetails>(inbox, { step: 'reading_payout', details: details() });
  // Any failure from here on ends the flow visibly failed (state query, FlowStatus).
  return tracker.run(async () => {
    const refresh = () => void (tracker.state.details = details());

    const applyEvents = (): void => {
      for (let event = inbox.next(); event; event = inbox.next()) {
        account ??= event.account;
        tracker.applied(event.type);
        tracker.record(`event ${event.type}`, event.id);
      }
    };
    const end = (result: PayoutFailureOutcome, summary: string): PayoutFailureResult => {
      outcome = result;
      refresh();
      tracker.step('ended', summary);
      tracker.next(undefined);
      tracker.status('completed');
      return { payoutId, outcome: result, failureCode: payout?.failureCode ?? null, recoveredBy, newExternalAccount, remindersSent };
    };

    await condition(() => inbox.hasPending, '10 seconds'); // the starting event arrives with the start
    applyEvents();
    if (!account) {
      throw ApplicationFailure.nonRetryable(`Payout ${payoutId} reached the Connect payout flow without event.account; only connected accounts' payouts are followed.`, 'connect.not_a_connected_account');
    }
    const acct = account;
    // The event may be late or stale: read the payout as the account sees it now.
    payout = await stripeRead.retrievePayout({ payoutId, account: acct });
    refresh();
    if (payout.status !== 'failed') return end('not_failed', `Payout ${payoutId} is ${payout.status}, not failed; nothing to follow.`);
    const failed = payout;
    const failedAt = Date.now();
    const known = new Set((await stripeRead.listExternalAccounts({ account: acct })).map((e) => e.id));
    const data = {
      payoutId,
      accountId: acct,
      failureCode: failed.failureCode,
      advice: payoutFailureAdvice[failed.failureCode ?? ''] ?? 'Check your payout details in your Stripe Dashboard.',
      amount: failed.amount,
      currency: failed.currency,
      externalAccount: failed.destination,
      automaticPayouts: failed.automatic,
    };
    const recipient = { role: 'account' as const, accountId: acct };
    const operator = { role: 'operator' as const, accountId: acct };
    await notifying.notify({ kind: 'connect.payout.failed', recipient, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, 'failed'), data });
    if (policy.notifyOperator) {
      await notifying.notify({ kind: 'connect.payout.failed', recipient: operator, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, 'failed-operator'), data });
    }
    tracker.record(`told ${acct} payout failed`, failed.failureCode ?? 'no failure code');
    tracker.status('waiting');

    // Checks on a fixed grid from the failure, so they do not drift with activity time.
    let checks = 0;
    for (let nextCheck = failedAt + policy.checkEveryHours * HOUR; ; ) {
      refresh();
      const reminderDay = newExternalAccount ? undefined : policy.remindAfterDays[remindersSent];
      const remindAt = reminderDay !== undefined ? failedAt + reminderDay * DAY : Infinity;
      const escalateAt = escalated ? Infinity : failedAt + policy.escalateAfterDays * DAY;
      const giveUpAt = failedAt + policy.giveUpAfterDays * DAY;
      const at = Math.min(nextCheck, remindAt, escalateAt, giveUpAt);
      const waitingFor = newExternalAccount ? 'waiting_for_payout' : 'waiting_for_external_account';
      tracker.next(at === giveUpAt ? 'stop following' : at === escalateAt ? 'tell the operator' : at === remindAt ? 'remind the account' : 'look for a new external account or a paid payout', at);
      tracker.step(waitingFor, newExternalAccount ? `New external account ${newExternalAccount}; waiting for a paid payout` : `Waiting for ${acct} to add an external account`);
      if (await condition(() => inbox.hasPending, Math.max(0, at - Date.now()))) {
        applyEvents(); // redeliveries and stale payout.paid: nothing changes the failure
        continue;
      }
      if (Date.now() >= nextCheck) {
        checks++;
        nextCheck = failedAt + (checks + 1) * policy.checkEveryHours * HOUR;
        const paid = await stripeRead.listPaidPayoutsSince({ account: acct, createdAfter: failed.created });
        const later = paid.find((p) => p.id !== payoutId);
        if (later) {
          recoveredBy = later.id;
          tracker.record('later payout paid', later.id);
          await notifying.notify({ kind: 'connect.payout.recovered', recipient: operator, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, 'recovered'), data: { ...data, recoveredBy: later.id } });
          return end('recovered', `Payout ${later.id} was paid after ${payoutId} failed.`);
        }
        if (!newExternalAccount) {
          const added = (await stripeRead.listExternalAccounts({ account: acct })).find((e) => !known.has(e.id) && e.status !== 'errored');
          if (added) {
            newExternalAccount = added.id;
            tracker.record('new external account', `${added.kind} ending ${added.last4 ?? '?'}`);
            await notifying.notify({
              kind: 'connect.payout.external_account_added',
              recipient: failed.automatic ? recipient : operator,
              workflowId,
              idempotencyKey: idempotencyKeyFor(workflowId, 'external-account-added'),
              // Automatic payouts pick the funds up on schedule; manual ones need the platform to pay out again.
              data: { ...data, newExternalAccount: added.id, newExternalAccountLast4: added.last4, nextStep: failed.automatic ? 'next scheduled payout' : 'create a new payout' },
            });
          }
        }
        continue;
      }
      if (Date.now() >= giveUpAt) {
        await notifying.notify({ kind: 'connect.payout.unresolved', recipient: operator, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, 'unresolved'), data: { ...data, newExternalAccount } });
        return end('unresolved', `No paid payout for ${acct} within ${policy.giveUpAfterDays} days of ${payoutId} failing.`);
      }
      if (Date.now() >= escalateAt) {
        escalated = true;
        await notifying.notify({ kind: 'connect.payout.escalated', recipient: operator, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, 'escalated'), data: { ...data, newExternalAccount } });
        tracker.record('escalated to operator');
        continue;
      }
      remindersSent++;
      await notifying.notify({ kind: 'connect.payout.reminder', recipient, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, `reminder-${remindersSent}`), data });
      tracker.record('reminded account', `reminder ${remindersSent}`);
    }
  });
}
